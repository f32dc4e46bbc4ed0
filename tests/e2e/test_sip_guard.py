"""The SIP guard through the real daemon, datagram by datagram: a scanner's User-Agent is
answered by silence and banned; a stranger's REGISTERs get 403 until its failed
authentications ban it; a trunk's address over its rate gets 503 and is never banned;
`minipbx sip bans` lists the bans, `minipbx sip unban` lifts one, and `minipbx status`
shows them."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable

import pytest

from firmware.sip.guard import FAILED_AUTH_BURST, PER_ADDRESS_BURST
from tests.e2e.harness import MINIPBX, ROOT, Daemon
from tests.e2e.peers import box_config, trunk_to

pytestmark = pytest.mark.slow


def _text(method: str, port: int, source: str, me: int, user_agent: str) -> bytes:
    tag = os.urandom(4).hex()
    return (f"{method} sip:100@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {source}:{me};branch=z9hG4bK{tag}\r\n"
            f"From: <sip:200@{source}>;tag={tag}\r\nTo: <sip:100@127.0.0.1>\r\n"
            f"Call-ID: {tag}@{source}\r\nCSeq: 1 {method}\r\n"
            f"Contact: <sip:200@{source}:{me}>\r\nUser-Agent: {user_agent}\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def burst(port: int, source: str, method: str, count: int = 1,
          user_agent: str = "minipbx-test", wait: float = 1.0) -> list[int]:
    """Send ``count`` requests from ``source`` at once; the final status codes that came
    back within ``wait`` s (an empty list: silence)."""
    codes = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        me = s.getsockname()[1]
        for _ in range(count):
            s.sendto(_text(method, port, source, me, user_agent), ("127.0.0.1", port))
        deadline = time.monotonic() + wait
        while len(codes) < count and (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                reply = s.recv(65536).decode(errors="replace")
            except TimeoutError:
                break
            code = int(reply.split(" ", 2)[1])
            if code >= 200:
                codes.append(code)
    return codes


def request(port: int, source: str, method: str, user_agent: str = "minipbx-test",
            wait: float = 1.0) -> int | None:
    """One request from ``source``: its final status code, None for silence."""
    codes = burst(port, source, method, 1, user_agent, wait)
    return codes[0] if codes else None


def cli(box: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINIPBX, "--state-dir", str(box.state), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=30, check=False)


def test_scanners_guessers_and_trunk_bursts(daemon_factory: Callable[..., Daemon]) -> None:
    box = daemon_factory(box_config(trunks=[trunk_to("provider", 5060)]))
    port = box.sip_port

    # A stranger's ordinary OPTIONS is answered; a scanner's is not, and bans it.
    assert request(port, "127.0.0.50", "OPTIONS") == 200
    assert request(port, "127.0.0.51", "OPTIONS", "friendly-scanner") is None
    assert request(port, "127.0.0.51", "OPTIONS") is None  # banned now: silence

    # A stranger's REGISTERs are refused until the failures ban it.
    answers = [request(port, "127.0.0.52", "REGISTER", wait=0.5)
               for _ in range(int(FAILED_AUTH_BURST) + 2)]
    assert answers == [403] * int(FAILED_AUTH_BURST) + [None, None], answers

    # The trunk's address over its rate: 503, never a ban.
    count = int(PER_ADDRESS_BURST) + 40
    codes = burst(port, "127.0.0.1", "OPTIONS", count)
    assert len(codes) == count and {200, 503} == set(codes), codes
    assert codes.count(503) >= 20
    assert request(port, "127.0.0.1", "OPTIONS") in (200, 503)

    guard = box.call("status")["sip"]["guard"]
    bans = {b["address"]: b for b in guard["bans"]}
    assert set(bans) == {"127.0.0.51", "127.0.0.52"}, bans
    assert "scanner" in bans["127.0.0.51"]["reason"]
    assert "failed authentications" in bans["127.0.0.52"]["reason"]
    assert guard["trunk_over_rate"] >= 20

    listed = cli(box, "sip", "bans")
    assert listed.returncode == 0 and "127.0.0.51" in listed.stdout, listed
    assert "ban 1, " in listed.stdout and "left of 1 min" in listed.stdout, listed.stdout
    assert "SIP bans" in cli(box, "status").stdout

    lifted = cli(box, "sip", "unban", "127.0.0.51")
    assert lifted.returncode == 0 and "lifted" in lifted.stdout, lifted
    assert request(port, "127.0.0.51", "OPTIONS") == 200
    again = cli(box, "sip", "unban", "127.0.0.51")
    assert again.returncode != 0 and "not banned" in again.stderr, again
    assert "not an IP address" in cli(box, "sip", "unban", "nonsense").stderr
