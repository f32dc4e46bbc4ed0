"""Issue 7, defect 3, through the real daemon on the simulated board: a PSTN caller who
hangs up before anyone answers. The extension stops ringing once the rings have stopped
for a cadence (not at the no-answer timer, set here to 600 s so the two cannot be
confused), the call is gone from ``status``, and its record says ABANDONED."""

from __future__ import annotations

import pytest

from tests.e2e.faults_support import records
from tests.e2e.harness import Daemon, free_even_port
from tests.e2e.test_fxo_call import CONFIG as FXO_CONFIG

pytestmark = pytest.mark.slow

# The FXO call tests' box (fxo1 rings 101), with a no-answer timer far beyond the ring timeout.
CONFIG = FXO_CONFIG + "[dialplan]\nno_answer_s = 600\n"


def test_pstn_caller_hanging_up_mid_ring_stops_the_extension(daemon_factory) -> None:  # type: ignore[no-untyped-def]
    box: Daemon = daemon_factory(CONFIG.format(rtp=free_even_port()))
    box.call("sim.line.ring", port=1, cid_number="5557777")
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=15)
    # Hang up in the middle of a burst: the case the box used to miss.
    box.wait_for("a ring burst on the line",
                 lambda: box.call("sim.line.status", port=1)["ring_burst_on"], timeout=15)
    box.call("sim.line.hangup", port=1)
    assert not box.call("sim.line.status", port=1)["ringing"]

    # Generous, and still far below the 600 s no-answer timer the old box waited for.
    box.wait_for("phone 1 to stop ringing", lambda: not box.port("fxs1")["ringing"],
                 timeout=60)
    box.wait_for("the call to end", lambda: box.call("status")["calls"] == [], timeout=10)
    line = box.port("fxo1")
    assert line["line_state"] == "idle" and not line["seized"]
    assert box.port("fxs1")["exchange_state"] == "idle"

    [record] = box.wait_for("the call record", lambda: records(box))
    assert record["status"] == "ABANDONED"
    assert record["caller_leg"] == "fxo1" and record["callee_leg"] == "fxs1"
    assert record["caller_number"] == "5557777" and record["answer"] is None
