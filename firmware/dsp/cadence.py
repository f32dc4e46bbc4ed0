"""Ring cadences as plans: when the bell rings, when it stops, and what comes next.

Rules:

- A cadence is a tuple of durations in ms, alternately ringing and silent, starting
  with ringing, repeated for ever from time 0 (the start of the first ring).
- `state_at(t)` is True while ringing; `next_change(t)` is the first time after t at
  which the state flips. Both are pure functions of t, so the line layer can keep its
  fake clock and ask for its next deadline (sans-IO).
- `gap(n)` is the n-th silent interval (0 = after the first ring): caller ID sent
  "after the first ring" goes there.
- Cadence data comes from a country profile (the normal cadence and its named
  distinctive ones); this module keeps none of its own.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from firmware.dsp.profiles import CountryProfile


@dataclass(frozen=True)
class RingCadence:
    """A repeating ring cadence (see the module rules)."""

    steps_ms: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.steps_ms or len(self.steps_ms) % 2:
            raise ValueError("a ring cadence is a non-empty list of on/off pairs")
        if any(step <= 0 for step in self.steps_ms):
            raise ValueError("ring cadence steps must be positive")

    @property
    def period_ms(self) -> int:
        return sum(self.steps_ms)

    @property
    def rings_per_period(self) -> int:
        return len(self.steps_ms) // 2

    def _edges(self) -> list[int]:
        return list(itertools.accumulate(self.steps_ms))

    def _locate(self, t_ms: float) -> tuple[int, float, float]:
        """(step index, cycle start, offset in the cycle) of time t."""
        if t_ms < 0:
            raise ValueError("cadence time starts at 0")
        cycle = int(t_ms // self.period_ms)
        start = float(cycle * self.period_ms)
        offset = t_ms - start
        return bisect.bisect_right(self._edges(), offset), start, offset

    def state_at(self, t_ms: float) -> bool:
        """True while the bell rings at time t (ms from the start of the first ring)."""
        index, _, _ = self._locate(t_ms)
        return index % 2 == 0

    def next_change(self, t_ms: float) -> float:
        """The first time after t at which ringing starts or stops."""
        index, start, _ = self._locate(t_ms)
        return start + self._edges()[index]

    def gap(self, n: int) -> tuple[float, float]:
        """Start and end (ms) of the n-th silence between rings, counting from 0."""
        if n < 0:
            raise ValueError("gap index starts at 0")
        cycle, pair = divmod(n, self.rings_per_period)
        edges = [0, *self._edges()]
        base = float(cycle * self.period_ms)
        return base + edges[2 * pair + 1], base + edges[2 * pair + 2]

    def changes(self, start_ms: float = 0.0) -> Iterator[tuple[float, bool]]:
        """Endless (time, ringing) pairs: every change of state after start_ms (and the
        first ring itself when starting at 0)."""
        t = start_ms
        if t == 0:
            yield 0.0, True
        while True:
            t = self.next_change(t)
            yield t, self.state_at(t)

    def ring_time_ms(self, until_ms: float) -> float:
        """How long the bell has rung from 0 to `until_ms` (for ring-trip and REN budgets)."""
        full, rest = divmod(until_ms, self.period_ms)
        on_per_period = sum(self.steps_ms[0::2])
        total = full * on_per_period
        position = 0.0
        for k, step in enumerate(self.steps_ms):
            if k % 2 == 0:
                total += max(0.0, min(rest, position + step) - position)
            position += step
        return float(total)


def ring_cadence(profile: CountryProfile, pattern: str = "normal") -> RingCadence:
    """The profile's ring cadence, or one of its named distinctive cadences."""
    return RingCadence(profile.ring.pattern(pattern))


def distinctive_patterns(profile: CountryProfile) -> dict[str, RingCadence]:
    """Every named cadence of a profile, "normal" first."""
    patterns = {"normal": RingCadence(profile.ring.cadence_ms)}
    patterns.update((name, RingCadence(steps)) for name, steps in profile.ring.distinctive)
    return patterns
