"""The web call-back: which requests are taken, and the life of each one.

Sans-IO: the time comes in (wall-clock seconds), the app (``firmware/app/callback.py``)
places the calls and reports what happened.

Screening a request, in this order (the first failing rule answers; nothing is dialled):

1. the address has made fewer than ``per_address_per_hour`` requests in the last hour
   (refused requests count too, so a script that probes is slowed down);
2. the number is a phone number (digits, an optional leading ``+``; spaces, dashes, dots
   and brackets are dropped);
3. it matches one of the ``allowed`` digit-map patterns (``9x.``) as the visitor typed it;
4. the outbound routes take it and the toll guard does not class it premium-rate (the
   number as the trunk would get it);
5. the number has been asked for fewer than ``per_number_per_hour`` times in the last
   hour (accepted requests only);
6. the office is open (the schedule, checked by the app, which owns the clock).

The token is checked by the app before rules 2 to 6 (a bad token tells nothing more about
the number), and a bad one counts against the address like any refused request.

A request's life: *queued* -> *office* (the ``to`` destination rings) -> *visitor* (the
member who answered heard "call-back request from NUMBER"; the visitor's number is dialled)
-> *connected* (bridged) -> *done*. When nobody in the office answers, or the visitor does
not, the request goes back to *queued* and is tried again ``retry_after_s`` later, until
``attempts`` ran out (*failed*, with the reason). One request of a number is open at a time.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from firmware.pbx.digitmap import DigitMap

HOUR_S = 3600.0
MAX_KEPT = 200  # finished requests kept for the status listing
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: a short code, the HTTP status, and a sentence."""

    code: str
    status: int
    message: str


def clean_number(text: str) -> str:
    return re.sub(r"[\s\-.()/]", "", text)


@dataclass
class RateLimit:
    """At most ``limit`` events per key in any rolling hour (0 = no limit)."""

    limit: int
    seen: dict[str, deque[float]] = field(default_factory=dict)

    def over(self, key: str, now: float) -> bool:
        times = self._prune(key, now)
        return bool(self.limit) and len(times) >= self.limit

    def add(self, key: str, now: float) -> None:
        self._prune(key, now).append(now)
        if len(self.seen) > 4096:  # forget keys with nothing left in the window
            for k in [k for k, v in self.seen.items() if not v or v[-1] < now - HOUR_S]:
                del self.seen[k]

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self.seen.setdefault(key, deque())
        while times and times[0] <= now - HOUR_S:
            times.popleft()
        return times


@dataclass
class Screen:
    """The rules 1 to 5 of the module docstring."""

    allowed: tuple[DigitMap, ...]
    per_address: RateLimit
    per_number: RateLimit

    @classmethod
    def build(cls, allowed: tuple[str, ...], per_address_per_hour: int,
              per_number_per_hour: int) -> Screen:
        return cls(tuple(DigitMap.parse(p) for p in allowed), RateLimit(per_address_per_hour),
                   RateLimit(per_number_per_hour))

    def check(self, raw: str, address: str, now: float,
              premium: Callable[[str], str | None]) -> tuple[str, Refusal | None]:
        """The cleaned number and the refusal, if any. ``premium(number)`` says why the
        way out refuses it (no route, premium-rate), or None."""
        number = clean_number(raw)
        refusal: Refusal | None
        if self.per_address.over(address, now):
            refusal = self.address_refusal(address)
        else:
            refusal = self._rules(number, raw, premium)
            if refusal is None and self.per_number.over(number, now):
                refusal = Refusal("rate_number", 429,
                                  f"{number} was asked for too often: at most "
                                  f"{self.per_number.limit} requests an hour")
        self.per_address.add(address, now)
        if refusal is None:
            self.per_number.add(number, now)
        return number, refusal

    def address_refusal(self, address: str) -> Refusal:
        return Refusal("rate_address", 429, f"too many requests from {address}: at most "
                                            f"{self.per_address.limit} an hour")

    def _rules(self, number: str, raw: str,
               premium: Callable[[str], str | None]) -> Refusal | None:
        if not _NUMBER.match(number):
            return Refusal("bad_number", 400, f"{raw.strip()[:40]!r} is not a phone number "
                                              "(digits, 3 to 20)")
        if not any(m.fullmatch(number) for m in self.allowed):
            return Refusal("not_allowed", 403, f"{number} may not be called back: the box "
                                               "calls back only numbers its owner allows")
        why = premium(number)
        if why is not None:
            return Refusal("premium", 403, f"{number} may not be called back: {why}")
        return None


@dataclass
class Request:
    id: int
    number: str
    address: str
    created: float
    state: str = "queued"  # queued, office, visitor, connected, done, failed, cancelled
    attempts: int = 0
    due: float = 0.0
    member: str = ""  # the extension that answered
    reason: str = ""
    ended_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ACTIVE = ("office", "visitor", "connected")


@dataclass
class Requests:
    """The open requests and the latest finished ones."""

    attempts: int = 3
    retry_after_s: float = 120.0
    items: list[Request] = field(default_factory=list)
    _ids: int = 0

    def open_for(self, number: str) -> Request | None:
        return next((r for r in self.items if r.number == number
                     and r.state in ("queued", *ACTIVE)), None)

    def add(self, number: str, address: str, now: float) -> Request:
        self._ids += 1
        request = Request(self._ids, number, address, now, due=now)
        self.items.append(request)
        finished = [r for r in self.items if r.ended_at is not None]
        for old in finished[: max(0, len(finished) - MAX_KEPT)]:
            self.items.remove(old)
        return request

    def next_due(self, now: float) -> Request | None:
        """The oldest queued request due now, marked as ringing the office."""
        for r in self.items:
            if r.state == "queued" and r.due <= now:
                r.state = "office"
                r.attempts += 1
                r.member = ""
                return r
        return None

    def next_deadline(self, now: float) -> float | None:
        dues = [r.due for r in self.items if r.state == "queued" and r.due > now]
        return min(dues, default=None)

    def get(self, request_id: int) -> Request | None:
        return next((r for r in self.items if r.id == request_id), None)

    def office_answered(self, request: Request, member: str) -> None:
        request.member = member

    def visitor_dialled(self, request: Request) -> None:
        request.state = "visitor"

    def connected(self, request: Request) -> None:
        request.state = "connected"

    def finished(self, request: Request, now: float) -> None:
        """The bridged call ended."""
        request.state = "done"
        request.ended_at = now

    def failed(self, request: Request, now: float, reason: str, *, final: bool = False) -> None:
        """This attempt failed (nobody answered, the visitor did not...); retried later
        unless the attempts ran out or ``final``."""
        request.reason = reason
        if final or request.attempts >= self.attempts:
            request.state = "failed"
            request.ended_at = now
        else:
            request.state = "queued"
            request.due = now + self.retry_after_s

    def listing(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in reversed(self.items)]
