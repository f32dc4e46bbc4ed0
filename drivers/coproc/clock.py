"""Mapping the co-processor's millisecond clock to the host's ``time.monotonic()``.

Rules (board/PROTOCOL.md section 5):

* The MCU clock wraps at 2**clock_bits ms; a value is unwrapped to the one nearest the last
  observed value, so events stamped a little before or after it both come out right.
* Each observation is a frame whose MCU send time is known (HELLO, KEEPALIVE) together with
  the host instant it was received; ``offset = received - sent``. The smallest offset over
  the last ``window`` observations is the estimate: it belongs to the frame that waited
  least in UARTs, buffers and threads. A window, not an all-time minimum, so that crystal
  drift between the two clocks cannot build up.
* An instant mapped to the host is never later than ``now``: nothing is reported as having
  happened in the future.
"""

from __future__ import annotations

from collections import deque

DEFAULT_WINDOW = 32


class McuClock:
    def __init__(self, clock_bits: int = 30, window: int = DEFAULT_WINDOW) -> None:
        self._window = window
        self.reset(clock_bits)

    def reset(self, clock_bits: int) -> None:
        self._period = 1 << clock_bits
        self._last: int | None = None  # last observed value, unwrapped (ms)
        self._offsets: deque[float] = deque(maxlen=self._window)

    @property
    def synced(self) -> bool:
        return bool(self._offsets)

    def unwrap(self, t: int) -> int:
        """``t`` (ms, modulo the period) as a count of ms continuing the last observation."""
        if self._last is None:
            return t % self._period
        half = self._period // 2
        delta = (t - self._last + half) % self._period - half
        return self._last + delta

    def observe(self, t: int, received: float) -> None:
        """The MCU sent a frame at ``t`` (its clock) and the host got it at ``received``."""
        ext = self.unwrap(t)
        if self._last is None or ext > self._last:
            self._last = ext
        self._offsets.append(received - ext / 1000.0)

    def to_host(self, t: int, now: float) -> float:
        """The host instant of MCU time ``t``; ``now`` when the clock has no samples yet."""
        if not self._offsets:
            return now
        return min(now, self.unwrap(t) / 1000.0 + min(self._offsets))
