"""Malformed SIP from the network must not hurt the box: during a connected trunk call
(handset <-> sipp echoing the audio) garbage, truncated and broken requests, a huge header
and bytes that are not UTF-8 arrive at the SIP port; the daemon keeps answering and the
call keeps its audio. A well-formed OPTIONS is still answered."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine
from tests.e2e.peers import Peers, SipMessage, box_config, send_udp, trunk_to

pytestmark = pytest.mark.slow

DID = "5551000"



def request(method: str, uri: str, *, via: str | None = None, cseq: str | None = None,
            extra: str = "", body: str = "", call_id: str | None = None) -> str:
    tag = secrets.token_hex(4)
    lines = [
        f"{method} {uri} SIP/2.0",
        via if via is not None
        else f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{secrets.token_hex(6)};rport",
        "Max-Forwards: 70",
        f"From: <sip:5557777@127.0.0.1>;tag={tag}",
        f"To: <{uri}>",
        f"Call-ID: {call_id or secrets.token_hex(8)}@127.0.0.1",
        cseq if cseq is not None else f"CSeq: 1 {method}",
        "Contact: <sip:5557777@127.0.0.1:5999>",
    ]
    if extra:
        lines.append(extra)
    lines += [f"Content-Length: {len(body.encode())}", "", body]
    return "\r\n".join(lines)


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 5998 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def malformed(port: int) -> list[tuple[str, bytes]]:
    uri = f"sip:{DID}@127.0.0.1:{port}"

    def invite() -> bytes:  # a new transaction (branch, Call-ID) every time
        return request("INVITE", uri, extra="Content-Type: application/sdp", body=SDP).encode()

    cut = invite()
    return [
        ("random bytes", bytes(range(256)) * 4),
        ("NUL bytes", b"\x00" * 512),
        ("a lone request line", f"INVITE {uri} SIP/2.0\r\n".encode()),
        ("a truncated INVITE", cut[: len(cut) // 2]),
        ("an INVITE cut inside its SDP", invite()[:-40]),
        ("an INVITE with a broken Via",
         request("INVITE", uri, via="Via: SIP/2.0/UDP", body=SDP,
                 extra="Content-Type: application/sdp").encode()),
        ("an INVITE with a broken CSeq",
         request("INVITE", uri, cseq="CSeq: many INVITE", body=SDP,
                 extra="Content-Type: application/sdp").encode()),
        ("an INVITE whose CSeq method disagrees",
         request("INVITE", uri, cseq="CSeq: 1 BYE").encode()),
        ("a Content-Length far beyond the datagram",
         invite().replace(b"Content-Length: ", b"Content-Length: 9999")),
        ("a huge header",
         request("INVITE", uri, extra="X-Huge: " + "A" * 60000).encode()),
        ("a header line of 3000 Vias",
         request("OPTIONS", uri, extra="\r\n".join(
             f"Via: SIP/2.0/UDP 10.0.0.{i % 250}:5060;branch=z9hG4bK{i}"
             for i in range(3000))).encode()[:65000]),
        ("non-UTF-8 bytes in a display name",
         invite().replace(b"From: <", b'From: "\xff\xfe\xc3\x28\x80" <')),
        ("a non-UTF-8 blob", b"\xff\xfe\xfd" + "ЖЖЖ".encode("cp1251") * 300 + b"\xc0\xaf"),
        ("a response to nothing",
         b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n"
         b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: nothing\r\n"
         b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
        ("a BYE for a dialog that does not exist",
         request("BYE", uri, extra=f"To: <{uri}>;tag=nope").encode()),
    ]


def connected(box: Daemon) -> bool:
    return bool(box.port("fxs1")["exchange_state"] == "connected")


def assert_echo(box: Daemon, hz: int) -> None:
    # As long as the hearing, so nothing of this tone is still queued for the next one.
    box.speak(1, sine(hz, 1.0))
    echoed = box.hear(1, 1.0)
    assert abs(dominant_hz(echoed) - hz) < 10
    assert level_dbfs(echoed) > -30


@pytest.fixture
def box_in_call(daemon_factory: Callable[..., Daemon], peers: Peers) -> Daemon:
    """Phone 1 in a call through trunk "far" to sipp, which echoes the audio."""
    _uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    # No call waiting: a well-formed INVITE among the datagrams must find 101 busy (486),
    # not give its handset the call-waiting tone over the echo this test listens to.
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        inbound=[{"did": DID, "extension": "101"}],
        fxs=[{"port": 1, "extension": "101", "name": "Reception", "call_waiting": False},
             {"port": 2, "extension": "102", "name": "Office"}]))
    box.phone(1, "offhook")
    box.dial(1, "95551234#")
    box.wait_for("the trunk call to connect", lambda: connected(box), timeout=15)
    return box


def test_malformed_datagrams_leave_the_daemon_and_the_call_alive(box_in_call: Daemon) -> None:
    box = box_in_call
    assert_echo(box, 1000)
    port = box.sip_port
    for what, data in malformed(port):
        send_udp(port, data)
        status = box.call("status")  # the control socket still answers
        assert status["sip"]["listen"]["udp"].endswith(f":{port}"), what
        assert box.proc.poll() is None, f"daemon died after {what}:\n{box.log()}"
    assert connected(box)
    assert_echo(box, 700)  # the call still carries audio both ways
    assert "Traceback" not in box.log(), box.log()[-5000:]
    # The SIP stack still answers, and still turns a proper call away (101 is busy).
    assert options(port) == 200
    busy = send_udp(port, request("INVITE", f"sip:{DID}@127.0.0.1:{port}", body=SDP,
                                  extra="Content-Type: application/sdp").encode(),
                    wait_reply=5.0, until=lambda m: m.status is not None and m.status >= 200)
    assert busy is not None and SipMessage.parse("in", busy.decode()).status == 486, busy


def options(port: int) -> int | None:
    reply = send_udp(port, request("OPTIONS", f"sip:127.0.0.1:{port}", call_id="options-1",
                                   extra="Accept: application/sdp").encode(), wait_reply=5.0)
    if reply is None:
        return None
    msg = SipMessage.parse("in", reply.decode(errors="replace"))
    assert msg.header("call-id") == "options-1@127.0.0.1" and msg.cseq_method == "OPTIONS", msg
    return msg.status


def test_options_gets_an_answer(box_in_call: Daemon) -> None:
    assert options(box_in_call.sip_port) == 200
    assert connected(box_in_call)
