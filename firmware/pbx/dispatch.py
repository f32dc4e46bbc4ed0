"""Sending a call to a destination (``destinations``): the one entry every office feature
uses (inbound routes, menu choices, group overflow, schedules, originated calls).

Rules:

- Each destination a call reaches is appended to ``Call.path`` ("menu:main",
  "group:sales", "ext:102"); the call record carries it.
- ``ext:N``: an inbound call not yet answered is offered as before (``actions.offer``);
  any other caller (a handset, a caller the box answered in a menu) rings the extension
  and hears ringing: ringback tone on a handset, ``WAITING_PROMPT`` played (looped) to a
  caller the box has answered, alerting to one it has not. A busy extension is busy.
- ``group:NAME``, ``menu:NAME``, ``announce:PROMPT``: ``hunt`` and ``ivr``.
- ``voicemail:N``: the mailbox of extension N takes the call (firmware/pbx/voicemail.py);
  an extension without one: the call is refused as busy (USER_BUSY), and the log says so.
- ``dial:NUMBER``: resolved like a dialled number. A number leaving through a trunk asks
  the toll guard with the call's origin; a call from outside (a trunk or a PSTN line, whose
  origin has no permission) gets ``DIAL_GRANT`` (national) for this number only: the
  configured destination is the administrator's grant. A handset keeps its own permission.
- ``hangup``: the call ends (normal clearing; a handset hears the busy tone).
"""

from __future__ import annotations

import dataclasses
import logging

from firmware.core.causes import Cause
from firmware.core.events import Alerting, Answer, Party, Play, Setup, Tone
from firmware.pbx.actions import Board, caller_fails, leave, offer, origin_of, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import Destination
from firmware.pbx.plan import ToExtension, ToGroup, ToMenu, ToTrunk
from firmware.pbx.tollguard import Permission

logger = logging.getLogger(__name__)

WAITING_PROMPT = "builtin:ringback"
"""What a caller the box has answered (a menu, a queue) hears while an extension or a
trunk rings for it: the country's ringback tone, as a looping prompt (the prompt cache
builds it from the country profile)."""

DIAL_GRANT = Permission.NATIONAL
"""The permission a call from outside gets for a configured ``dial:`` destination."""


def send_to(board: Board, call: Call, dest: Destination, now: float) -> None:
    """Send ``call`` (its caller leg A) to ``dest``."""
    from firmware.pbx import hunt, ivr  # they send calls on through this module

    call.path.append(str(dest))
    logger.info("call %d: to %s", call.call_id, dest)
    if dest.kind == "ext":
        ring_extension(board, call, dest.target, now)
    elif dest.kind == "group":
        group = board.plan.group(dest.target)
        if group is None:
            nowhere(board, call, f"no group named {dest.target!r}", now)
        else:
            hunt.start(board, call, group, now)
    elif dest.kind == "menu":
        menu = board.plan.menu(dest.target)
        if menu is None:
            nowhere(board, call, f"no menu named {dest.target!r}", now)
        else:
            ivr.start_menu(board, call, menu, now)
    elif dest.kind == "announce":
        ivr.announce(board, call, dest.prompt, now)
    elif dest.kind == "voicemail":
        from firmware.pbx import voicemail

        if voicemail.deposit(board, call, dest.target, now):
            return
        logger.warning("call %d: voicemail:%s asked for, but it has no mailbox; "
                       "the caller is told busy", call.call_id, dest.target)
        stop_play(board, call)
        record(board, call, now, Disposition.BUSY, Cause.USER_BUSY,
               f"voicemail:{dest.target}: extension has no mailbox")
        caller_fails(board, call, "busy", Cause.USER_BUSY, now)
    elif dest.kind == "dial":
        dial(board, call, dest.target, now)
    else:  # hangup
        stop_play(board, call)
        disposition = Disposition.ANSWERED if call.a_up else Disposition.FAILED
        record(board, call, now, disposition, Cause.NORMAL_CLEARING,
               f"sent to hangup (after {' > '.join(call.path[:-1]) or 'nothing'})")
        caller_fails(board, call, "busy", Cause.NORMAL_CLEARING, now)


def nowhere(board: Board, call: Call, reason: str, now: float) -> None:
    stop_play(board, call)
    record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER, reason)
    caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)


def ring_extension(board: Board, call: Call, number: str, now: float) -> None:
    from firmware.pbx import forwarding  # it sends calls on through this module

    ext = board.plan.extension(number)
    if ext is None:
        nowhere(board, call, f"no extension {number}", now)
        return
    if not call.a_up and not board.plan.is_fxs(call.a) and call.job is None \
            and call.phase is Phase.DIALLING:
        offer(board, call, ext, now)
        return
    if forwarding.redirect(board, call, ext, now):
        return
    state = board.leg_state(ext.leg)
    if ext.leg == call.a or state != "idle":
        stop_play(board, call)
        reason = "called own extension" if ext.leg == call.a else \
            f"extension {number} is {state}"
        record(board, call, now, Disposition.BUSY, Cause.USER_BUSY, reason)
        caller_fails(board, call, "busy", Cause.USER_BUSY, now)
        return
    call.called = call.called or number
    call.b = ext.leg
    board.emit(Setup(ext.leg, number, call.caller))
    ringback(board, call)
    call.enter(Phase.RINGING, now)
    call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
    forwarding.ringing(board, call, ext, now)


def dial(board: Board, call: Call, number: str, now: float) -> None:
    target = board.plan.resolve(number)
    if isinstance(target, ToExtension):
        ring_extension(board, call, number, now)
    elif isinstance(target, ToGroup | ToMenu):
        call.path.pop()  # the dial: entry is replaced by what it reached
        send_to(board, call, Destination("group", target.group.name)
                if isinstance(target, ToGroup) else Destination("menu", target.menu.name), now)
    elif isinstance(target, ToTrunk):
        origin = origin_of(board, call)
        if origin.permission is None and call.job is None:
            origin = dataclasses.replace(origin, permission=DIAL_GRANT)
        call.called = call.called or number
        stop_play(board, call)
        left = leave(board, call, origin, target.route.trunks, target.number, now)
        if left and call.a_up:  # the far end's ringing may never come as audio
            ringback(board, call)
    else:
        nowhere(board, call, f"dial:{number}: no extension or route for it", now)


# --- what the caller (leg A) hears --------------------------------------------------------

def answer_caller(board: Board, call: Call, now: float) -> None:
    """The box takes the call itself (a menu, a queue, an announcement)."""
    if call.a_up:
        return
    call.a_up = True
    if board.plan.is_fxs(call.a):
        board.emit(Tone(call.a, None))
    else:
        board.emit(Answer(call.a))
    if call.answered is None:
        call.answered = now


def ringback(board: Board, call: Call) -> None:
    """A waits for a callee: ringback on a handset, alerting to a caller not answered yet,
    the ringback prompt to one the box answered."""
    if board.plan.is_fxs(call.a):
        board.emit(Tone(call.a, "ringback"))
    elif call.a_up:
        play(board, call, (WAITING_PROMPT,), loop=True)
    else:
        board.emit(Alerting(call.a))


def play(board: Board, call: Call, prompts: tuple[str, ...], *, loop: bool = False,
         language: str = "", barge_in: bool = False) -> None:
    board.emit(Play(call.a, prompts, loop=loop, language=language, barge_in=barge_in))
    call.playing = bool(prompts)


def stop_play(board: Board, call: Call) -> None:
    if call.playing:
        board.emit(Play(call.a, ()))
        call.playing = False


def member_caller(call: Call, label: str) -> Party:
    """Caller ID on a group member's phone: the caller, with the group's name."""
    shown = call.caller.number or call.caller.name or ""
    return Party(call.caller.number, f"{label}: {shown}" if shown else label,
                 call.caller.presentation)
