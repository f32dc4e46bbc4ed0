"""The auto-informer's campaign: which number to call next, and what each call came to.

Sans-IO, like the exchange: the current time comes in as an argument (wall-clock seconds
since the epoch, since a campaign outlives a daemon restart and monotonic time does not),
with the local minute of the day for the calling window; the next deadline goes out as data.
The app (``firmware/app/informer.py``) places the calls, feeds back what happened and saves
the campaign after every change.

Rules:

- A number is *pending* until it is called; each call is one *attempt*. At most
  ``parallel`` calls of a campaign are in progress at once, and a number has at most one.
- A new call starts only inside the calling ``window`` (local time; ``22:00-06:00`` runs
  over midnight) and only when the way the number leaves has more free channels than the
  ``reserve`` (the caller passes ``free(number)``: free SIP call slots, trunk channels or
  an idle FXO line, counted for people; an extension's own line costs nobody a channel).
  So a campaign never takes the last free channel from the people in the office.
- A number is *done* when it was answered and heard the message to the end, or, with a
  ``confirm_digit``, when the person pressed that digit (before or after the end).
  Otherwise (busy, no answer, failed, hung up early, answered without the digit) it is
  tried again ``retry_after`` seconds after the attempt ended, until ``attempts`` ran out.
- A call the box refused for good (the toll guard barred it, the number does not exist)
  is not tried again: another attempt would be refused the same way.
- Numbers are called in list order; a retry waits behind nothing (it is due at its time).
- A call in progress when the daemon stopped did not end the way a person would notice:
  on resume it gives its attempt back and the number is due at once.
- ``stop`` ends the campaign: nothing more is started (the app hangs up what is in
  progress); a campaign whose every number is final is *done*.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from firmware.core.errors import PbxError

MAX_PARALLEL = 8
MAX_ATTEMPTS = 10
MAX_NUMBERS = 10000
MAX_SCAN = 64
"""Due numbers asked about channels per ``next_call``: with every way full, a long list
costs no more than this many questions a tick."""


class InformerError(PbxError, ValueError):
    """A campaign setting or number list is wrong; the message names it."""


class Outcome(enum.Enum):
    """How one attempt ended, as the app saw it."""

    ANSWERED = "answered"  # answered and then hung up (by either side)
    BUSY = "busy"
    NO_ANSWER = "no answer"
    FAILED = "failed"  # could not be placed or failed on the way; may work later
    REFUSED = "refused"  # refused for good (barred, no such number): no retry


class Result(enum.Enum):
    """A number's state in the report."""

    PENDING = "pending"
    CALLING = "calling"
    CONFIRMED = "confirmed"
    HEARD = "heard"  # answered and heard the message to the end (no confirmation asked)
    ANSWERED = "answered"  # answered, but did not hear it out or did not confirm
    BUSY = "busy"
    NO_ANSWER = "no answer"
    FAILED = "failed"


FINAL_OK = (Result.CONFIRMED, Result.HEARD)
_DIAL_SYMBOLS = re.compile(r"^\+?[0-9*#A-D]{1,32}$")


@dataclass(frozen=True)
class Window:
    """Hours of the day when calls may start, as minutes since local midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
        if not m:
            raise InformerError(f"window {text!r}: write it like 09:00-20:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise InformerError(f"window {text!r}: hours 00-24, minutes 00-59")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise InformerError(f"window {text!r}: start and end are the same time")
        return cls(start, end)

    def __str__(self) -> str:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"
        return f"{hhmm(self.start)}-{hhmm(self.end)}"

    def is_open(self, minute: float) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # over midnight

    def seconds_to_open(self, minute: float) -> float:
        """0 when open; else the seconds until ``start`` comes round."""
        if self.is_open(minute):
            return 0.0
        return ((self.start - minute) % 1440) * 60.0


@dataclass(frozen=True)
class Settings:
    message: tuple[str, ...]  # prompt references (builtin:, file:, say:, digits:)
    confirm_digit: str = ""
    attempts: int = 3
    retry_after_s: float = 120.0
    parallel: int = 2
    window: str = ""  # "" = any time
    caller_id: str = ""

    def __post_init__(self) -> None:
        if not self.message or not all(self.message):
            raise InformerError("message: name a prompt (builtin:NAME, file:NAME.wav, "
                                "say:LANG:TEXT)")
        if self.confirm_digit and (len(self.confirm_digit) != 1
                                   or self.confirm_digit not in "0123456789*#"):
            raise InformerError(f"confirm-digit {self.confirm_digit!r}: one key, 0-9, * or #")
        if not 1 <= self.attempts <= MAX_ATTEMPTS:
            raise InformerError(f"attempts {self.attempts}: from 1 to {MAX_ATTEMPTS}")
        if not 0 <= self.retry_after_s <= 86400:
            raise InformerError(f"retry-after {self.retry_after_s:g} s: from 0 to 24 h")
        if not 1 <= self.parallel <= MAX_PARALLEL:
            raise InformerError(f"parallel {self.parallel}: from 1 to {MAX_PARALLEL}")
        if self.window:
            Window.parse(self.window)
        if self.caller_id and not _DIAL_SYMBOLS.match(self.caller_id):
            raise InformerError(f"caller-id {self.caller_id!r}: digits only")

    @property
    def window_hours(self) -> Window | None:
        return Window.parse(self.window) if self.window else None


@dataclass
class Target:
    """One number of the list and what became of it."""

    number: str
    result: Result = Result.PENDING
    attempts: int = 0
    due: float = 0.0  # when it may be called next
    answered_at: float | None = None  # wall time of the latest answer
    heard_end: bool = False
    confirmed: str = ""  # the digit pressed
    reason: str = ""  # the last attempt's cause or reason
    final: bool = False
    before: Result = Result.PENDING  # the result before the call in progress

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["result"] = self.result.value
        d["before"] = self.before.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Target:
        return cls(**{**d, "result": Result(d["result"]),
                      "before": Result(d.get("before", "pending"))})


def parse_numbers(text: str) -> list[str]:
    """Numbers separated by commas, semicolons or lines; a line starting with ``#`` is a
    comment; spaces, dashes, dots and brackets inside a number are dropped. Duplicates go (first
    kept). Raises InformerError naming the bad entry."""
    numbers: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for item in re.split(r"[,;\t]", line):
            number = re.sub(r"[\s\-.()]", "", item)
            if not number:
                continue
            if not _DIAL_SYMBOLS.match(number):
                raise InformerError(f"numbers line {lineno}: {item.strip()!r} is not a "
                                    "number (digits, * and #, an optional leading +)")
            if number not in seen:
                seen.add(number)
                numbers.append(number)
    if not numbers:
        raise InformerError("numbers: the list is empty")
    if len(numbers) > MAX_NUMBERS:
        raise InformerError(f"numbers: {len(numbers)} numbers; at most {MAX_NUMBERS}")
    return numbers


@dataclass
class Campaign:
    name: str
    settings: Settings
    targets: list[Target]
    created: float
    state: str = "running"  # running, stopped, done
    reserve: int = 1
    ended_at: float | None = None
    _by_number: dict[str, Target] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_number = {t.number: t for t in self.targets}

    @classmethod
    def new(cls, name: str, settings: Settings, numbers: list[str], now: float,
            reserve: int = 1) -> Campaign:
        return cls(name, settings, [Target(n, due=now) for n in numbers], now, reserve=reserve)

    # -- what to do next ----------------------------------------------------------------

    def in_progress(self) -> list[str]:
        return [t.number for t in self.targets if t.result is Result.CALLING]

    def next_call(self, now: float, minute: float, free: Callable[[str], int]) -> str | None:
        """The number to call now, marked as calling (one attempt more); None when nothing
        may start now. Call it again after placing the call (the channels changed)."""
        if self.state != "running" or len(self.in_progress()) >= self.settings.parallel:
            return None
        window = self.settings.window_hours
        if window is not None and not window.is_open(minute):
            return None
        asked = 0
        for target in self._waiting():
            if target.due > now:
                continue
            asked += 1
            if asked > MAX_SCAN:  # the rest wait their turn: a long list costs no more
                return None
            if free(target.number) > self.reserve:
                target.before = target.result
                target.result = Result.CALLING
                target.attempts += 1
                target.answered_at = None
                target.heard_end = False
                target.reason = ""
                return target.number
        return None

    def next_deadline(self, now: float, minute: float) -> float | None:
        """When ``next_call`` may give a number it does not give now (a retry falls due,
        the window opens); None when only a call's end can change that. A number due now
        but held back by channels waits for a call to end, anywhere in the box: the app
        also asks again on every change of the box's calls."""
        if self.state != "running":
            return None
        waiting = [t.due for t in self._waiting()]
        if not waiting:
            return None
        at = max(min(waiting), now)
        window = self.settings.window_hours
        if window is not None:
            at = max(at, now + window.seconds_to_open(minute))
        return at if at > now else None

    def _waiting(self) -> Iterator[Target]:
        return (t for t in self.targets if not t.final and t.result is not Result.CALLING)

    # -- what happened ------------------------------------------------------------------

    def answered(self, number: str, now: float) -> None:
        target = self._calling(number)
        if target is not None:
            target.answered_at = now

    def heard(self, number: str) -> None:
        """The whole message played into the call."""
        target = self._calling(number)
        if target is not None:
            target.heard_end = True

    def digit(self, number: str, digit: str) -> bool:
        """A key pressed in the call; True when it is the confirmation (the app may end
        the call: the campaign has what it wants)."""
        target = self._calling(number)
        if target is None or not self.settings.confirm_digit:
            return False
        if digit == self.settings.confirm_digit and target.answered_at is not None:
            target.confirmed = digit
            return True
        return False

    def ended(self, number: str, outcome: Outcome, now: float, reason: str = "") -> None:
        """The attempt's call ended (or could not start)."""
        target = self._calling(number)
        if target is None:
            return
        target.reason = reason
        if outcome is Outcome.ANSWERED or target.answered_at is not None:
            done = bool(target.confirmed) if self.settings.confirm_digit else target.heard_end
            result = ((Result.CONFIRMED if target.confirmed else Result.HEARD) if done
                      else Result.ANSWERED)
            if not done and not reason:
                target.reason = ("hung up without pressing " + self.settings.confirm_digit
                                 if self.settings.confirm_digit and target.heard_end
                                 else "hung up before the end of the message")
        else:
            done = outcome is Outcome.REFUSED
            result = {Outcome.BUSY: Result.BUSY, Outcome.NO_ANSWER: Result.NO_ANSWER}.get(
                outcome, Result.FAILED)
        target.result = result
        target.final = done or target.attempts >= self.settings.attempts
        target.due = now + self.settings.retry_after_s
        self._check_done(now)

    def _calling(self, number: str) -> Target | None:
        target = self._by_number.get(number)
        return target if target is not None and target.result is Result.CALLING else None

    def resume(self) -> None:
        """After a daemon restart: calls that were in progress give their attempt back."""
        for target in self.targets:
            if target.result is Result.CALLING:
                target.result = target.before
                target.attempts = max(0, target.attempts - 1)
                target.reason = "interrupted by a restart"
                target.due = 0.0
                target.answered_at = None
                target.heard_end = False

    def stop(self, now: float) -> list[str]:
        """Stop; the numbers whose calls are in progress (the app hangs them up)."""
        calling = self.in_progress()
        if self.state == "running":
            self.state = "stopped"
            self.ended_at = now
        return calling

    def _check_done(self, now: float) -> None:
        if self.state == "running" and all(t.final for t in self.targets):
            self.state = "done"
            self.ended_at = now

    # -- reports and persistence ----------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for t in self.targets:
            counts[t.result.value] = counts.get(t.result.value, 0) + 1
        ok = sum(1 for t in self.targets if t.final and t.result in FINAL_OK)
        return {"name": self.name, "state": self.state, "numbers": len(self.targets),
                "done": sum(1 for t in self.targets if t.final), "reached": ok,
                "calling": len(self.in_progress()), "results": counts,
                "attempts": sum(t.attempts for t in self.targets),
                "created": self.created, "ended_at": self.ended_at,
                "settings": asdict(self.settings), "reserve": self.reserve}

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "name": self.name, "settings": asdict(self.settings),
                "created": self.created, "state": self.state, "reserve": self.reserve,
                "ended_at": self.ended_at, "targets": [t.as_dict() for t in self.targets]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Campaign:
        if d.get("version") != 1:
            raise InformerError(f"campaign file version {d.get('version')!r} is not known")
        raw = dict(d["settings"])
        raw["message"] = tuple(raw["message"])
        return cls(d["name"], Settings(**raw), [Target.from_dict(t) for t in d["targets"]],
                   d["created"], state=d["state"], reserve=d.get("reserve", 1),
                   ended_at=d.get("ended_at"))
