"""Call detail records: one per call attempt, written when the conversation (or the
attempt) ends, kept in a bounded store the app drains to persist them.

What counts as a call: an inbound setup, or a handset that dialled at least one digit.
Lifting the handset and putting it down again (or letting the first-digit timer expire)
leaves no record: it is not a call attempt, and it would bury the real ones.

Dispositions follow the names office PBXs print (Asterisk's CDR ``disposition``):

============  ===============================================================
ANSWERED      the callee answered; ``cause`` says how it ended
NO ANSWER     nobody answered: the ring timer expired or the callee reported no
              answer
ABANDONED     the caller gave up before the callee answered: a handset put down
              while it rang, a SIP CANCEL, a PSTN caller whose rings stopped
BUSY          the callee was busy (Q.850 17), including calling one's own number
CONGESTION    the number could not be routed: not in the plan, incomplete,
              no circuit or congestion on the way
DENIED        the caller may not make this call (permission class, limits,
              spending guard, a call from outside trying to leave again);
              ``reason`` says which rule
FAILED        any other failure, and giving up half-way through dialling
============  ===============================================================
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from firmware.core.causes import Cause

DEFAULT_RECORD_LIMIT = 1000


class Disposition(enum.Enum):
    ANSWERED = "ANSWERED"
    NO_ANSWER = "NO ANSWER"
    ABANDONED = "ABANDONED"
    BUSY = "BUSY"
    FAILED = "FAILED"
    CONGESTION = "CONGESTION"
    DENIED = "DENIED"


_UNANSWERED: dict[Cause, Disposition] = {
    Cause.USER_BUSY: Disposition.BUSY,
    Cause.NO_ANSWER: Disposition.NO_ANSWER,
    Cause.NO_USER_RESPONDING: Disposition.NO_ANSWER,
    Cause.UNALLOCATED_NUMBER: Disposition.CONGESTION,
    Cause.INVALID_NUMBER_FORMAT: Disposition.CONGESTION,
    Cause.NO_CIRCUIT_AVAILABLE: Disposition.CONGESTION,
    Cause.SWITCHING_EQUIPMENT_CONGESTION: Disposition.CONGESTION,
}


def disposition_for(cause: Cause) -> Disposition:
    """The disposition of an unanswered call the far side ended with ``cause``."""
    return _UNANSWERED.get(cause, Disposition.FAILED)


@dataclass(frozen=True)
class CallRecord:
    """One call. Times are the ``now`` values the exchange was given."""

    call_id: int
    caller_leg: str
    caller_number: str | None
    called_number: str  # as dialled (or as received, for inbound calls)
    callee_leg: str | None
    start: float
    answer: float | None
    end: float
    disposition: Disposition
    cause: Cause
    reason: str  # for people reading logs: "callee hung up", "no route for 0049..."
    trunk: str | None = None
    # For the records database (issue 10): who took part, which way it went, who ended it.
    caller_name: str | None = None
    caller_extension: str | None = None  # the extension that called, if one did
    called_name: str | None = None
    callee_extension: str | None = None  # the extension called (rung or busy), if any
    direction: str = "internal"  # internal | inbound | outbound
    route: str | None = None  # outbound: the route's pattern; inbound: the DID or line
    path: tuple[str, ...] = ()  # the group/menu path the call went through
    queue_wait: float | None = None  # seconds waited in a group's queue
    hangup_side: str | None = None  # caller | callee | box
    # Every leg: (leg, role, trunk, result, its extension); role caller | callee | attempt.
    legs: tuple[tuple[str, str, str | None, str | None, str | None], ...] = ()

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start

    @property
    def billsec(self) -> float:
        """Seconds of conversation (0 when unanswered)."""
        return 0.0 if self.answer is None else self.end - self.answer


class CallRecords:
    """The most recent ``limit`` records, and those the app has not taken yet (also at
    most ``limit``: if the app stops draining, the oldest untaken ones are lost first)."""

    def __init__(self, limit: int = DEFAULT_RECORD_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"record limit {limit}: keep at least one record")
        self._recent: deque[CallRecord] = deque(maxlen=limit)
        self._pending: deque[CallRecord] = deque(maxlen=limit)

    def add(self, record: CallRecord) -> None:
        self._recent.append(record)
        self._pending.append(record)

    def recent(self) -> list[CallRecord]:
        return list(self._recent)

    def take(self) -> list[CallRecord]:
        """The records added since the last take, oldest first."""
        taken = list(self._pending)
        self._pending.clear()
        return taken
