"""Trunks over TCP and TLS: two boxes joined by a trunk, each a whole daemon with its own
pjsua2, the way offices will be joined across sites. Box A's phone dials out through the
trunk; box B's inbound route rings its phone; audio flows both ways."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, dominant_hz, free_even_port, sine

pytestmark = pytest.mark.slow

BOX_B = """
[sip]
port = 0
transports = ["udp", "{transport}"]
rtp_port = {rtp}
{tls}
[[fxs]]
port = 1
extension = "201"
name = "Branch"
# Box A, so that its calls are let in (B never calls A: the port is not used).
[[trunk]]
name = "head"
host = "127.0.0.1"
transport = "{transport}"
register = false
[[inbound]]
did = "5552000"
extension = "201"
"""

BOX_A = """
[sip]
port = 0
transports = ["udp", "{transport}"]
rtp_port = {rtp}
{tls}
[[fxs]]
port = 1
extension = "101"
name = "Head office"
caller_id = "5551000"
[[trunk]]
name = "branch"
host = "127.0.0.1"
port = {b_port}
transport = "{transport}"
register = false
[[outbound]]
pattern = "8xxxxxxx"
trunk = "branch"
strip = 1
"""


def tls_lines(tmp: Path) -> str:
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return f'tls_cert = "{cert}"\ntls_key = "{key}"'


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_call_between_two_boxes(daemon_factory, tmp_path: Path,  # type: ignore[no-untyped-def]
                                transport: str) -> None:
    tls = tls_lines(tmp_path) if transport == "tls" else ""
    b: Daemon = daemon_factory(BOX_B.format(transport=transport,
                                            rtp=free_even_port(), tls=tls), name="b")
    listen = b.call("status")["sip"]["listen"]
    b_tport = int(listen[transport].rsplit(":", 1)[1])
    a: Daemon = daemon_factory(BOX_A.format(transport=transport, rtp=free_even_port(),
                                            tls=tls, b_port=b_tport), name="a")
    a.phone(1, "offhook")
    a.dial(1, "85552000")
    b.wait_for("box B's phone to ring", lambda: b.port("fxs1")["ringing"], timeout=15)
    cid = b.wait_for("caller ID at box B",
                     lambda: (s := b.phone_status(1))["caller_id"] and s, timeout=10)
    assert cid["caller_id"]["number"] == "5551000"
    assert cid["caller_id"]["name"] == "Head office"
    b.phone(1, "offhook")
    a.wait_for("box A's call to connect", lambda: a.port("fxs1")["with"] is not None)
    b.speak(1, sine(900, 2.0))
    assert abs(dominant_hz(a.hear(1, 0.8)) - 900) < 10
    a.speak(1, sine(1300, 2.0))
    assert abs(dominant_hz(b.hear(1, 0.8)) - 1300) < 10
    a.phone(1, "onhook")
    b.wait_for("box B's call to end", lambda: b.port("fxs1")["with"] is None)
    b.phone(1, "onhook")
