"""An IP phone's forwarding, do-not-disturb and mailbox through the daemon: baresip
registers as ``[[sip_user]]`` 110 and dials the star codes (an INVITE to ``*72102``...);
a handset's call to 110 then rings handset 102 instead, or hears busy while 110 is on
do-not-disturb; a forward set in the configuration is followed too. A call the phone does
not answer leaves a message in its mailbox, which the phone then hears by dialling ``*98``
and keying ``1`` (RFC 4733)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from firmware.app.status_text import format_status
from tests.e2e.harness import Daemon, dominant_hz, sine, tones_in
from tests.e2e.peers import Baresip, Peers, box_config
from tests.e2e.test_sip_phones import PHONE, contacts, phone_account

pytestmark = pytest.mark.slow

HANDSETS = [{"port": 1, "extension": "101", "name": "Reception"},
            {"port": 2, "extension": "102", "name": "Office"},
            {"port": 3, "extension": "103", "name": "Store"}]


def config(phone_keys: str = "") -> str:
    """Two handsets and the phone 110 with ``phone_keys`` added to its [[sip_user]]."""
    return (box_config(fxs=HANDSETS) + "\n" + PHONE + phone_keys
            + "\n[dialplan]\ninterdigit_s = 2\n")


def forwarding(box: Daemon) -> str:
    return format_status(box.call("status"))


def more_events(bare: Baresip, kind: str, than: int, what: str, timeout: float = 10.0) -> None:
    """Wait until baresip has told more than ``than`` events of ``kind``."""
    deadline = time.monotonic() + timeout
    while len(bare.ctrl.events_of(kind)) <= than:
        assert time.monotonic() < deadline, f"baresip: no {what} in {timeout} s"
        time.sleep(0.1)


def phone_dials(bare: Baresip, number: str) -> None:
    """The phone dials ``number``; a star code's call ends at once (no answer)."""
    closed = len(bare.ctrl.events_of("CALL_CLOSED"))
    assert bare.ctrl.command("dial", number)["ok"]
    more_events(bare, "CALL_CLOSED", closed, f"end of the code call {number}")


def hang_up(box: Daemon, port: int) -> None:
    box.phone(port, "onhook")
    time.sleep(1.2)  # longer than a hook flash


def test_star_codes_from_the_phone(daemon_factory: Callable[..., Daemon],
                                   peers: Peers) -> None:
    box = daemon_factory(config())
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)

    phone_dials(bare, "*72102")
    box.wait_for("the forward", lambda: "110: forward always to 102" in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("102 to ring instead of 110", lambda: box.port("fxs2")["ringing"], timeout=8)
    shown = box.wait_for("caller ID at 102",
                         lambda: (s := box.phone_status(2))["caller_id"] and s, timeout=8)
    assert shown["caller_id"]["number"] == "101"
    assert not [e for e in bare.ctrl.events_of("CALL_INCOMING")], "the phone rang"
    hang_up(box, 1)
    box.wait_for("102 to stop ringing", lambda: not box.port("fxs2")["ringing"], timeout=8)

    phone_dials(bare, "*73")
    box.wait_for("no forward", lambda: "110: forward" not in forwarding(box), timeout=5)
    phone_dials(bare, "*78")
    box.wait_for("do not disturb", lambda: "110: do not disturb" in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("busy tone for 101", lambda: "busy" in tones_in(box.hear(1, 2.0)),
                 timeout=10)
    hang_up(box, 1)
    assert not bare.ctrl.events_of("CALL_INCOMING"), "the phone rang on do-not-disturb"
    box.wait_for("the record of the refused call",
                 lambda: "do not disturb" in str(box.call("calls", limit=3)), timeout=5)

    phone_dials(bare, "*79")
    box.wait_for("do not disturb off", lambda: "110: do not disturb" not in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("the phone to answer", lambda: box.port("fxs1")["exchange_state"]
                 == "connected", timeout=10)  # baresip answers by itself
    hang_up(box, 1)


def test_forward_busy_from_the_configuration(daemon_factory: Callable[..., Daemon],
                                             peers: Peers) -> None:
    box = daemon_factory(config('forward_busy = "103"\n'))
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    # The phone calls 101, who answers: 110 is in a call.
    assert bare.ctrl.command("dial", "101")["ok"]
    box.wait_for("101 to ring", lambda: box.port("fxs1")["ringing"], timeout=8)
    box.phone(1, "offhook")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    box.phone(2, "offhook")
    box.dial(2, "110")
    box.wait_for("103 to ring for the busy phone", lambda: box.port("fxs3")["ringing"],
                 timeout=10)
    assert len(bare.ctrl.events_of("CALL_INCOMING")) == 0, "the busy phone was offered it"
    box.phone(3, "offhook")
    box.wait_for("102 and 103 to talk", lambda: box.port("fxs2")["exchange_state"]
                 == "connected", timeout=5)
    hang_up(box, 2)
    hang_up(box, 3)
    hang_up(box, 1)


TONE_HZ = 700.0


def test_an_unanswered_call_leaves_a_message_the_phone_hears(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    box = daemon_factory(config("voicemail = true\nvoicemail_after_s = 3\n"))
    account = phone_account(box).replace("answermode=auto", "answermode=manual")
    bare = peers.baresip(tone_hz=440, account=account)
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)

    box.phone(1, "offhook")
    box.dial(1, "110")
    bare.ctrl.wait_event("CALL_INCOMING", timeout=10)  # it rings; nobody answers
    box.wait_for("the greeting to end and the recording to start",
                 lambda: "recording a message for mailbox 110" in box.log(), timeout=30)
    bare.ctrl.wait_event("CALL_CLOSED", timeout=5)  # the phone stopped ringing
    box.speak(1, sine(TONE_HZ, 2.5))
    time.sleep(3.0)
    hang_up(box, 1)
    folder = box.state / "voicemail" / "110"
    box.wait_for("the message to be kept", lambda: list(folder.glob("2*.json")), timeout=5)
    listed = box.call("voicemail.list", extension="110")["messages"]
    assert [m["caller_number"] for m in listed] == ["101"]
    assert "110: 1 new, 0 heard" in format_status(box.call("status"))

    established = len(bare.ctrl.events_of("CALL_ESTABLISHED"))
    assert bare.ctrl.command("dial", "*98")["ok"]
    more_events(bare, "CALL_ESTABLISHED", established, "answer from the mailbox")
    box.wait_for("the mailbox to open", lambda: "mailbox 110 opened" in box.log(), timeout=8)
    time.sleep(1.0)
    bare.ctrl.command("sndcode", "1")  # play the message
    box.wait_for("the message to be marked heard",
                 lambda: "110: 0 new, 1 heard" in format_status(box.call("status")),
                 timeout=8)
    time.sleep(4.0)
    closed = len(bare.ctrl.events_of("CALL_CLOSED"))
    bare.ctrl.command("hangup")
    more_events(bare, "CALL_CLOSED", closed, "end of the mailbox call")
    samples, rate = bare.heard()
    step = rate // 2  # half-second windows: the message's steady tone fills three running
    windows = [samples[i:i + step] for i in range(0, len(samples) - step, step)]
    steady = [abs(dominant_hz(w, rate) - TONE_HZ) < 15 for w in windows]
    assert any(all(steady[i:i + 3]) for i in range(len(steady) - 2)), \
        "the phone did not hear the message"
