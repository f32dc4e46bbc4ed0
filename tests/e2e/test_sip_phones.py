"""IP phones as extensions (issue 13 section 3): baresip registers to the box as extension
110 with its password, calls an analog handset and is called by one, with audio both ways,
and calls out through a trunk; wrong passwords are refused and a guesser is banned; a
registration that is not renewed expires.

The registrar's REGISTER exchanges here are also sent by hand (a UDP socket and
``firmware.sip.digest.answer``), so that expiry and the refusals are seen on the wire.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.app.status_text import format_status
from firmware.sip.digest import answer
from tests.e2e import linphone
from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine
from tests.e2e.peers import LOCALHOST, Peers, box_config, loud_part, trunk_to

pytestmark = pytest.mark.slow

PASSWORD = "phone-110-pass"
PHONE = f'[[sip_user]]\nextension = "110"\npassword = "{PASSWORD}"\nname = "Desk IP"\n'


def phone_box(daemon_factory: Callable[..., Daemon], **kw: object) -> Daemon:
    text = box_config(**kw).replace("[sip]\n", "[sip]\nphone_min_expires_s = 10\n", 1)
    return daemon_factory(text + "\n" + PHONE)


def phone_account(box: Daemon, password: str = PASSWORD) -> str:
    return (f"<sip:110@{LOCALHOST}:{box.sip_port}>;auth_pass={password};regint=60;"
            "answermode=auto;audio_codecs=PCMU")


def contacts(box: Daemon) -> list[dict[str, object]]:
    phones = box.call("status")["sip"]["phones"]
    found: list[dict[str, object]] = phones["110"]["contacts"]
    return found


def state(box: Daemon, port: int = 1) -> str:
    return str(box.port(f"fxs{port}")["exchange_state"])


def test_phone_registers_and_calls_a_handset_both_ways(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    box = phone_box(daemon_factory)
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    # (baresip may register before its control connection is up: ask the box, not it.)
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    [contact] = contacts(box)
    assert str(contact["source"]).endswith(f":{bare.sip_port}")
    text = format_status(box.call("status"))
    assert f"110 Desk IP: 127.0.0.1:{bare.sip_port} (udp" in text, text

    # The phone calls handset 101: it rings with the phone's caller ID, audio both ways.
    reply = bare.ctrl.command("dial", "101")
    assert reply["ok"], reply
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    calls = box.call("status")["calls"]
    assert any("phone110" in c["legs"] and c["number"] == "101" for c in calls), calls
    shown = box.wait_for("caller ID at the handset",
                         lambda: (s := box.phone_status(1))["caller_id"] and s, timeout=8)
    assert shown["caller_id"]["number"] == "110"
    assert shown["caller_id"]["name"] == "Desk IP"
    box.phone(1, "offhook")
    established = bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    assert established["direction"] == "outgoing"
    box.wait_for("the call to connect", lambda: state(box) == "connected", timeout=10)
    heard = box.hear(1, 1.0)
    assert abs(dominant_hz(heard) - 440) < 10 and level_dbfs(heard) > -30
    box.speak(1, sine(1000, 1.5))
    time.sleep(2.0)  # the handset's speech plays out before it hangs up
    box.dial(1, "42")  # keyed on the handset: RFC 4733 events at the phone
    box.wait_for("two digits at the phone",
                 lambda: len(bare.ctrl.events_of("CALL_DTMF_START")) >= 2, timeout=10)
    assert "".join(e["param"] for e in bare.ctrl.events_of("CALL_DTMF_START")) == "42"
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = bare.heard()
    voice = loud_part(samples, rate=rate)
    assert voice.size >= rate and abs(dominant_hz(voice, rate) - 1000) < 10

    # Handset 102 calls the phone (auto answer): the phone hears the handset.
    box.wait_for("the SIP call to go", lambda: box.call("status")["sip"]["calls"] == {})
    box.phone(2, "offhook")
    box.dial(2, "110")
    box.wait_for("the phone to answer", lambda: state(box, 2) == "connected", timeout=15)
    # baresip's event comes over its ctrl socket, after the 200 the box has acted on.
    incoming = box.wait_for("baresip's CALL_ESTABLISHED", lambda: [
        e for e in bare.ctrl.events_of("CALL_ESTABLISHED") if e["direction"] == "incoming"],
        timeout=5)
    assert incoming[0]["peeruri"].startswith("sip:102@"), incoming
    heard = box.hear(2, 1.0)
    assert abs(dominant_hz(heard) - 440) < 10
    box.phone(2, "onhook")


def test_phone_calls_out_through_a_trunk(daemon_factory: Callable[..., Daemon],
                                         peers: Peers) -> None:
    provider = peers.baresip(tone_hz=600, user="5550123")
    box = phone_box(daemon_factory,
                    trunks=[trunk_to("far", provider.sip_port, caller_id="5551000")],
                    outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}])
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    assert bare.ctrl.command("dial", "95550123")["ok"]
    at_provider = provider.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    assert at_provider["direction"] == "incoming"
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    time.sleep(1.5)
    bare.ctrl.command("hangup")
    provider.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = provider.heard()
    voice = loud_part(samples, rate=rate)
    assert abs(dominant_hz(voice, rate) - 440) < 10, "the provider did not hear the phone"


class RawPhone:
    """REGISTERs sent by hand from one UDP socket."""

    def __init__(self, box_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCALHOST, 0))
        self.port = self.sock.getsockname()[1]
        self.box_port = box_port
        self.call_id = uuid.uuid4().hex
        self.cseq = 0

    def register(self, password: str | None, expires: int = 60, auth: str | None = None,
                 contact: str = "") -> tuple[int, str] | None:
        """One REGISTER (answered to its challenge when ``password`` is given); the final
        status and the reply's text, or None when the box said nothing."""
        self.contact = contact or f"sip:110@{LOCALHOST}:{self.port}"
        reply = self._send(expires, auth)
        if reply is None or password is None or reply[0] != 401:
            return reply
        challenge = next(line.split(":", 1)[1].strip() for line in reply[1].splitlines()
                         if line.lower().startswith("www-authenticate:"))
        uri = f"sip:{LOCALHOST}:{self.box_port}"
        return self._send(expires, answer("REGISTER", uri, challenge, "110", password))

    def _send(self, expires: int, auth: str | None) -> tuple[int, str] | None:
        self.cseq += 1
        lines = [f"REGISTER sip:{LOCALHOST}:{self.box_port} SIP/2.0",
                 f"Via: SIP/2.0/UDP {LOCALHOST}:{self.port};branch=z9hG4bK{uuid.uuid4().hex}",
                 f"From: <sip:110@{LOCALHOST}>;tag=raw", f"To: <sip:110@{LOCALHOST}>",
                 f"Call-ID: {self.call_id}", f"CSeq: {self.cseq} REGISTER",
                 f"Contact: <{self.contact}>", f"Expires: {expires}",
                 "Max-Forwards: 70", "Content-Length: 0"]
        if auth:
            lines.insert(-1, f"Authorization: {auth}")
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), (LOCALHOST, self.box_port))
        self.sock.settimeout(2.0)
        try:
            data = self.sock.recv(65536).decode(errors="replace")
        except TimeoutError:
            return None
        return int(data.split()[1]), data

    def receive(self, timeout: float) -> str | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536).decode(errors="replace")
        except TimeoutError:
            return None

    def close(self) -> None:
        self.sock.close()


def test_registration_expires_and_too_short_is_refused(
        daemon_factory: Callable[..., Daemon]) -> None:
    box = phone_box(daemon_factory)
    phone = RawPhone(box.sip_port)
    try:
        brief = phone.register(PASSWORD, expires=5)
        assert brief is not None and brief[0] == 423 and "Min-Expires: 10" in brief[1]
        ok = phone.register(PASSWORD, expires=10)
        assert ok is not None and ok[0] == 200, ok
        assert "expires=10" in ok[1]
        assert [c["source"] for c in contacts(box)] == [f"{LOCALHOST}:{phone.port}"]
        box.wait_for("the registration to expire", lambda: not contacts(box), timeout=20)
    finally:
        phone.close()


def test_wrong_passwords_are_refused_and_the_guesser_banned(
        daemon_factory: Callable[..., Daemon]) -> None:
    box = phone_box(daemon_factory)
    phone = RawPhone(box.sip_port)
    try:
        codes: list[int | None] = []
        while len(codes) < 40 and None not in codes:  # unanswered once banned
            reply = phone.register("not-the-password")
            codes.append(reply[0] if reply else None)
        assert codes[0] == 401
        assert None in codes, f"never banned: {codes}"
        assert 200 not in codes
        assert not contacts(box)
        bans = box.call("status")["sip"]["guard"]
        assert bans["failed_auth"] >= 5 and bans["bans_given"] >= 1, bans
        # Banned: even the right password gets no answer from this address now.
        assert phone.register(PASSWORD) is None
    finally:
        phone.close()


@pytest.mark.skipif(not linphone.available(), reason="linphonec (Debian linphone-cli) missing")
def test_linphone_registers_calls_a_handset_and_holds(
        daemon_factory: Callable[..., Daemon], tmp_path: Path) -> None:
    box = phone_box(daemon_factory)
    phone = linphone.Linphone(tmp_path)
    try:
        phone.register("110", box.sip_port, PASSWORD)
        box.wait_for("linphone's registration", lambda: bool(contacts(box)), timeout=15)
        assert str(contacts(box)[0]["user_agent"]).lower().startswith(("linphone", "unknown"))
        phone.command(f"call sip:101@{LOCALHOST}:{box.sip_port}")
        box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
        box.phone(1, "offhook")
        phone.wait_output(r"(?i)call \d+ .*(connected|streams running)", timeout=10)
        box.wait_for("the call to connect", lambda: state(box) == "connected", timeout=10)
        # Hold from the phone (a re-INVITE): the call stays up at the box, then resumes.
        mark = len(phone.output())
        phone.command("pause")
        phone.wait_output(r"(?i)paused", timeout=10, since=mark)
        time.sleep(1.0)
        assert state(box) == "connected"
        mark = len(phone.output())
        phone.command("resume")
        phone.wait_output(r"(?i)resum|streams running|connected", timeout=10, since=mark)
        assert state(box) == "connected"
        box.phone(1, "onhook")
        phone.wait_output(r"(?i)call \d+ .*end", timeout=10)
    finally:
        phone.kill()


def test_phone_transfers_a_handset_with_refer(daemon_factory: Callable[..., Daemon],
                                              peers: Peers) -> None:
    """Blind transfer: the phone REFERs its partner (handset 101) to 102; the box places
    101 to 102 itself (101 hears ringback), releases the phone, and 101 and 102 talk."""
    box = phone_box(daemon_factory)
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("the phone to answer", lambda: state(box, 1) == "connected", timeout=15)
    reply = bare.ctrl.command("transfer", "102")
    assert reply["ok"], reply
    box.wait_for("102 to ring", lambda: box.port("fxs2")["ringing"], timeout=10)
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)  # the box released the phone
    heard = box.hear(1, 0.6)  # US ringback: 440 + 480 Hz (the phone is gone by now)
    assert min(abs(dominant_hz(heard) - f) for f in (440, 480)) < 15, \
        "101 hears ringback while 102 rings"
    box.phone(2, "offhook")
    box.wait_for("101 and 102 to talk", lambda: state(box, 1) == state(box, 2) == "connected")
    box.speak(2, sine(1000, 1.0))
    assert abs(dominant_hz(box.hear(1, 0.8)) - 1000) < 15
    records = box.call("calls", limit=5)["calls"]
    assert any("transferred by phone110 to 102" in (r.get("reason") or "") for r in records), \
        records
    box.phone(1, "onhook")
    box.phone(2, "onhook")


def test_phone_in_a_group_and_behind_an_inbound_route(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """A group of the phone and handset 102 (ringall): the phone answers at once (auto
    answer) and 102 stops ringing; a trunk call for the DID routed to 110 reaches it."""
    provider = peers.baresip(tone_hz=600, user="5550123")
    group = ('[[group]]\nname = "sales"\nnumber = "600"\nmembers = ["110", "102"]\n'
             'strategy = "ringall"\n')
    text = box_config(trunks=[trunk_to("far", provider.sip_port)],
                      inbound=[{"did": "5551000", "extension": "110"}])
    text = text.replace("[sip]\n", "[sip]\nphone_min_expires_s = 10\n", 1)
    box = daemon_factory(text + "\n" + PHONE + "\n" + group)
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)

    box.phone(1, "offhook")
    box.dial(1, "600")
    box.wait_for("the group call to connect", lambda: state(box, 1) == "connected", timeout=15)
    assert not box.port("fxs2")["ringing"], "102 still rings after the phone answered"
    assert abs(dominant_hz(box.hear(1, 0.8)) - 440) < 10
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    box.wait_for("the SIP call to go", lambda: box.call("status")["sip"]["calls"] == {})

    assert provider.ctrl.command("dial", f"sip:5551000@{LOCALHOST}:{box.sip_port}")["ok"]
    at_provider = provider.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    assert at_provider["direction"] == "outgoing"
    time.sleep(1.5)
    provider.ctrl.command("hangup")
    provider.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = provider.heard()
    assert abs(dominant_hz(loud_part(samples, rate=rate), rate) - 440) < 10


def test_a_phone_behind_nat_is_called_where_its_register_came_from(
        daemon_factory: Callable[..., Daemon]) -> None:
    """The REGISTER's Contact names a private address the box cannot reach; the INVITE
    for the phone goes to the address and port the REGISTER came from."""
    box = phone_box(daemon_factory)
    phone = RawPhone(box.sip_port)
    try:
        ok = phone.register(PASSWORD, contact="sip:110@10.99.0.7:5060;ob")
        assert ok is not None and ok[0] == 200, ok
        box.phone(1, "offhook")
        box.dial(1, "110")
        invite = None
        for _ in range(5):
            message = phone.receive(3.0)
            if message and message.startswith("INVITE "):
                invite = message
                break
        assert invite is not None, "no INVITE reached the phone's public address"
        assert invite.split()[1] == f"sip:110@{LOCALHOST}:{phone.port};ob", invite[:200]
        box.phone(1, "onhook")
    finally:
        phone.close()
