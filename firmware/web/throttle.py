"""Login throttling: exponential backoff per address and per account name.

After the n-th failure in a row for a key (an address, or an account name), the next try
for that key is refused until ``base * 2**(n-1)`` seconds (at most ``cap``) have passed
since that failure. Refusals do not count as failures, so a person who waits gets in; a
success clears the account's key and the address's. Throttling the account name as well as
the address stops a guesser who spreads over many addresses; throttling the address stops
one who spreads over many names. The table is bounded: keys whose wait ran out long ago go.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_KEYS = 4096


@dataclass
class _Failures:
    count: int
    last: float


class LoginThrottle:
    def __init__(self, base_s: float, cap_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._clock = clock
        self._keys: dict[str, _Failures] = {}

    def _delay(self, count: int) -> float:
        return float(min(self.cap_s, self.base_s * 2 ** (count - 1)))

    def wait_s(self, keys: Iterable[str]) -> float:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            f = self._keys.get(key)
            if f is not None:
                wait = max(wait, f.last + self._delay(f.count) - now)
        return wait

    def failed(self, keys: Iterable[str]) -> None:
        now = self._clock()
        for key in keys:
            f = self._keys.get(key)
            if f is None:
                self._keys[key] = _Failures(1, now)
            else:
                f.count, f.last = f.count + 1, now
        if len(self._keys) > MAX_KEYS:
            self._prune(now)

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._keys.pop(key, None)

    def _prune(self, now: float) -> None:
        for key, f in list(self._keys.items()):
            if now - f.last > 2 * self.cap_s:
                del self._keys[key]
        while len(self._keys) > MAX_KEYS:
            oldest = min(self._keys, key=lambda k: self._keys[k].last)
            del self._keys[oldest]


def keys_for(address: str, account: str) -> tuple[str, str]:
    return (f"addr:{address}", f"user:{account.lower()}")
