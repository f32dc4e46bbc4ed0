"""Message-waiting NOTIFY to IP phones (firmware/sip/mwi.py) on a fake clock and sender:
the RFC 3842 body, when a NOTIFY goes and to whom, and what happens when nobody answers.
The registrar's fresh contacts (which start a NOTIFY on registration) are here too."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import pytest

from firmware.sip.digest import DigestAuth, answer
from firmware.sip.message import header
from firmware.sip.mwi import ANSWER_WAIT_S, Local, MwiNotifier, Summary, notify_text
from firmware.sip.mwisend import RawSender
from firmware.sip.mwisub import Subscription
from firmware.sip.registrar import Binding, PhoneAccount, Registrar, Reply

PHONE = ("192.168.1.50", 5062)
BOX = Local("udp", "192.168.1.2", 5060)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def registrar() -> Registrar:
    reg = Registrar(DigestAuth("minipbx", b"k" * 32))
    reg.set_accounts([PhoneAccount("110", "s3cret", max_contacts=3),
                      PhoneAccount("111", "other")])
    return reg


def register(reg: Registrar, contact: str, now: float, call_id: str = "boot-1",
             source: tuple[str, int] = PHONE, ext: str = "110",
             password: str = "s3cret") -> tuple[str, tuple[str, ...]] | None:
    def text(auth: str | None) -> str:
        lines = ["REGISTER sip:box SIP/2.0", "Via: SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKx",
                 f"From: <sip:{ext}@box>;tag=1", f"To: <sip:{ext}@box>", f"Call-ID: {call_id}",
                 "CSeq: 1 REGISTER", f"Contact: <{contact}>", "Expires: 600"]
        return "\r\n".join(lines + ([f"Authorization: {auth}"] if auth else [])) + "\r\n\r\n"

    first = reg.register(text(None), source, "udp", now)
    assert first.code == 401 and first.fresh is None
    auth = answer("REGISTER", "sip:box", dict(first.headers)["WWW-Authenticate"], ext,
                  password)
    reply = reg.register(text(auth), source, "udp", now)
    assert reply.code == 200
    return reply.fresh


class Rig:
    def __init__(self, sent_ok: bool = True) -> None:
        self.clock = Clock()
        self.reg = registrar()
        self.sent: list[tuple[str, bytes]] = []
        self.sent_ok = sent_ok
        self.mwi = MwiNotifier(self.reg, self.send, self.local, self.clock)

    def send(self, uri: str, data: bytes) -> bool:
        self.sent.append((uri, data))
        return self.sent_ok

    @staticmethod
    def local(kind: str) -> Local | None:
        return BOX if kind == "udp" else None

    def texts(self) -> list[str]:
        return [data.decode() for _, data in self.sent]


def test_the_body_is_rfc_3842_simple_message_summary() -> None:
    assert Summary(2, 5).body("sip:110@box") == (
        "Messages-Waiting: yes\r\nMessage-Account: sip:110@box\r\n"
        "Voice-Message: 2/5 (0/0)\r\n")
    assert Summary(0, 3).body("sip:110@box").startswith("Messages-Waiting: no\r\n")


def test_the_notify_goes_to_the_contact_with_event_and_length() -> None:
    binding = Binding("sip:110@10.0.0.9:5062;line=abc", PHONE, "udp", 700.0, 100.0)
    text = notify_text(binding, "110", BOX, Summary(1, 0), "mwi-x-1", 1, "t4g").decode()
    head, body = text.split("\r\n\r\n", 1)
    assert head.startswith("NOTIFY sip:110@10.0.0.9:5062;line=abc SIP/2.0\r\n")
    assert header(text, "Event") == "message-summary"
    assert header(text, "Subscription-State") == "active"
    assert header(text, "Content-Type") == "application/simple-message-summary"
    assert header(text, "Content-Length") == str(len(body.encode()))
    assert header(text, "Via") == "SIP/2.0/UDP 192.168.1.2:5060;rport;branch=z9hG4bK-t4g-1"
    assert header(text, "To") == "<sip:110@192.168.1.2:5060>"
    assert header(text, "CSeq") == "1 NOTIFY" and header(text, "Call-ID") == "mwi-x-1"
    assert "Messages-Waiting: yes\r\n" in body and "Voice-Message: 1/0 (0/0)" in body


def test_a_change_notifies_every_live_contact_at_its_register_source() -> None:
    rig = Rig()
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    register(rig.reg, "sip:110@10.0.0.9:5070", 100.0, source=("192.168.1.51", 5070))
    assert rig.mwi.update("110", 1, 0) == 2
    targets = sorted(uri for uri, _ in rig.sent)
    assert targets == ["sip:110@192.168.1.50:5062", "sip:110@192.168.1.51:5070"]
    assert all("Voice-Message: 1/0" in t for t in rig.texts())
    assert rig.mwi.update("110", 1, 0) == 0, "no change, nothing sent"
    assert rig.mwi.update("110", 1, 0, force=True) == 2, "the refresh sends again"
    assert rig.mwi.update("110", 0, 1) == 2
    assert "Messages-Waiting: no" in rig.texts()[-1]
    call_ids = {header(t, "Call-ID") for t in rig.texts()}
    assert len(call_ids) == len(rig.sent), "each NOTIFY is its own transaction"


def test_only_registered_contacts_of_that_extension_get_it() -> None:
    rig = Rig()
    register(rig.reg, "sip:111@10.0.0.7", 100.0, ext="111", password="other",
             source=("192.168.1.77", 5060))
    assert rig.mwi.update("110", 1, 0) == 0, "110 has no contact"
    assert rig.mwi.update("999", 1, 0) == 0, "no such account"
    assert rig.sent == []
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    rig.clock.now = 100.0 + 601  # expired
    assert rig.mwi.update("110", 2, 0) == 0
    assert rig.sent == []


def test_a_fresh_registration_gets_the_state_but_a_refresh_does_not() -> None:
    rig = Rig()
    rig.mwi.update("110", 3, 1)  # nobody registered yet
    assert rig.sent == []
    fresh = register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    assert fresh == ("110", ("sip:110@10.0.0.9:5062",))
    assert rig.mwi.registered(*fresh) == 1
    assert "Voice-Message: 3/1" in rig.texts()[-1]
    assert register(rig.reg, "sip:110@10.0.0.9:5062", 200.0) is None, "a refresh"
    # The phone restarted: the same contact with a new Call-ID is fresh again.
    assert register(rig.reg, "sip:110@10.0.0.9:5062", 300.0, call_id="boot-2") == fresh
    # A second phone on the account: only the new contact is told.
    second = register(rig.reg, "sip:110@10.0.0.8", 300.0, source=("192.168.1.51", 5060))
    assert second == ("110", ("sip:110@10.0.0.8",))
    rig.sent.clear()
    assert rig.mwi.registered(*second) == 1
    assert rig.sent[0][0] == "sip:110@192.168.1.51:5060"


def test_no_mailbox_no_notify_on_registration() -> None:
    rig = Rig()
    fresh = register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    assert fresh is not None and rig.mwi.registered(*fresh) == 0
    rig.mwi.update("110", 1, 0)
    rig.mwi.forget("110")
    rig.sent.clear()
    assert rig.mwi.registered(*fresh) == 0 and rig.sent == []


def test_off_sends_nothing() -> None:
    rig = Rig()
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    rig.mwi.enabled = False
    assert rig.mwi.update("110", 1, 0) == 0 and rig.sent == []


def test_a_silent_contact_is_logged_once_and_not_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    caplog.set_level(logging.INFO, logger="firmware.sip.mwi")
    rig.mwi.update("110", 1, 0)
    rig.clock.now += ANSWER_WAIT_S - 1
    assert len(rig.sent) == 1, "nothing is retransmitted while waiting"
    for new in range(2, 6):
        rig.clock.now += ANSWER_WAIT_S
        rig.mwi.update("110", new, 0)
    assert len(rig.sent) == 5, "one NOTIFY per change, no more"
    silent = [r for r in caplog.records if "did not answer" in r.getMessage()]
    assert len(silent) == 1 and "192.168.1.50:5062" in silent[0].getMessage()
    assert rig.mwi.status()["not_answering"] == ["sip:110@192.168.1.50:5062"]
    # It answers again: logged, and a later silence is reported anew.
    last = header(rig.texts()[-1], "Call-ID") or ""
    assert rig.mwi.answered(last, 200)
    assert rig.mwi.status()["not_answering"] == []
    assert any("answers its message-waiting NOTIFY again" in r.getMessage()
               for r in caplog.records)


def test_answers_are_matched_by_call_id_and_refusals_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    rig.mwi.update("110", 1, 0)
    first = header(rig.texts()[-1], "Call-ID") or ""
    assert not rig.mwi.answered("someone-elses-call", 200)
    assert rig.mwi.answered(first, 200)
    assert not rig.mwi.answered(first, 200), "answered once"
    for new in (2, 3):
        rig.mwi.update("110", new, 0)
        assert rig.mwi.answered(header(rig.texts()[-1], "Call-ID") or "", 489)
    refused = [r for r in caplog.records if "refused it with 489" in r.getMessage()]
    assert len(refused) == 1


def test_a_send_that_fails_is_not_counted_and_waits_for_no_answer() -> None:
    rig = Rig(sent_ok=False)
    register(rig.reg, "sip:110@10.0.0.9:5062", 100.0)
    assert rig.mwi.update("110", 1, 0) == 0
    assert len(rig.sent) == 1 and rig.mwi.status()["sent"] == 0


# --- subscriptions (firmware/sip/mwisub.py) ----------------------------------------------
def subscribe_text(call_id: str = "sub-1", to_tag: str = "", expires: int | None = 600,
                   auth: str | None = None, event: str = "message-summary",
                   ext: str = "110", cseq: int = 1) -> str:
    lines = ["SUBSCRIBE sip:110@box SIP/2.0",
             f"Via: SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKsub{cseq}",
             f"From: <sip:{ext}@box>;tag=ph1",
             f"To: <sip:{ext}@box>" + (f";tag={to_tag}" if to_tag else ""),
             f"Call-ID: {call_id}", f"CSeq: {cseq} SUBSCRIBE",
             "Contact: <sip:110@10.0.0.9:5062>", f"Event: {event}", "Accept: "
             "application/simple-message-summary"]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if auth:
        lines.append(f"Authorization: {auth}")
    return "\r\n".join(lines) + "\r\n\r\n"


def subscribed(rig: Rig, password: str = "s3cret", **kw: Any
               ) -> tuple[Reply, Subscription | None]:
    first, sub = rig.mwi.subscribe(subscribe_text(**kw), PHONE, "udp", rig.clock.now)
    assert first is not None and first.code == 401 and sub is None
    auth = answer("SUBSCRIBE", "sip:110@box", dict(first.headers)["WWW-Authenticate"], "110",
                  password)
    reply, sub = rig.mwi.subscribe(subscribe_text(auth=auth, **kw), PHONE, "udp",
                                   rig.clock.now)
    assert reply is not None
    return reply, sub


def test_a_subscribe_is_authenticated_then_notified_in_its_dialog() -> None:
    rig = Rig()
    rig.mwi.update("110", 2, 1)
    register(rig.reg, "sip:110@10.0.0.9:5062", rig.clock.now)
    reply, sub = subscribed(rig)
    assert reply.code == 200 and sub is not None
    assert dict(reply.headers) == {"Expires": "600", "Contact": "<sip:110@192.168.1.2:5060>"}
    assert rig.mwi.notify_subscription(sub)
    [(target, data)] = rig.sent
    text = data.decode()
    assert target == "sip:110@192.168.1.50:5062", "to the Contact, at the SUBSCRIBE's source"
    assert text.startswith("NOTIFY sip:110@10.0.0.9:5062 SIP/2.0\r\n")
    assert header(text, "Call-ID") == "sub-1"
    assert header(text, "From") == "<sip:110@box>;tag=z9hG4bKsub1", "pjsip's To tag: the branch"
    assert header(text, "To") == "<sip:110@box>;tag=ph1"
    assert header(text, "Subscription-State") == "active;expires=600"
    assert "Voice-Message: 2/1" in text
    # A change goes to the subscription, and not a second time unsolicited to the same
    # phone's registration.
    rig.sent.clear()
    assert rig.mwi.update("110", 3, 1) == 1
    [(_, data)] = rig.sent
    assert header(data.decode(), "Call-ID") == "sub-1" and header(data.decode(), "CSeq") == \
        "2 NOTIFY"
    # The registration gone, the subscription gets nothing (never an unregistered address).
    rig.clock.now += 601
    rig.sent.clear()
    assert not rig.mwi.notify_subscription(sub) and rig.sent == []


def test_wrong_password_event_or_mailbox_are_not_subscribed() -> None:
    rig = Rig()
    assert rig.mwi.subscribe(subscribe_text(), PHONE, "udp", 100.0) == (None, None), \
        "no mailbox: left to pjsua (489)"
    rig.mwi.update("110", 0, 0)
    assert rig.mwi.subscribe(subscribe_text(event="presence"), PHONE, "udp", 100.0) == \
        (None, None)
    first, _ = rig.mwi.subscribe(subscribe_text(), PHONE, "udp", 100.0)
    assert first is not None and first.code == 401
    auth = answer("SUBSCRIBE", "sip:110@box", dict(first.headers)["WWW-Authenticate"], "110",
                  "wrong")
    bad, sub = rig.mwi.subscribe(subscribe_text(auth=auth), PHONE, "udp", 100.0)
    assert bad is not None and bad.code == 401 and bad.failed_login and sub is None
    not_registered, sub = subscribed(rig)
    assert not_registered.code == 403 and sub is None and not not_registered.failed_login


def test_refresh_unsubscribe_expiry_and_481() -> None:
    rig = Rig()
    rig.mwi.update("110", 1, 0)
    register(rig.reg, "sip:110@10.0.0.9:5062", rig.clock.now)
    _, sub = subscribed(rig)
    tag = "z9hG4bKsub1"
    again, same = subscribed(rig, to_tag=tag, cseq=2, expires=900)
    assert again.code == 200 and same is sub
    assert dict(again.headers)["Expires"] == "900"
    unknown, none = subscribed(rig, to_tag="nope", cseq=3)
    assert unknown.code == 481 and none is None
    brief, _ = subscribed(rig, call_id="sub-2", expires=5)
    assert brief.code == 423
    # Ended by the phone: a last NOTIFY says terminated.
    end, last = subscribed(rig, to_tag=tag, cseq=4, expires=0)
    assert end.code == 200 and last is sub and last is not None
    rig.sent.clear()
    assert rig.mwi.notify_subscription(last)
    assert "terminated" in (header(rig.texts()[-1], "Subscription-State") or "")
    # Ended, the phone's registration is told unsolicited again, outside that dialog.
    assert rig.mwi.update("110", 2, 0) == 1
    assert (header(rig.texts()[-1], "Call-ID") or "").startswith("mwi-")
    # Expiry, and a 481 to a NOTIFY, both forget a subscription.
    _, sub = subscribed(rig, call_id="sub-3")
    rig.clock.now += 601
    assert rig.mwi.subscriptions.live("110", rig.clock.now) == []
    register(rig.reg, "sip:110@10.0.0.9:5062", rig.clock.now, call_id="boot-2")
    _, sub = subscribed(rig, call_id="sub-4")
    assert sub is not None and rig.mwi.notify_subscription(sub)
    assert rig.mwi.answered("sub-4", 481)
    assert rig.mwi.subscriptions.live("110", rig.clock.now) == []


# --- the sender's start-up self-check (firmware/sip/mwisend.py) on a fake pjsip ----------
class FakePjsip:
    """pjsip's two calls: ``deliver`` says whether the raw send really goes out."""

    def __init__(self, deliver: bool, mangle: bool = False) -> None:
        self.deliver, self.mangle = deliver, mangle

    def pjsua_get_pjsip_endpt(self) -> int:
        return 1

    def pjsip_endpt_send_raw_to_uri(self, endpt: int, dest: Any, sel: None, data: bytes,
                                    size: int, token: int, callback: int) -> int:
        uri = dest._obj.ptr.decode()  # sip:probe@127.0.0.1:PORT
        if self.deliver:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(data[:-1] if self.mangle else data,
                            ("127.0.0.1", int(uri.rsplit(":", 1)[1])))
        return 0


@pytest.mark.parametrize(("deliver", "mangle", "state"), [
    (True, False, "on"), (False, False, "off"), (True, True, "off")])
def test_the_sender_is_on_only_if_its_probe_comes_back_intact(
        deliver: bool, mangle: bool, state: str, caplog: pytest.LogCaptureFixture) -> None:
    sender = RawSender()
    sender._lib = FakePjsip(deliver, mangle)  # type: ignore[assignment]
    sender.start("udp", lambda ms: time.sleep(ms / 1000) or 0)  # type: ignore[func-returns-value]
    assert sender.state == state
    if state == "off":
        assert "message-waiting NOTIFY to IP phones off" in caplog.text
        assert not sender.send("sip:110@127.0.0.1:5062", b"NOTIFY"), "off sends nothing"
    else:
        sender.close()
        assert not sender.send("sip:110@127.0.0.1:5062", b"NOTIFY"), "closed sends nothing"
