"""Helpers for the line-board tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drivers.base import LineSignal

# Generous: threads on a loaded CI machine can be late by a lot; nothing here is timed.
WAIT_S = 5.0


def wait_until(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


class Signals:
    """A thread-safe sink that keeps every line signal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[LineSignal] = []

    def __call__(self, signal: LineSignal) -> None:
        with self._lock:
            self.items.append(signal)

    def of(self, kind: type) -> list[LineSignal]:
        with self._lock:
            return [s for s in self.items if isinstance(s, kind)]

    def clear(self) -> None:
        with self._lock:
            self.items.clear()


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance_ms(self, ms: float) -> float:
        self.now += ms / 1000.0
        return self.now


