"""Login throttling: exponential backoff per address and per account name.

After the n-th failure in a row for a key (an address, or an account name), the next try
for that key is refused until ``base * 2**(n-1)`` seconds (at most ``cap``) have passed
since that failure. Refusals do not count as failures, so a person who waits gets in; a
success clears the account's key and the address's. Throttling the account name as well as
the address stops a guesser who spreads over many addresses; throttling the address stops
one who spreads over many names. The table is bounded: keys whose wait ran out long ago go.

The account name's key alone would let a guesser anywhere lock the account's owner out for
as long as the guessing goes on (one wrong try each time the wait runs out keeps it locked).
So a browser that logged in as an account holds a device token for it (a cookie, from
``trust_device``), and its tries for that account are throttled by that token alone: the
owner gets in while strangers are held off, and the owner's own wrong passwords still slow
that browser down. Tokens live in memory (at most ``MAX_KEYS``; a restart forgets them).
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
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
        self._devices: OrderedDict[str, str] = OrderedDict()  # token -> account (lower)

    def trust_device(self, account: str) -> str:
        """A device token for the browser that just logged in as ``account``."""
        token = secrets.token_urlsafe(24)
        self._devices[token] = account.lower()
        if len(self._devices) > MAX_KEYS:
            self._devices.popitem(last=False)
        return token

    def keys(self, address: str, account: str, device: str | None) -> tuple[str, ...]:
        """The keys a login try is throttled by: the device token's alone when the browser
        holds one for ``account``, else the address's and the account name's."""
        if device is not None and self._devices.get(device) == account.lower():
            return (f"device:{device}",)
        return keys_for(address, account)

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
