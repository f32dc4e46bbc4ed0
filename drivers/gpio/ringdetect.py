"""Ring validation for a DAA's ring-detect input (sans-IO: instants in, bursts out).

A polarity reversal, a line hit or dial-pulse noise also makes the ring-detect
optocoupler conduct for a moment, so activity counts as ringing only once it has lasted
``min_ms`` (TELEPHONY.md: 40 ms or more). An unfiltered opto pulses at the ring
frequency; gaps shorter than ``gap_ms`` join the pulses into one burst.

Rules:

* Activity starts at the first active edge after the detector was idle.
* Activity ends when the input has been inactive for ``gap_ms`` (0: at once).
* Activity whose span from its start to now (while active) or to its last inactive edge
  (once ended) reaches ``min_ms`` is a ring burst: ``on`` carries the start instant, ``off``
  the last inactive edge. Shorter activity is dropped.
* The caller feeds edges with :meth:`edge` and calls :meth:`poll` at :attr:`deadline`;
  both return the :class:`Burst` values now decided.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Burst:
    on: bool
    at: float


def _ms(since: float, until: float) -> float:
    # Rounded to the microsecond so a window given in whole ms compares exactly.
    return round((until - since) * 1000.0, 3)


class RingValidator:
    def __init__(self, min_ms: float = 40.0, gap_ms: float = 0.0) -> None:
        self.min_ms = min_ms
        self.gap_ms = gap_ms
        self.active = False  # the input's level
        self._start: float | None = None  # start of the current activity
        self._last_off: float | None = None  # last inactive edge within the activity
        self._burst = False  # the activity was validated as a ring burst
        self.rejected = 0  # activity too short to be a ring

    @property
    def ringing(self) -> bool:
        return self._burst

    @property
    def deadline(self) -> float | None:
        """When :meth:`poll` must next run, or None."""
        if self._start is None:
            return None
        if self.active:
            return None if self._burst else self._start + self.min_ms / 1000.0
        assert self._last_off is not None
        return self._last_off + self.gap_ms / 1000.0

    def edge(self, active: bool, at: float) -> list[Burst]:
        out = self.poll(at)
        if active == self.active:
            return out
        self.active = active
        if active:
            if self._start is None:
                self._start = at
            self._last_off = None
        elif self._start is not None:
            self._last_off = at
            out += self.poll(at)
        return out

    def poll(self, now: float) -> list[Burst]:
        if self._start is None:
            return []
        out: list[Burst] = []
        end = now if self.active else self._last_off
        assert end is not None
        if not self._burst and _ms(self._start, end) >= self.min_ms:
            self._burst = True
            out.append(Burst(True, self._start))
        last_off = self._last_off
        if not self.active and last_off is not None and _ms(last_off, now) >= self.gap_ms:
            if self._burst:
                out.append(Burst(False, last_off))
            else:
                self.rejected += 1
            self._start = self._last_off = None
            self._burst = False
        return out
