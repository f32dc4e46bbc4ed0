"""What one stored call record holds, and the words the store uses for outcomes.

Dispositions: the five of the issue (Asterisk's CDR words, lower case). The exchange's
own finer outcome (``firmware.pbx.cdr.Disposition``) is kept in ``status``:

============  =====================================================
answered      ANSWERED
busy          BUSY
no answer     NO ANSWER
abandoned     ABANDONED
failed        FAILED, CONGESTION (no route, no circuit), DENIED (a rule)
============  =====================================================

"missed" (a filter, not a disposition): a call *to* someone that nobody took: no answer,
abandoned or busy, with an extension as the callee or through a hunt group. Filtered by
extension: the calls to that extension, and the group calls that rang it and that nobody
took.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DISPOSITIONS = ("answered", "busy", "no answer", "abandoned", "failed")
MISSED = ("no answer", "abandoned", "busy")
STATUS_TO_DISPOSITION = {
    "ANSWERED": "answered", "BUSY": "busy", "NO_ANSWER": "no answer",
    "NO ANSWER": "no answer", "ABANDONED": "abandoned", "FAILED": "failed",
    "CONGESTION": "failed", "DENIED": "failed",
}
HANGUP_SIDES = ("caller", "callee", "box")


def disposition_of(status: str) -> str:
    """The store's disposition for the exchange's outcome name (``NO_ANSWER`` or
    ``NO ANSWER``); ValueError names an unknown one."""
    try:
        return STATUS_TO_DISPOSITION[status.upper()]
    except KeyError:
        raise ValueError(f"unknown call outcome {status!r}; known: "
                         f"{', '.join(sorted(STATUS_TO_DISPOSITION))}") from None


@dataclass(frozen=True)
class Leg:
    """One leg of a call: the caller's, each callee attempt (a trunk that failed over, a
    group member rung) and the one that answered."""

    leg: str
    role: str  # "caller" | "callee" | "attempt"
    number: str | None = None
    trunk: str | None = None
    result: str | None = None


@dataclass(frozen=True)
class CallRow:
    """A call record as stored. Times are wall-clock seconds (Unix time)."""

    start: float
    end: float
    status: str  # the exchange's outcome name: ANSWERED, BUSY, NO_ANSWER, ...
    answer: float | None = None
    call_id: int | None = None  # the exchange's number for it (restarts at 1 per run)
    caller_leg: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    caller_ext: str | None = None  # the extension that called, if one did
    called_number: str | None = None
    called_name: str | None = None
    callee_leg: str | None = None
    callee_ext: str | None = None  # the extension called (rung or busy), if any
    direction: str = "internal"  # internal | inbound | outbound
    route: str | None = None
    trunk: str | None = None
    path: tuple[str, ...] = ()  # group/menu path, e.g. ("menu:main", "group:sales")
    queue_wait: float | None = None
    cause: int | None = None
    cause_name: str | None = None
    reason: str | None = None
    hangup_side: str | None = None  # caller | callee | box
    recording: str | None = None
    legs: tuple[Leg, ...] = field(default_factory=tuple)
    uid: str | None = None  # given by the store when None

    @property
    def disposition(self) -> str:
        return disposition_of(self.status)

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def billsec(self) -> float:
        return 0.0 if self.answer is None else max(0.0, self.end - self.answer)
