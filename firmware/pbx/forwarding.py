"""Where the exchange applies forwarding and do-not-disturb (rules in ``features``)."""

from __future__ import annotations

import dataclasses
import logging

from firmware.core.causes import Cause
from firmware.core.events import Release, Tone
from firmware.pbx import pickup
from firmware.pbx.actions import Board, caller_fails, final_tone, place, record
from firmware.pbx.calls import Call, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import Destination
from firmware.pbx.features import MAX_HOPS, apply_code, hops, log_change
from firmware.pbx.plan import Extension

logger = logging.getLogger(__name__)

VOICEMAIL = "voicemail"
"""``Call.forward``'s target when no answer leads to the extension's mailbox."""


def dialled_code(board: Board, call: Call, number: str, now: float) -> bool:
    """``number`` is a star code: apply it for the caller's extension; True if it was
    one (the caller then hears confirmation or congestion)."""
    meaning = board.plan.feature_codes.meaning(number)
    if meaning is None:
        return False
    setting, value = meaning
    ext = board.plan.extension_on(call.a)
    if ext is None:
        final_tone(board, call, call.a, "congestion", now)
        return True
    if setting == "hide_number":  # this one call shows no caller ID
        call.caller = dataclasses.replace(call.caller, presentation="restricted")
        call.digits = value
        place(board, call, value, now)
        return True
    if setting == "no_call_waiting":  # *70: this one call is not interrupted
        call.no_waiting = True
        call.digits = value
        place(board, call, value, now)
        return True
    if setting in ("pickup", "directed_pickup"):
        pickup.answer_ringing(board, call, ext, value, now)
        return True
    if setting == "voicemail":  # the mailbox menu (firmware/pbx/voicemail.py)
        from firmware.pbx import voicemail

        voicemail.listen(board, call, ext.number, value, now)
        return True
    if setting != "dnd" and value and (value == ext.number or board.plan.resolve(value) is None):
        logger.info("call %d: %s: %s to %r refused (itself, or leads nowhere)", call.call_id,
                    ext.number, setting, value)
        record(board, call, now, Disposition.FAILED, Cause.INVALID_NUMBER_FORMAT,
               f"feature code {setting}: {value!r} is not a number to forward to")
        # A handset hears congestion; an IP phone's code "call" is refused with the cause.
        caller_fails(board, call, "congestion", Cause.INVALID_NUMBER_FORMAT, now)
        return True
    features = board.features.setdefault(ext.number, board.plan.feature_defaults(ext.number))
    apply_code(features, setting, value)
    board.features_changed = True
    log_change(ext.number, features)
    if board.plan.is_fxs(call.a):
        final_tone(board, call, call.a, "stutter", now)  # the confirmation
    else:  # an IP phone: the code "call" simply ends
        board.emit(Release(call.a, Cause.NORMAL_CLEARING))
        call.gone.add(call.a)
    return True


def warm_line(board: Board, call: Call, now: float) -> bool:
    """No first digit in time on a warm line: dial its number (True when it did)."""
    ext = board.plan.extension_on(call.a)
    features = board.features.get(ext.number) if ext is not None else None
    if features is None or not features.hotline:
        return False
    board.emit(Tone(call.a, None))
    call.digits = features.hotline
    place(board, call, features.hotline, now)
    return True


def redirect(board: Board, call: Call, ext: Extension, now: float) -> bool:
    """Before ``ext`` rings for ``call``: do-not-disturb or forwarding may take the call
    elsewhere. True when they did (the caller is handled)."""
    features = board.features.get(ext.number)
    if features is None or ext.leg == call.a:
        return False
    if hops(call.path) >= MAX_HOPS:
        logger.warning("call %d: %d forwards already; %s rings itself", call.call_id,
                       MAX_HOPS, ext.number)
        return False
    if features.dnd and features.voicemail:
        return _to_voicemail(board, call, ext, now)
    if features.dnd:
        record(board, call, now, Disposition.BUSY, Cause.USER_BUSY,
               f"extension {ext.number}: do not disturb")
        caller_fails(board, call, "busy", Cause.USER_BUSY, now)
        return True
    if features.reject_anonymous and call.caller.presentation != "allowed":
        record(board, call, now, Disposition.FAILED, Cause.CALL_REJECTED,
               f"extension {ext.number}: anonymous calls refused")
        caller_fails(board, call, "congestion", Cause.CALL_REJECTED, now)
        return True
    if features.forward_always:
        forward(board, call, ext, features.forward_always, now)
        return True
    if features.forward_busy and board.leg_state(ext.leg) != "idle":
        forward(board, call, ext, features.forward_busy, now)
        return True
    if features.voicemail and board.leg_state(ext.leg) != "idle" \
            and not board.call_waiting(ext.leg):  # call waiting first (flashcalls.py)
        return _to_voicemail(board, call, ext, now)
    return False


def _to_voicemail(board: Board, call: Call, ext: Extension, now: float) -> bool:
    from firmware.pbx import voicemail  # it answers calls through dispatch

    return voicemail.deposit(board, call, ext.number, now)


def ringing(board: Board, call: Call, ext: Extension, now: float) -> None:
    """``ext`` now rings for ``call``: with forward-no-answer on, the no-answer timer
    becomes the forward timer."""
    features = board.features.get(ext.number)
    if features is None or hops(call.path) >= MAX_HOPS:
        return
    if not features.forward_no_answer:
        if features.voicemail:  # no answer: the mailbox (voicemail.py)
            call.forward = (ext.number, VOICEMAIL)
            call.arm(Timer.NO_ANSWER, now + features.voicemail_after_s)
        return
    call.forward = (ext.number, features.forward_no_answer)
    call.arm(Timer.NO_ANSWER, now + features.forward_after_s)


def no_answer(board: Board, call: Call, now: float) -> bool:
    """The no-answer timer fired: forward the call if it was armed for that."""
    if call.forward is None or call.b is None:
        return False
    number, target = call.forward
    call.forward = None
    ext = board.plan.extension(number)
    if ext is None or call.b != ext.leg:
        return False
    board.emit(Release(call.b, Cause.NO_ANSWER))
    call.gone.add(call.b)
    call.former.append(call.b)
    call.b = None
    if target == VOICEMAIL:
        from firmware.core.events import Tone

        if board.plan.is_fxs(call.a):
            board.emit(Tone(call.a, None))
        return _to_voicemail(board, call, ext, now) or _no_mailbox(board, call, now)
    forward(board, call, ext, target, now)
    return True


def _no_mailbox(board: Board, call: Call, now: float) -> bool:
    record(board, call, now, Disposition.NO_ANSWER, Cause.NO_ANSWER, "no answer; no mailbox")
    caller_fails(board, call, "congestion", Cause.NO_ANSWER, now)
    return True


def forward(board: Board, call: Call, ext: Extension, number: str, now: float) -> None:
    """Send ``call`` on to ``number`` for ``ext``, with ``ext``'s permission."""
    from firmware.pbx.dispatch import send_to  # dispatch rings extensions through us

    logger.info("call %d: %s forwards to %s", call.call_id, ext.number, number)
    call.path.append(f"forward:{ext.number}")
    call.origin = ext.origin()
    send_to(board, call, Destination("dial", number), now)
