"""Time for sans-IO state machines.

State machines never read a clock: the current time comes in as an argument (seconds, a
float from one monotonic source) and the next deadline goes out as data. The composition
root passes ``time.monotonic()``; tests pass a ``FakeClock``.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += seconds
        return self._now


def earliest(*deadlines: float | None) -> float | None:
    """The soonest of several optional deadlines (None means no deadline)."""
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None
