"""Voice menus and announcements: the box answers the caller and plays prompts.

A menu (``office.Menu``), its rules:

- The box answers the caller (SIP 200, an FXO line taken, a handset's tone stopped) and
  plays the menu's ``prompt`` in its ``language``.
- Digits are taken at any time; the first one stops the prompt (barge-in: ``Play(leg,
  ())``). A key that is a whole choice, and the start of no longer choice and of no
  internal number (with ``dial_extensions``), is taken at once; one that may still grow
  waits the dial plan's interdigit time, then is taken if it is a choice or an internal
  number (extension, group or menu number). Anything else is an invalid choice.
- The ``timeout_s`` starts when the prompt has played to its end (``PlayDone``). No digit
  in time: the prompt plays again, ``repeats`` times at most, then the call goes to
  ``on_timeout``. An invalid choice plays ``builtin:invalid`` and then the prompt again,
  within the same count, then goes to ``on_invalid``.
- A choice's destination is picked by its office hours switch at the unix time of the
  choice (``schedules.Switch``); a menu choice may lead to another menu (nested).
- If no ``PlayDone`` ever comes (a media fault), a guard of ``PROMPT_GUARD_S`` seconds
  counts as the prompt's end, so no caller is kept forever.

An announcement (``announce:PROMPT``): the box answers, plays the prompt, and at its end
(``PlayDone``, or the guard) hangs up with normal clearing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firmware.core.causes import Cause
from firmware.core.events import Digit, PlayDone, Release
from firmware.pbx.actions import Board, caller_fails, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import Destination
from firmware.pbx.dispatch import answer_caller, play, send_to, stop_play
from firmware.pbx.office import Menu
from firmware.pbx.plan import ToExtension, ToGroup, ToMenu
from firmware.pbx.states import CallState

logger = logging.getLogger(__name__)

PROMPT_GUARD_S = 120.0
"""The longest a prompt may play before the box stops waiting for its PlayDone."""


@dataclass
class MenuRun:
    menu: str
    plays: int = 0  # times the prompt started
    stage: str = "prompt"  # prompt, wait (timeout runs), digits (interdigit runs), invalid
    digits: str = ""


def _run(call: Call) -> MenuRun:
    assert call.menu is not None, f"call {call.call_id} is in no menu"
    return call.menu


def start_menu(board: Board, call: Call, menu: Menu, now: float) -> None:
    stop_play(board, call)
    answer_caller(board, call, now)
    call.menu = MenuRun(menu.name)
    call.enter(Phase.MENU, now)
    _prompt(board, call, menu, now)


def _prompt(board: Board, call: Call, menu: Menu, now: float) -> None:
    run = _run(call)
    run.plays += 1
    run.stage = "prompt"
    run.digits = ""
    play(board, call, (menu.prompt,), language=menu.language, barge_in=True)
    call.arm(Timer.MENU, now + PROMPT_GUARD_S)


def _menu(board: Board, call: Call) -> Menu | None:
    run = _run(call)
    return board.plan.menu(run.menu)


def _internal(board: Board, number: str) -> Destination | None:
    target = board.plan.resolve(number)
    if isinstance(target, ToExtension):
        return Destination("ext", number)
    if isinstance(target, ToGroup):
        return Destination("group", target.group.name)
    if isinstance(target, ToMenu):
        return Destination("menu", target.menu.name)
    return None


def _choice(board: Board, menu: Menu, digits: str, now: float) -> Destination | None:
    switch = menu.choices.get(digits)
    if switch is not None:
        return switch.pick(board.plan.schedule_map, board.wall(now))
    if menu.dial_extensions:
        return _internal(board, digits)
    return None


def _may_grow(board: Board, menu: Menu, digits: str) -> bool:
    if any(k != digits and k.startswith(digits) for k in menu.choices):
        return True
    return menu.dial_extensions and any(
        n != digits and n.startswith(digits) for n in board.plan.internal_numbers())


def _go(board: Board, call: Call, menu: Menu, dest: Destination, now: float) -> None:
    run = _run(call)
    logger.info("call %d: menu %s: %s -> %s", call.call_id, menu.name, run.digits or "-", dest)
    stop_play(board, call)
    call.menu = None
    call.deadline = call.timer = None
    send_to(board, call, dest, now)


def _invalid(board: Board, call: Call, menu: Menu, now: float) -> None:
    run = _run(call)
    logger.info("call %d: menu %s: invalid choice %r", call.call_id, menu.name, run.digits)
    if run.plays > menu.repeats:
        _go(board, call, menu, menu.on_invalid, now)
        return
    run.stage = "invalid"
    run.digits = ""
    play(board, call, ("builtin:invalid",), language=menu.language, barge_in=True)
    call.arm(Timer.MENU, now + PROMPT_GUARD_S)


def _played(board: Board, call: Call, menu: Menu, now: float) -> None:
    """The prompt (or the invalid notice) has played to its end."""
    run = _run(call)
    call.playing = False
    if run.stage == "prompt":
        run.stage = "wait"
        call.arm(Timer.MENU, now + menu.timeout_s)
    elif run.stage == "invalid":
        _prompt(board, call, menu, now)


class InMenu(CallState):
    phase = Phase.MENU

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        menu = _menu(board, call)
        if event.leg != call.a or menu is None:
            return
        run = _run(call)
        stop_play(board, call)  # barge-in
        run.digits += event.digit
        run.stage = "digits"
        dest = _choice(board, menu, run.digits, now)
        if _may_grow(board, menu, run.digits):
            call.arm(Timer.MENU, now + board.plan.timers.interdigit_s)
        elif dest is not None:
            _go(board, call, menu, dest, now)
        else:
            _invalid(board, call, menu, now)

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        menu = _menu(board, call)
        if event.leg == call.a and menu is not None and call.playing:
            _played(board, call, menu, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        menu = _menu(board, call)
        if menu is None:
            send_to(board, call, Destination("hangup"), now)
            return
        run = _run(call)
        if run.stage in ("prompt", "invalid"):
            logger.warning("call %d: no end of prompt after %g s; going on", call.call_id,
                           PROMPT_GUARD_S)
            _played(board, call, menu, now)
        elif run.stage == "digits":
            dest = _choice(board, menu, run.digits, now)
            if dest is None:
                _invalid(board, call, menu, now)
            else:
                _go(board, call, menu, dest, now)
        elif run.plays > menu.repeats:
            logger.info("call %d: menu %s: no choice after %d plays", call.call_id, menu.name,
                        run.plays)
            _go(board, call, menu, menu.on_timeout, now)
        else:
            _prompt(board, call, menu, now)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        run = _run(call)
        call.gone.add(call.a)
        record(board, call, now, Disposition.ANSWERED, event.cause,
               f"caller hung up in menu {run.menu}", side="caller")
        call.menu = None
        call.enter(Phase.ENDED, now)


def announce(board: Board, call: Call, prompt: str, now: float) -> None:
    stop_play(board, call)
    answer_caller(board, call, now)
    call.enter(Phase.ANNOUNCING, now)
    play(board, call, (prompt,))
    call.arm(Timer.MENU, now + PROMPT_GUARD_S)


def _announced(board: Board, call: Call, now: float) -> None:
    call.playing = False
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
           f"announcement {call.path[-1] if call.path else ''} played")
    caller_fails(board, call, "busy", Cause.NORMAL_CLEARING, now)


class Announcing(CallState):
    phase = Phase.ANNOUNCING

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        if event.leg == call.a:
            _announced(board, call, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        _announced(board, call, now)

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        pass

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        call.gone.add(call.a)
        record(board, call, now, Disposition.ANSWERED, event.cause,
               "caller hung up during the announcement", side="caller")
        call.enter(Phase.ENDED, now)


STATES = (InMenu(), Announcing())
