"""What a call does with each event, one class per phase (sippy's UacState* idea).

Rules (``A`` is the caller leg, ``B`` the callee leg; "FXS" is a handset on this box; the
moves they use, placing, offering and failing a call, have their rules in ``actions``):

- DIALLING: the first digit stops the dial tone; digits run against the box's digit map.
  COMPLETE dials at once; PARTIAL and PARTIAL_COMPLETE (re)arm the interdigit timer, whose
  expiry dials a PARTIAL_COMPLETE number and gives congestion for a PARTIAL one; NO_MATCH
  gives congestion at once. No first digit in time gives congestion. A flash while
  dialling clears the digits and gives dial tone again (a fresh start, as on ATAs).
- PROCEEDING/RINGING: alerting gives ringback, or with early media silence and a bridge so
  A hears the far end's audio (and its digits reach a menu there). B's answer connects:
  A's tone stops, the legs are bridged (once), and a non-FXS A (SIP, FXO) is answered. B
  failing gives A busy tone for USER_BUSY and congestion for any other cause. The
  no-answer timer releases B with NO_ANSWER and gives A congestion, as an ATA does when a
  call cannot complete. A hanging up releases B (stops the ringing, or CANCELs). A trunk
  failing before answer with a cause about the way, not the callee, hands the call to the
  route's next trunk (``actions.next_trunk``; the rules in ``tollguard``).
- CONNECTED: a leg hanging up unbridges; its partner hears busy (disconnect) tone if it is
  an FXS handset, or is released otherwise. A flash does not end the call.
- ENDED: an FXS handset left off-hook hears its final tone for ``busy_tone_s``, then the
  howler for ``howler_s``, then silence, until it goes on-hook.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Digit,
    Flash,
    PlayDone,
    Release,
    Tone,
    ToneName,
    Unbridge,
)
from firmware.pbx import forwarding, recording
from firmware.pbx.actions import (
    Board,
    caller_fails,
    final_tone,
    forward_digit,
    next_trunk,
    partner_left,
    place,
    record,
)
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition, disposition_for
from firmware.pbx.digitmap import Outcome
from firmware.pbx.dispatch import stop_play
from firmware.pbx.sites import fall_back
from firmware.pbx.tollguard import tries_next_trunk

logger = logging.getLogger(__name__)


class CallState:
    """Default behaviour: ignore the event (a call survives the other side's mistakes)."""

    phase: ClassVar[Phase]

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        logger.debug(
            "call %d: digit from %s ignored while %s", call.call_id, event.leg, call.phase.value
        )

    def on_flash(self, board: Board, call: Call, event: Flash, now: float) -> None:
        logger.debug(
            "call %d: flash from %s ignored while %s", call.call_id, event.leg, call.phase.value
        )

    def on_alerting(self, board: Board, call: Call, event: Alerting, now: float) -> None:
        unexpected(call, event)

    def on_answer(self, board: Board, call: Call, event: Answer, now: float) -> None:
        unexpected(call, event)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        unexpected(call, event)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        logger.warning(
            "call %d: %s timer while %s ignored", call.call_id, timer.value, call.phase.value
        )

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        recording.play_done(board, call, event)  # the consent prompt ended


def unexpected(call: Call, event: object) -> None:
    logger.warning("call %d: %r ignored while %s", call.call_id, event, call.phase.value)


class Dialling(CallState):
    phase = Phase.DIALLING

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        if not call.digits:
            board.emit(Tone(call.a, None))
        call.digits += event.digit
        result = board.plan.dial_map.match(call.digits)
        if result.outcome is Outcome.COMPLETE:
            place(board, call, result.number, now)
        elif result.outcome is Outcome.NO_MATCH:
            reason = f"{call.digits!r} is not in the digit map"
            record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER, reason)
            caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
        else:
            call.arm(Timer.INTERDIGIT, now + board.plan.timers.interdigit_s)

    def on_flash(self, board: Board, call: Call, event: Flash, now: float) -> None:
        call.digits = ""
        board.emit(Tone(call.a, "dial"))
        call.arm(Timer.FIRST_DIGIT, now + board.plan.timers.first_digit_s)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if call.digits:
            reason = f"caller hung up after dialling {call.digits!r}"
            record(board, call, now, Disposition.FAILED, event.cause, reason)
        call.gone.add(call.a)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        if timer is Timer.FIRST_DIGIT and not call.digits and forwarding.warm_line(board, call,
                                                                                  now):
            return
        if timer is Timer.FIRST_DIGIT:
            logger.info("call %d: %s dialled nothing in time", call.call_id, call.a)
            final_tone(board, call, call.a, "congestion", now)
            return
        result = board.plan.dial_map.match(call.digits)
        if result.matched:
            place(board, call, result.number, now)
        else:
            reason = f"incomplete number {call.digits!r}"
            record(board, call, now, Disposition.CONGESTION, Cause.INVALID_NUMBER_FORMAT, reason)
            caller_fails(board, call, "congestion", Cause.INVALID_NUMBER_FORMAT, now)


class Proceeding(CallState):
    """Placed and waiting for the callee: the base of RINGING too."""

    phase = Phase.PROCEEDING

    def on_alerting(self, board: Board, call: Call, event: Alerting, now: float) -> None:
        if event.leg != call.b:
            unexpected(call, event)
            return
        if event.early_media:
            self._early_media(board, call)
        elif board.plan.is_fxs(call.a):
            board.emit(Tone(call.a, "ringback"))
        else:
            board.emit(Alerting(call.a))
        call.enter(Phase.RINGING, now, keep_timer=True)

    def _early_media(self, board: Board, call: Call) -> None:
        assert call.b is not None
        if call.bridged or call.originated():
            return
        stop_play(board, call)
        if board.plan.is_fxs(call.a):
            board.emit(Tone(call.a, None))
        elif not call.a_up:
            board.emit(Alerting(call.a, early_media=True))
        board.emit(Bridge(call.a, call.b))
        call.bridged = True

    def on_answer(self, board: Board, call: Call, event: Answer, now: float) -> None:
        if event.leg != call.b:
            unexpected(call, event)
            return
        if call.originated():  # a call the box placed itself (firmware/pbx/originate)
            from firmware.pbx import originate

            originate.answered(board, call, now)
            return
        stop_play(board, call)
        if board.plan.is_fxs(call.a):
            board.emit(Tone(call.a, None))
        if not call.bridged:
            board.emit(Bridge(call.a, call.b))
            call.bridged = True
        if not board.plan.is_fxs(call.a) and not call.a_up:
            board.emit(Answer(call.a))
            call.a_up = True
        call.answered = now
        call.enter(Phase.CONNECTED, now)
        recording.answered(board, call)

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        if call.bridged:  # early media: the far end may be a menu that wants digits
            forward_digit(board, call, event)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        assert call.b is not None
        self._unbridge(board, call)
        call.gone.add(event.leg)
        if event.leg == call.a:
            board.emit(Release(call.b, Cause.NORMAL_CLEARING))
            call.gone.add(call.b)
            reason = "caller hung up before answer"
            record(board, call, now, Disposition.ABANDONED, Cause.NORMAL_CLEARING, reason)
            call.enter(Phase.ENDED, now)
            return
        if call.next_trunks and tries_next_trunk(event.cause):
            call.tried.append(f"{call.trunk}: {event.cause.name}")
            call.former.append(call.b)
            call.b = None
            if board.plan.is_fxs(call.a):
                board.emit(Tone(call.a, None))  # no ringback from the failed attempt
            next_trunk(board, call, now)
            return
        if fall_back(board, call, event.cause, now):  # another site away: its fallback
            return
        reason = f"callee released: {event.cause.name}"
        if call.tried:
            reason += f" (after {'; '.join(call.tried)})"
        record(board, call, now, disposition_for(event.cause), event.cause, reason, "callee")
        tone: ToneName = "busy" if event.cause is Cause.USER_BUSY else "congestion"
        caller_fails(board, call, tone, event.cause, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        assert call.b is not None
        self._unbridge(board, call)
        if forwarding.no_answer(board, call, now):  # forward-no-answer (features.py)
            return
        board.emit(Release(call.b, Cause.NO_ANSWER))
        call.gone.add(call.b)
        reason = f"no answer in {call.ring_s or board.plan.timers.no_answer_s:g} s"
        record(board, call, now, Disposition.NO_ANSWER, Cause.NO_ANSWER, reason)
        caller_fails(board, call, "congestion", Cause.NO_ANSWER, now)

    @staticmethod
    def _unbridge(board: Board, call: Call) -> None:
        if call.bridged and call.b is not None:
            board.emit(Unbridge(call.a, call.b))
            call.bridged = False


class Ringing(Proceeding):
    phase = Phase.RINGING

    def on_alerting(self, board: Board, call: Call, event: Alerting, now: float) -> None:
        if event.leg != call.b:
            unexpected(call, event)
        elif event.early_media:
            self._early_media(board, call)
        # A repeated plain alerting changes nothing: the caller already hears ringback.


class Connected(CallState):
    phase = Phase.CONNECTED

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        if call.origin is not None and event.leg == call.a:
            # A caller from outside keys digits: they reach the handset's ear at most and
            # never a digit map (the value is not logged: it may be a PIN).
            logger.info("call %d: a digit (%s) from %s, who called in, dials nothing",
                        call.call_id, event.source, event.leg)
        for digit in recording.keyed(board, call, event):  # the record code stays here
            forward_digit(board, call, digit)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        assert call.b is not None
        recording.stop(board, call)
        board.emit(Unbridge(call.a, call.b))
        call.bridged = False
        call.gone.add(event.leg)
        who = "caller" if event.leg == call.a else "callee"
        record(board, call, now, Disposition.ANSWERED, event.cause, f"{who} hung up", who)
        other = call.other(event.leg)
        assert other is not None
        partner_left(board, call, other, now)


class Ended(CallState):
    phase = Phase.ENDED

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        call.gone.add(event.leg)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        for leg in call.legs():
            if timer is Timer.HOWLER:
                board.emit(Tone(leg, "howler"))
                call.arm(Timer.SILENCE, now + board.plan.timers.howler_s)
            else:
                board.emit(Tone(leg, None))


STATES: dict[Phase, CallState] = {
    state.phase: state for state in (Dialling(), Proceeding(), Ringing(), Connected(), Ended())
}
