"""Helpers for the line-board tests (imported by name: pytest puts this folder on the path).
The ones every test package shares live in tests/support.py."""

from __future__ import annotations

from tests.support import Signals, wait_until

__all__ = ["FakeClock", "Signals", "wait_until"]


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance_ms(self, ms: float) -> float:
        self.now += ms / 1000.0
        return self.now
