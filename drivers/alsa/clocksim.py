"""Two simulated 8 kHz clocks around a :class:`DriftBuffer`, for tests and the bench.

The producer pushes ``push_samples`` per period on a clock ``ppm`` fast (negative: slow);
the consumer pops ``pop_samples`` per period on the nominal clock. Both wake with a seeded
random jitter, as threads do. Nothing sleeps: simulated minutes take milliseconds.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

from drivers.alsa.driftbuffer import DriftBuffer, DriftStats

RATE = 8000


@dataclass(frozen=True)
class DriftRun:
    seconds: float
    ppm: float
    stats: DriftStats
    min_depth: int  # after priming
    max_depth: int
    pops: int

    @property
    def corrections_per_minute(self) -> float:
        return self.stats.corrections * 60.0 / self.seconds


def simulate_drift(buffer: DriftBuffer, *, ppm: float, seconds: float,
                   push_samples: int = 160, pop_samples: int = 160,
                   jitter_s: float = 0.002, seed: int = 1) -> DriftRun:
    rng = random.Random(seed)
    push_period = push_samples / (RATE * (1.0 + ppm * 1e-6))
    pop_period = pop_samples / RATE
    # (instant, order, kind): kind 0 = push, 1 = pop; a tie runs the push first.
    events: list[tuple[float, int, int]] = [(0.0, 0, 0), (pop_period / 2, 1, 1)]
    k_push = k_pop = 0
    ramp = bytearray()
    for i in range(push_samples):
        ramp += (i * 97 % 2000 - 1000).to_bytes(2, "little", signed=True)
    chunk = bytes(ramp)
    lo, hi, pops = buffer.capacity, 0, 0
    while events:
        at, _, kind = heapq.heappop(events)
        if at > seconds:
            break
        if kind == 0:
            buffer.push(chunk)
            k_push += 1
            nominal = k_push * push_period
        else:
            buffer.pop(pop_samples)
            pops += 1
            k_pop += 1
            nominal = pop_period / 2 + k_pop * pop_period
            if buffer.stats().primed:
                lo, hi = min(lo, buffer.depth), max(hi, buffer.depth)
        heapq.heappush(events, (nominal + rng.uniform(0.0, jitter_s), kind, kind))
    return DriftRun(seconds=seconds, ppm=ppm, stats=buffer.stats(), min_depth=lo,
                    max_depth=max(hi, lo), pops=pops)
