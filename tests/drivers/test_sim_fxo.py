"""The simulated PSTN line: whatever stops its ringing ends a burst in progress, as a real
ring detector sees the ring signal stop (defect 3 of issue 7: a caller who hung up
mid-burst left the box waiting for an off edge that never came)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from drivers.base import LineSignal, RingBurst
from drivers.sim import SimFxoPort

LONG_BURST_MS = (60_000, 1000)  # one burst that lasts the whole test unless stopped


class Signals:
    def __init__(self) -> None:
        self.seen: list[LineSignal] = []
        self._cond = threading.Condition()

    def __call__(self, signal: LineSignal) -> None:
        with self._cond:
            self.seen.append(signal)
            self._cond.notify_all()

    def wait(self, what: str, predicate: Callable[[list[LineSignal]], bool]) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.seen), timeout=10.0):
                raise AssertionError(f"no {what}; signals: {self.seen}")

    def bursts(self) -> list[bool]:
        return [s.on for s in self.seen if isinstance(s, RingBurst)]


@pytest.fixture
def line() -> Iterator[tuple[SimFxoPort, Signals]]:
    port = SimFxoPort(1)
    signals = Signals()
    port.attach(signals)
    yield port, signals
    port.close()


@pytest.mark.parametrize("stop", ["hang_up", "seize"])
def test_what_stops_the_ringing_mid_burst_ends_the_burst(
        line: tuple[SimFxoPort, Signals], stop: str) -> None:
    """The caller hangs up, or the box answers: the detector sees the ring signal end."""
    port, signals = line
    port.ring(LONG_BURST_MS)
    signals.wait("ring burst", lambda seen: len(seen) >= 1)
    getattr(port, stop)()
    assert signals.bursts() == [True, False]
    assert not port.ringing and port.seized == (stop == "seize")
    time.sleep(0.1)  # nothing scheduled before it still arrives
    assert signals.bursts() == [True, False]


def test_hanging_up_between_bursts_sends_no_extra_edge(
        line: tuple[SimFxoPort, Signals]) -> None:
    port, signals = line
    port.ring((100, 60_000))
    signals.wait("end of the first burst", lambda seen: len(seen) >= 2)
    port.hang_up()
    assert signals.bursts() == [True, False]


def test_ringing_again_mid_burst_ends_the_old_burst_first(
        line: tuple[SimFxoPort, Signals]) -> None:
    port, signals = line
    port.ring(LONG_BURST_MS)
    signals.wait("ring burst", lambda seen: len(seen) >= 1)
    port.ring(LONG_BURST_MS)
    signals.wait("the new burst", lambda seen: len(seen) >= 3)
    assert signals.bursts() == [True, False, True]
