"""A bounded sample buffer between two clocks that drift (a codec's and the bridge's).

Each USB codec runs from its own crystal, the media bridge from the Pi's: two 8 kHz clocks
that differ by tens of ppm (a cheap crystal) up to about 1 % (a misconfigured or
adaptive-rate device). Whatever one side produces faster than the other consumes piles up;
left alone it grows the voice delay without bound, or runs dry.

Rules:

* The buffer starts unprimed: :meth:`pop` gives silence until it would leave ``target``
  samples behind; that wait is priming, not an underrun.
* The controlled quantity is the depth left after each pop, smoothed (an exponential
  average over about 16 pops), because pushes and pops of whole periods make the
  instantaneous depth a sawtooth.
* While the smoothed depth is more than ``band`` above ``target``, each pop drops samples;
  more than ``band`` below, it repeats samples. One correction per pop at the edge of the
  band, more the further outside (up to ``max_step`` per pop, enough for a 1 % clock
  error at 20 ms pops), spread evenly through the popped chunk so no two are adjacent.
* A pop that finds fewer samples than it needs is an underrun: what there is plus silence
  goes out and the buffer primes again. A push beyond ``capacity`` is an overrun: the
  oldest samples are dropped. Either way the depth never exceeds ``capacity``.
* No clocks and no threads inside beyond a lock: push and pop may come from two threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

SAMPLE_BYTES = 2
# Smoothing of the depth: the average moves 1/16 of the way to each new reading.
DEPTH_SMOOTHING = 1.0 / 16.0


@dataclass(frozen=True)
class DriftStats:
    depth: int  # samples held now
    target: int
    band: int
    capacity: int
    primed: bool
    underruns: int
    overruns: int
    dropped: int  # samples dropped by drift correction
    repeated: int  # samples repeated by drift correction
    overrun_samples: int  # samples lost to overruns

    @property
    def corrections(self) -> int:
        return self.dropped + self.repeated


class DriftBuffer:
    def __init__(self, target: int = 320, band: int = 120, capacity: int = 1600,
                 max_step: int = 4) -> None:
        if not 0 < band < target or target + band >= capacity or max_step < 1:
            raise ValueError(f"drift buffer needs 0 < band ({band}) < target ({target}), "
                             f"target + band < capacity ({capacity}), max_step >= 1")
        self.target = target
        self.band = band
        self.capacity = capacity
        self.max_step = max_step
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._primed = False
        self._avg = float(target)
        self._underruns = 0
        self._overruns = 0
        self._overrun_samples = 0
        self._dropped = 0
        self._repeated = 0

    @property
    def depth(self) -> int:
        return len(self._buf) // SAMPLE_BYTES

    def push(self, data: bytes) -> None:
        if len(data) % SAMPLE_BYTES:
            raise ValueError(f"push of {len(data)} bytes is not whole s16 samples")
        with self._lock:
            self._buf += data
            excess = len(self._buf) - self.capacity * SAMPLE_BYTES
            if excess > 0:
                del self._buf[:excess]
                self._overruns += 1
                self._overrun_samples += excess // SAMPLE_BYTES
                self._avg = float(self.target)

    def pop(self, n: int) -> bytes:
        """``n`` samples, never blocking: silence while priming or on underrun."""
        with self._lock:
            if not self._primed:
                # Prime so that what is left after this pop is the target depth.
                if self.depth < self.target + n:
                    return bytes(n * SAMPLE_BYTES)
                self._primed = True
                self._avg = float(self.depth - n)
            steps = max(-(n // 2), min(n // 2, self._steps()))
            take = n + steps  # negative steps: repeat samples, so take fewer
            if take * SAMPLE_BYTES > len(self._buf):
                out = bytes(self._buf).ljust(n * SAMPLE_BYTES, b"\0")
                self._buf.clear()
                self._primed = False
                self._underruns += 1
                return out
            chunk = bytes(self._buf[: take * SAMPLE_BYTES])
            del self._buf[: take * SAMPLE_BYTES]
            if steps > 0:
                chunk = _drop(chunk, steps)
                self._dropped += steps
            elif steps < 0:
                chunk = _repeat(chunk, -steps)
                self._repeated += -steps
            self._avg += (self.depth - self._avg) * DEPTH_SMOOTHING
            return chunk

    def _steps(self) -> int:
        """Samples to drop (positive) or repeat (negative) on this pop."""
        off = self._avg - self.target
        outside = abs(off) - self.band
        if outside <= 0:
            return 0
        n = min(self.max_step, 1 + int(outside / max(1, self.band // 2)))
        return n if off > 0 else -n

    def reset(self) -> None:
        with self._lock:
            self._buf.clear()
            self._primed = False
            self._avg = float(self.target)

    def stats(self) -> DriftStats:
        with self._lock:
            return DriftStats(
                depth=self.depth, target=self.target, band=self.band,
                capacity=self.capacity, primed=self._primed, underruns=self._underruns,
                overruns=self._overruns, dropped=self._dropped, repeated=self._repeated,
                overrun_samples=self._overrun_samples)


def _drop(chunk: bytes, k: int) -> bytes:
    """Remove ``k`` samples spread evenly through ``chunk``."""
    n = len(chunk) // SAMPLE_BYTES
    out = bytearray()
    prev = 0
    for j in range(k):
        at = (2 * j + 1) * n // (2 * k)
        out += chunk[prev * SAMPLE_BYTES: at * SAMPLE_BYTES]
        prev = at + 1
    out += chunk[prev * SAMPLE_BYTES:]
    return bytes(out)


def _repeat(chunk: bytes, k: int) -> bytes:
    """Repeat ``k`` samples spread evenly through ``chunk``."""
    n = len(chunk) // SAMPLE_BYTES
    out = bytearray()
    prev = 0
    for j in range(k):
        at = (2 * j + 1) * n // (2 * k)
        out += chunk[prev * SAMPLE_BYTES: (at + 1) * SAMPLE_BYTES]
        out += chunk[at * SAMPLE_BYTES: (at + 1) * SAMPLE_BYTES]
        prev = at + 1
    out += chunk[prev * SAMPLE_BYTES:]
    return bytes(out)
