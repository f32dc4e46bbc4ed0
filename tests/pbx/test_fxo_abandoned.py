"""A PSTN caller who gives up before answer (issue 7, defect 3): the FXO line machine and
the exchange together, on a fake clock, as the box wires them. The rings stop, so the
line says Release up within one ring cadence plus its margin of the last burst; the
exchange stops the extension's ringing and records the call as abandoned."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from firmware.core.causes import Cause
from firmware.core.clock import earliest
from firmware.core.events import CallEvent, Release, Setup
from firmware.lines.fxo import FxoLine
from firmware.pbx.cdr import Disposition
from firmware.pbx.exchange import Exchange
from tests.pbx.office import Driver, office_plan


class LineAndExchange:
    """FxoLine fxo1 feeding an Exchange: events up go to the exchange, events for the
    line come back down to it, as firmware/app/box.py routes them."""

    def __init__(self, cadence_ms: tuple[int, ...]) -> None:
        self.drv = Driver(office_plan())
        self.line = FxoLine("fxo1", ring_cadence_ms=cadence_ms)
        self.extension: list[object] = []  # what reached fxs3, the line's extension
        self.released_at: float | None = None

    @property
    def pbx(self) -> Exchange:
        return self.drv.pbx

    def burst(self, on: bool, at_s: float) -> None:
        self.run_until(at_s)
        self._up(self.line.ring_burst(on, self._t(at_s), self.drv.now))

    def run_until(self, at_s: float) -> None:
        """Fire every timer of both machines up to ``at_s`` seconds after the start."""
        end = self._t(at_s)
        while (due := earliest(self.line.next_deadline, self.pbx.next_deadline)) is not None \
                and due <= end:
            self.drv.clock.advance(due - self.drv.now)
            self._up(self.line.poll(self.drv.now))
            self._down(self.pbx.poll(self.drv.now))
        self.drv.clock.advance(max(0.0, end - self.drv.now))

    def _t(self, s: float) -> float:
        return 1000.0 + s  # FakeClock's start

    def _up(self, outputs: Sequence[object]) -> None:
        for out in outputs:
            if isinstance(out, CallEvent):
                if isinstance(out, Release):
                    self.released_at = self.drv.now - 1000.0
                self._down(self.pbx.handle(out, self.drv.now))

    def _down(self, outputs: list[object]) -> None:
        for out in outputs:
            if not isinstance(out, CallEvent):
                continue  # Bridge, Unbridge: for the media switch
            if out.leg == "fxs3":
                self.extension.append(out)
            elif out.leg == "fxo1":
                self._up(list(self.line.command(out, self.drv.now)))


@pytest.mark.parametrize("hangup_mid_burst", [False, True])
def test_pstn_caller_gone_stops_the_ringing_and_is_recorded_abandoned(
        hangup_mid_burst: bool) -> None:
    box = LineAndExchange((2000, 4000))
    box.burst(True, 0.0)
    box.burst(False, 2.0)
    box.burst(True, 6.0)
    if not hangup_mid_burst:  # else: the caller hangs up mid-burst and no end is reported
        box.burst(False, 8.0)
    box.run_until(120.0)

    ring, *rest = box.extension
    assert isinstance(ring, Setup) and ring.leg == "fxs3"
    assert rest == [Release("fxs3", Cause.NORMAL_CLEARING)]
    # US: the 4 s silence plus the 2 s margin after the last burst's end, or after its
    # start plus the burst's 2 s when its end never comes; long before the 60 s no-answer.
    assert box.released_at == pytest.approx(14.0)
    [record] = box.pbx.records
    assert record.disposition is Disposition.ABANDONED
    assert record.caller_leg == "fxo1" and record.callee_leg == "fxs3"
    assert box.line.state == "idle" and box.pbx.leg_state("fxs3") == "idle"
    assert box.pbx.calls() == []


def test_the_ring_timeout_follows_the_countrys_cadence() -> None:
    """UK double ring: the 200 ms pause inside a ring is no gap; 2 s plus the margin is."""
    box = LineAndExchange((400, 200, 400, 2000))
    for start in (0.0, 3.0):
        box.burst(True, start)
        box.burst(False, start + 0.4)
        box.burst(True, start + 0.6)
        box.burst(False, start + 1.0)
    box.run_until(60.0)
    assert box.released_at == pytest.approx(8.0)  # the last end, 2 s silence, 2 s margin
    assert box.extension[1:] == [Release("fxs3", Cause.NORMAL_CLEARING)]
    assert box.pbx.records[0].disposition is Disposition.ABANDONED
