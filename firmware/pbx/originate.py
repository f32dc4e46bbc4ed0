"""Calls the box places itself: the auto-informer's and the call-back's (issue 9 §5-6).

The API is on :class:`~firmware.pbx.exchange.Exchange` (``originate``, ``hangup``,
``join``); this module holds the per-call job and the HELD phase. Rules:

- An originated call's caller leg A is a *virtual* leg (``orig1``, ``orig2``...) that is
  the app's handle: it never leaves the exchange (what the call states send to it, tones,
  alerting, answer, bridges, prompts, is dropped), so every destination works unchanged:
  an extension, a group (its strategy, members' caller ID is the given caller), a dialled
  number through the outbound routes and the toll guard with ``Origin("app", tag,
  permission)`` (``None``: may not leave at all).
- The app hears of it by :class:`~firmware.pbx.calls.Originated` outputs: ``ringing``
  (first Setup), ``answered`` (leg = who answered), then while HELD ``digit`` and
  ``played`` (PlayDone), and ``ended`` once, with the Q.850 cause and the record's reason
  (a refusal ends in the outputs of ``originate`` itself, never as a tone).
- HELD: the far end is answered and alone (no partner, no tone); the app plays prompts to
  it (``Play`` down, through the box). The far end hanging up, or ``hangup``, ends it.
- ``join(a, b)``: the call-back. ``a`` is HELD (the office member who answered), ``b`` a
  second originated call (the visitor) ringing or HELD; ``a``'s call ends quietly and
  ``b``'s call continues with the member as its caller: ringback until the visitor
  answers, then a bridge, like any call. ``b``'s ``ended`` still comes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firmware.core.causes import Cause
from firmware.core.events import Digit, PlayDone, Release
from firmware.pbx.actions import Board, partner_left, record
from firmware.pbx.calls import Call, Originated, Phase
from firmware.pbx.cdr import Disposition
from firmware.pbx.states import CallState

logger = logging.getLogger(__name__)

__all__ = ["Job", "Originated", "answered"]


@dataclass
class Job:
    handle: str
    tag: str
    rang: bool = False
    joined: bool = False
    done: bool = False  # "ended" was sent


def _job(call: Call) -> Job:
    assert call.job is not None, f"call {call.call_id} is no call the box placed"
    return call.job


def answered(board: Board, call: Call, now: float) -> None:
    """The far end of an originated call answered: it waits, alone, for the app."""
    job = _job(call)
    call.answered = now
    call.enter(Phase.HELD, now)
    board.emit(Originated(job.handle, job.tag, call.b, "answered"))


def end_held(board: Board, call: Call, now: float, who: str) -> None:
    """End a HELD call: its far end is released (a handset hears busy tone)."""
    assert call.b is not None
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
           f"{who} hung up", side="box" if who == "the box" else "callee")
    call.gone.add(call.a)
    if call.b not in call.gone:
        partner_left(board, call, call.b, now)
    call.enter(Phase.ENDED, now) if call.phase is not Phase.ENDED else None


class Held(CallState):
    phase = Phase.HELD

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        job = _job(call)
        if event.leg == call.b:
            board.emit(Originated(job.handle, job.tag, call.b, "digit", digit=event.digit))

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        job = _job(call)
        if event.leg == call.b:
            board.emit(Originated(job.handle, job.tag, call.b, "played"))

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.b:
            return
        call.gone.add(call.b)
        record(board, call, now, Disposition.ANSWERED, event.cause, "callee hung up",
               side="callee")
        call.gone.add(call.a)
        call.enter(Phase.ENDED, now)


STATES = (Held(),)
