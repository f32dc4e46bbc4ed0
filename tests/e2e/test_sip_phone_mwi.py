"""Message-waiting NOTIFY to an IP phone through the daemon (RFC 3842): sipp registers as
``[[sip_user]]`` 110 (digest auth) and stays registered; handset 101 calls 110, which is
on do-not-disturb with a mailbox, so the call goes straight to the mailbox and leaves a
message; sipp gets an unsolicited NOTIFY with ``Messages-Waiting: yes`` and
``Voice-Message: 1/0`` and answers 200 (its out-of-call scenario), which the box sees.
Deleting the message sends ``Messages-Waiting: no``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import Daemon, free_port, sine
from tests.e2e.peers import LOCALHOST, Peers, SipMessage, Sipp, box_config
from tests.e2e.test_sip_phones import PASSWORD, PHONE, RawPhone, contacts

pytestmark = pytest.mark.slow

CONFIG = (box_config(fxs=[{"port": 1, "extension": "101", "name": "Reception"}])
          + "\n" + PHONE + "voicemail = true\ndnd = true\n"
          + "\n[dialplan]\ninterdigit_s = 2\n")


def notifies(phone: Sipp) -> list[SipMessage]:
    return [m for m in phone.received("NOTIFY")]


def wait_notify(box: Daemon, phone: Sipp, count: int, what: str) -> SipMessage:
    box.wait_for(what, lambda: len(notifies(phone)) >= count, timeout=10)
    return notifies(phone)[count - 1]


def test_a_message_left_lights_the_phone_and_deleting_it_puts_it_out(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    box = daemon_factory(CONFIG)
    assert box.call("status")["sip"]["mwi"]["state"] == "on", box.log()[-3000:]
    port = free_port()
    phone = peers.sipp(["-sf", str(peers.scenario("uac_phone_register", user="110",
                                                  password=PASSWORD, hold_ms=60000)),
                        "-oocsf", str(peers.scenario("ooc_notify")),
                        f"{LOCALHOST}:{box.sip_port}", "-i", LOCALHOST, "-p", str(port),
                        "-m", "1"], name="sipp-phone")
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    # Registered afresh: it is told the (empty) mailbox at once.
    first = wait_notify(box, phone, 1, "the NOTIFY on registration")
    assert first.request_uri == f"sip:110@{LOCALHOST}:{port}"
    assert first.header("Event") == "message-summary"
    assert first.header("Content-Type") == "application/simple-message-summary"
    assert "Messages-Waiting: no" in first.body and "Voice-Message: 0/0" in first.body

    [message] = leave_a_message(box)
    lit = wait_notify(box, phone, 2, "the NOTIFY for the new message")
    assert "Messages-Waiting: yes" in lit.body, lit
    assert "Voice-Message: 1/0" in lit.body, lit
    assert lit.header("Call-ID") != first.header("Call-ID")

    box.call("voicemail.delete", extension="110", uid=message["uid"])
    out = wait_notify(box, phone, 3, "the NOTIFY after the delete")
    assert "Messages-Waiting: no" in out.body and "Voice-Message: 0/0" in out.body
    sent_ok = [m for m in phone.messages() if m.direction == "out" and m.status == 200
               and m.cseq_method == "NOTIFY"]
    assert len(sent_ok) == 3, "sipp answered every NOTIFY"
    mwi = box.wait_for("the box to see the answers",
                       lambda: (s := box.call("status")["sip"]["mwi"])["answered"] >= 3 and s,
                       timeout=5)
    assert mwi["sent"] == 3 and mwi["not_answering"] == [], mwi
    # Only the registered contact was ever sent one.
    assert len(notifies(phone)) == 3


def test_a_phone_that_does_not_answer_gets_one_notify_and_nothing_waits(
        daemon_factory: Callable[..., Daemon]) -> None:
    """A contact that never answers its NOTIFY: it is sent once (no retransmission), and
    the box goes on answering."""
    box = daemon_factory(CONFIG)
    phone = RawPhone(box.sip_port)
    try:
        ok = phone.register(PASSWORD)
        assert ok is not None and ok[0] == 200, ok
        notify = phone.receive(5.0)
        assert notify is not None and notify.startswith("NOTIFY "), notify
        assert "Messages-Waiting: no" in notify
        assert phone.receive(3.0) is None, "the NOTIFY was sent again"
        again = phone.register(PASSWORD)  # a refresh: same Call-ID, no new NOTIFY
        assert again is not None and again[0] == 200, again
        assert phone.receive(1.5) is None
        mwi = box.call("status")["sip"]["mwi"]
        assert (mwi["sent"], mwi["answered"]) == (1, 0), mwi
    finally:
        phone.close()


def test_a_phone_that_subscribes_gets_the_summary_in_its_subscription(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """sipp registers as 110, then SUBSCRIBEs to message-summary (digest, 401 first; pjsua
    alone would answer 489): 200, a NOTIFY in the subscription's dialog at once, one when
    a message is left and one when it is deleted, and no unsolicited one beside them;
    then sipp ends the subscription and gets the last NOTIFY, ``terminated``."""
    box = daemon_factory(CONFIG)
    port = free_port()
    phone = peers.sipp(["-sf", str(peers.scenario("uac_phone_subscribe", user="110",
                                                  password=PASSWORD)),
                        "-oocsf", str(peers.scenario("ooc_notify")),
                        f"{LOCALHOST}:{box.sip_port}", "-i", LOCALHOST, "-p", str(port),
                        "-m", "1"], name="sipp-subscriber")

    def in_dialog(count: int, what: str) -> SipMessage:
        def found() -> list[SipMessage]:
            oks = [m for m in phone.received(200) if m.cseq_method == "SUBSCRIBE"]
            dialog = oks[0].header("Call-ID") if oks else None
            return [m for m in notifies(phone) if dialog and m.header("Call-ID") == dialog]
        box.wait_for(what, lambda: len(found()) >= count, timeout=10)
        return found()[count - 1]

    first = in_dialog(1, "the subscription's first NOTIFY")
    ok = next(m for m in phone.received(200) if m.cseq_method == "SUBSCRIBE")
    assert ok.header("Expires") == "3600" and ok.header("Contact")
    assert first.header("From") == ok.header("To"), "the box's tag"
    assert (first.header("Subscription-State") or "").startswith("active;expires=")
    assert "Messages-Waiting: no" in first.body
    unsolicited = len(notifies(phone)) - 1  # the registration's, before the SUBSCRIBE

    leave_a_message(box)
    lit = in_dialog(2, "the NOTIFY for the new message")
    assert "Messages-Waiting: yes" in lit.body and "Voice-Message: 1/0" in lit.body, lit
    [message] = box.call("voicemail.list", extension="110")["messages"]
    box.call("voicemail.delete", extension="110", uid=message["uid"])
    out = in_dialog(3, "the NOTIFY after the delete")
    assert "Messages-Waiting: no" in out.body
    last = in_dialog(4, "the NOTIFY ending the subscription")
    assert last.header("Subscription-State") == "terminated"
    assert phone.wait(10) == 0, phone.describe()
    assert len(notifies(phone)) == 4 + unsolicited <= 5, "an unsolicited NOTIFY beside them"
    assert box.call("status")["sip"]["mwi"]["subscriptions"] == []


def leave_a_message(box: Daemon) -> list[dict[str, Any]]:
    """Handset 101 calls 110 (on do-not-disturb: straight to its mailbox) and speaks; the
    mailbox's messages once the new one is there."""
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("the recording to start",
                 lambda: "recording a message for mailbox 110" in box.log(), timeout=30)
    box.speak(1, sine(700.0, 2.0))
    time.sleep(2.5)
    box.phone(1, "onhook")
    messages: list[dict[str, Any]] = box.wait_for(
        "the message", lambda: box.call("voicemail.list", extension="110")["messages"],
        timeout=8)
    return messages
