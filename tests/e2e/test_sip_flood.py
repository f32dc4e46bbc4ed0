"""An INVITE burst must not hurt the box (defect: 32 INVITEs at 70/s aborted pjlib).

During an internal call (phones 2 and 3) and a trunk call (phone 1 to sipp, echoing),
sipp sends 2,000 INVITEs at 500 a second from the trunk's own address while garbage
datagrams arrive too. The daemon lives, both calls keep their audio, the refusals are
counted (rate and capacity, answered before media), and a proper call still gets through
afterwards."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine
from tests.e2e.peers import Peers, box_config, send_udp, trunk_to

# Load-sensitive (audio gaps, memory, throttle waits): `make test` runs it alone, after the
# parallel part.
pytestmark = [pytest.mark.slow, pytest.mark.serial]

DID = "5551000"
FLOOD = 2000
RATE = 500


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    owner = Peers(tmp_path)
    yield owner
    owner.close()


def heard_hz(box: Daemon, speaker: int, listener: int, hz: int) -> tuple[float, float]:
    box.speak(speaker, sine(hz, 1.0))
    got = box.hear(listener, 1.0)
    return dominant_hz(got), level_dbfs(got)


def assert_carries(box: Daemon, speaker: int, listener: int, hz: int) -> None:
    got_hz, level = heard_hz(box, speaker, listener, hz)
    assert abs(got_hz - hz) < 10 and level > -30, (speaker, listener, got_hz, level)


@pytest.fixture
def box_two_calls(daemon_factory: Callable[..., Daemon], peers: Peers) -> Daemon:
    _uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    fxs = [{"port": n, "extension": f"10{n}"} for n in (1, 2, 3)]
    box = daemon_factory(box_config(
        fxs=fxs, trunks=[trunk_to("far", port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        inbound=[{"did": DID, "extension": "101"}]))
    box.phone(1, "offhook")
    box.dial(1, "95551234#")
    box.phone(2, "offhook")
    box.dial(2, "103")
    box.wait_for("phone 3 to ring", lambda: box.port("fxs3")["ringing"], timeout=10)
    box.phone(3, "offhook")
    box.wait_for("both calls up", lambda: box.port("fxs1")["exchange_state"] == "connected"
                 and box.port("fxs2")["exchange_state"] == "connected", timeout=15)
    return box


def garbage(port: int, stop: threading.Event) -> None:
    while not stop.is_set():
        send_udp(port, os.urandom(300))
        send_udp(port, b"INVITE sip:x SIP/2.0\r\n\r\n")
        stop.wait(0.005)


def test_invite_burst_with_garbage_leaves_daemon_and_calls_alive(box_two_calls: Daemon,
                                                                 peers: Peers) -> None:
    box = box_two_calls
    assert box.call("status")["sip"]["screen"]["state"] == "on"
    assert_carries(box, 1, 1, 1000)  # sipp echoes phone 1's audio
    assert_carries(box, 2, 3, 700)

    stop = threading.Event()
    noise = threading.Thread(target=garbage, args=(box.sip_port, stop), daemon=True)
    noise.start()
    flood = peers.sipp_uac(f"127.0.0.1:{box.sip_port}", DID, extra=[
        "-m", str(FLOOD), "-r", str(RATE), "-l", str(FLOOD), "-timeout", "30s",
        "-max_retrans", "1"])
    try:
        # Audio is checked while the burst is on, not only after it.
        assert_carries(box, 2, 3, 900)
        flood.wait(60)
    finally:
        stop.set()
        noise.join()

    assert box.proc.poll() is None, box.log()[-3000:]
    screen = box.call("status")["sip"]["screen"]
    refused = screen["refused"]
    assert refused["rate"] + refused["capacity"] > FLOOD // 2, screen
    assert screen["admitted"] + sum(refused.values()) >= FLOOD, screen
    assert box.port("fxs1")["exchange_state"] == "connected"
    assert box.port("fxs2")["exchange_state"] == "connected"
    assert_carries(box, 1, 1, 1200)
    assert_carries(box, 3, 2, 500)
    assert "Assertion" not in box.log()
