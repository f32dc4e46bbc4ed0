"""A trunk that stops answering mid-call (sipp frozen with SIGSTOP: no RTP, no SIP): the
box hangs the call up after ``[sip] rtp_timeout_s`` without RTP, the handset hears the busy
tone, the record says why (cause 102, recovery on timer expiry), and an internal call beside
it goes on untouched."""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from tests.e2e.faults_support import at_rest, records
from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine
from tests.e2e.peers import Peers, box_config, trunk_to

pytestmark = pytest.mark.slow

RTP_TIMEOUT_S = 3


def box_with_trunk(daemon_factory: Callable[..., Daemon], port: int) -> Daemon:
    fxs = [{"port": i, "extension": str(100 + i)} for i in range(1, 5)]
    text = box_config(trunks=[trunk_to("far", port)],
                      outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}], fxs=fxs)
    text = text.replace("[sip]\n", f"[sip]\nrtp_timeout_s = {RTP_TIMEOUT_S}\n", 1)
    return daemon_factory(text)


def hears(box: Daemon, speaker: int, listener: int, hz: float) -> bool:
    box.speak(speaker, sine(hz, 1.5))
    heard = box.hear(listener, 1.0)
    return level_dbfs(heard) > -30 and abs(dominant_hz(heard) - hz) < 10


def test_a_trunk_that_stops_answering_mid_call_ends_with_busy_tone(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = box_with_trunk(daemon_factory, port)
    assert box.call("status")["sip"]["rtp_timeout_s"] == RTP_TIMEOUT_S
    box.phone(1, "offhook")
    box.dial(1, "95551234#")
    box.wait_for("the trunk call", lambda: box.port("fxs1")["exchange_state"] == "connected",
                 timeout=15)
    assert hears(box, 1, 1, 1000)  # sipp echoes: the trunk is alive
    box.phone(3, "offhook")
    box.dial(3, "104")
    box.wait_for("phone 4 to ring", lambda: box.port("fxs4")["ringing"])
    box.phone(4, "offhook")
    box.wait_for("the internal call", lambda: box.port("fxs3")["with"] == "fxs4")

    uas.proc.send_signal(signal.SIGSTOP)  # the far end stops dead: no RTP, no SIP
    try:
        # The RTP stops at once; the call must not outlive the timeout by much. (How long
        # it took is not asserted: the machine may be loaded.)
        box.wait_for("the box to hang up the dead call",
                     lambda: box.port("fxs1")["playing"] == "tone:busy",
                     timeout=RTP_TIMEOUT_S + 20)
        status = box.call("status")
        assert status["sip"]["rtp_timeouts"] == 1
        assert box.port("fxs1")["with"] is None
        assert "no RTP from the far end for 3 s: hanging up" in box.log()
        rec = box.wait_for("the record", lambda: [r for r in records(box) if r["trunk"]])
        assert (rec[0]["status"], rec[0]["cause"]) == ("ANSWERED", 102), rec
        # The call beside it never noticed.
        assert box.port("fxs3")["with"] == "fxs4"
        assert hears(box, 3, 4, 800) and hears(box, 4, 3, 1200)
    finally:
        uas.proc.send_signal(signal.SIGCONT)
    for p in (1, 3, 4):
        box.phone(p, "onhook")
    box.wait_for("the box at rest", lambda: at_rest(box.call("status")) == [], timeout=40)
    assert "Traceback" not in box.log()
