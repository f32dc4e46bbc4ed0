"""Voicemail, sans-IO: leaving a message, and the owner's mailbox menu (``*98``).

Leaving a message (``deposit``), rules:

- An extension with ``voicemail`` on takes callers the handset does not: busy (unless a
  forward-busy number comes first), do-not-disturb, and no answer after
  ``voicemail_after_s`` (unless forward-no-answer is set); ``voicemail:N`` sends any call
  there. An extension without a mailbox leaves ``voicemail:N`` busy, as before.
- The box answers the caller and plays the greeting: ``voicemail_greeting`` if set (any
  prompt ref, such as ``say:en:...``), else the one the owner recorded
  (``voicemail:N/greeting``), else the default ("The person at extension N is not
  available ..."); then the beep (``builtin:beep``).
- At the greeting's end (``PlayDone``, or the prompt guard) recording starts
  (``VoiceMessage(on=True)``); it stops when the caller hangs up, keys ``#`` (then
  "goodbye" and the box hangs up), or after ``voicemail_max_s``. The app keeps a message
  of one second or more. A caller who hangs up during the greeting leaves nothing.

The mailbox menu (``listen``): ``*98`` from the owner's handset, or ``*98`` + a mailbox
number from any extension (then the PIN is always asked). The PIN (``voicemail_pin``) is
keyed and ended by ``#`` (or taken when it has the PIN's length); three wrong PINs end the
call. Then the counts are spoken ("N new messages, M saved messages") and the menu:

- ``1`` plays the current message (new ones first, oldest first) and marks it heard;
  ``2`` goes to the next; ``7`` deletes it (and goes on); ``9`` keeps it (and goes on);
  ``*`` goes back to the counts;
- ``0`` records the greeting after the beep, ended by ``#``;
- ``8`` changes the PIN: 4 to 12 digits ended by ``#``; the app keeps it
  (``MailboxEdit`` "pin") and it wins over ``voicemail_pin`` until that setting changes;
- no key for ``MENU_WAIT_S`` after the prompts: they play again, ``MENU_TRIES`` times,
  then goodbye.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from firmware.core.causes import Cause
from firmware.core.events import Digit, MailboxEdit, PlayDone, Release, VoiceMessage
from firmware.pbx.actions import Board, Mailbox, caller_fails, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.dispatch import answer_caller, play, stop_play
from firmware.pbx.features import LineFeatures
from firmware.pbx.states import CallState

logger = logging.getLogger(__name__)

PROMPT_GUARD_S = 120.0
MENU_WAIT_S = 8.0
MENU_TRIES = 3
PIN_TRIES = 3
MIN_PIN, MAX_PIN = 4, 12  # a PIN set by phone
BEEP = "builtin:beep"


def greeting_ref(box: str) -> str:
    return f"voicemail:{box}/greeting"


def message_ref(box: str, uid: str) -> str:
    return f"voicemail:{box}/{uid}"


@dataclass
class MailRun:
    box: str
    stage: str  # greeting, recording, bye | pin, main, message, greet_prompt, greet_rec
    digits: str = ""
    tries: int = 0
    index: int = 0  # the current message in new + old
    need_pin: bool = True
    deleted: bool = False  # the current message was deleted: the next is at index
    order: list[str] = field(default_factory=list)  # the messages as the menu began
    language: str = ""


def _run(call: Call) -> MailRun:
    assert call.mail is not None, f"call {call.call_id} is in no mailbox"
    return call.mail


def mailbox_of(board: Board, number: str) -> LineFeatures | None:
    """``number``'s line features if it has a mailbox."""
    features = board.features.get(number)
    if features is None or not features.voicemail or board.plan.extension(number) is None:
        return None
    return features


# --- leaving a message --------------------------------------------------------------------

def deposit(board: Board, call: Call, box: str, now: float) -> bool:
    """Send ``call`` to ``box``'s voicemail; False (nothing done) if it has none."""
    features = mailbox_of(board, box)
    if features is None:
        return False
    logger.info("call %d: to the voicemail of %s", call.call_id, box)
    if not call.path or call.path[-1] != f"voicemail:{box}":
        call.path.append(f"voicemail:{box}")
    call.called = call.called or box
    stop_play(board, call)
    if board.plan.is_fxs(call.a):
        from firmware.core.events import Tone

        board.emit(Tone(call.a, None))
    answer_caller(board, call, now)
    call.mail = MailRun(box, "greeting")
    call.enter(Phase.VOICEMAIL, now)
    if features.voicemail_greeting:
        greeting: tuple[str, ...] = (features.voicemail_greeting,)
    elif board.mailboxes.get(box, Mailbox()).greeting:
        greeting = (greeting_ref(box),)
    else:
        greeting = ("builtin:vm_extension", f"digits:{box}", "builtin:vm_unavailable")
    play(board, call, (*greeting, BEEP))
    call.arm(Timer.VOICEMAIL, now + PROMPT_GUARD_S)
    return True


def _start_message(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    call.playing = False
    run.stage = "recording"
    board.emit(VoiceMessage(call.call_id, call.a, run.box, True, call.caller))
    features = board.features.get(run.box) or LineFeatures()
    call.arm(Timer.VOICEMAIL, now + features.voicemail_max_s)


def _stop_message(board: Board, call: Call, now: float, how: str) -> None:
    run = _run(call)
    board.emit(VoiceMessage(call.call_id, call.a, run.box, False, call.caller))
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
           f"message left in mailbox {run.box} ({how})", side="caller")


def _hang_up(board: Board, call: Call, now: float) -> None:
    stop_play(board, call)
    call.mail = None
    caller_fails(board, call, "busy", Cause.NORMAL_CLEARING, now)


def _goodbye(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    run.stage = "bye"
    play(board, call, ("builtin:goodbye",), language=run.language)
    call.arm(Timer.VOICEMAIL, now + PROMPT_GUARD_S)


class Depositing(CallState):
    phase = Phase.VOICEMAIL

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        if event.leg != call.a or not call.playing:
            return
        run = _run(call)
        if run.stage == "greeting":
            _start_message(board, call, now)
        elif run.stage == "bye":
            _hang_up(board, call, now)

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        run = _run(call)
        if event.leg == call.a and event.digit == "#" and run.stage == "recording":
            _stop_message(board, call, now, "ended by #")
            _goodbye(board, call, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        run = _run(call)
        if run.stage == "greeting":
            logger.warning("call %d: no end of the greeting; recording", call.call_id)
            _start_message(board, call, now)
        elif run.stage == "recording":
            _stop_message(board, call, now, "longest length reached")
            _goodbye(board, call, now)
        else:
            _hang_up(board, call, now)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        run = _run(call)
        call.gone.add(call.a)
        if run.stage == "recording":
            _stop_message(board, call, now, "caller hung up")
        else:
            record(board, call, now, Disposition.ANSWERED, event.cause,
                   f"caller hung up during the greeting of mailbox {run.box}; no message",
                   side="caller")
        call.mail = None
        call.enter(Phase.ENDED, now)


# --- the mailbox menu ---------------------------------------------------------------------

def listen(board: Board, call: Call, own: str, asked: str, now: float) -> None:
    """``*98`` (``asked`` "") or ``*98`` + a mailbox from ``own``'s extension."""
    box = asked or own
    features = mailbox_of(board, box)
    if features is None:  # congestion at a handset; an IP phone's call is refused
        record(board, call, now, Disposition.FAILED, Cause.UNALLOCATED_NUMBER,
               f"voicemail: extension {box} has no mailbox")
        caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
        return
    answer_caller(board, call, now)
    need_pin = bool(pin_of(board, box)) or box != own
    call.mail = MailRun(box, "pin" if need_pin else "main", need_pin=need_pin)
    call.path.append(f"mailbox:{box}")
    call.enter(Phase.MAILBOX, now)
    if need_pin:
        _ask_pin(board, call, now)
    else:
        _open(board, call, now)


def _open(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    logger.info("call %d: mailbox %s opened", call.call_id, run.box)
    board.emit(MailboxEdit(run.box, "", "open"))
    _main(board, call, now)


def _say(board: Board, call: Call, prompts: tuple[str, ...], now: float) -> None:
    play(board, call, prompts, language=_run(call).language, barge_in=True)
    call.arm(Timer.VOICEMAIL, now + PROMPT_GUARD_S)


def pin_of(board: Board, box: str) -> str:
    """The mailbox's PIN: the one set by phone (key 8), else ``voicemail_pin``."""
    changed = board.mailboxes.get(box, Mailbox()).pin
    if changed is not None:
        return changed
    features = board.features.get(box)
    return features.voicemail_pin if features is not None else ""


def _ask_pin(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    run.stage, run.digits = "pin", ""
    _say(board, call, ("builtin:vm_enter_pin",), now)


def _box(board: Board, call: Call) -> Mailbox:
    return board.mailboxes.setdefault(_run(call).box, Mailbox())


def _main(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    run.stage, run.digits, run.index, run.tries = "main", "", 0, 0
    box = _box(board, call)
    run.order = [*box.new, *box.old]
    _say(board, call, (f"digits:{len(box.new)}", "builtin:vm_new",
                       f"digits:{len(box.old)}", "builtin:vm_old", "builtin:vm_menu"), now)


def _messages(board: Board, call: Call) -> list[str]:
    return _run(call).order


def _play_message(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    messages = _messages(board, call)
    if run.index >= len(messages):
        run.stage, run.index = "main", 0
        _say(board, call, ("builtin:vm_no_more", "builtin:vm_menu"), now)
        return
    uid = messages[run.index]
    box = _box(board, call)
    if uid in box.new:
        box.new.remove(uid)
        box.old.append(uid)
        box.old.sort()
        board.emit(MailboxEdit(run.box, uid, "heard"))
    run.stage = "message"
    _say(board, call, (message_ref(run.box, uid), "builtin:vm_after"), now)


def _delete(board: Board, call: Call, now: float) -> None:
    run = _run(call)
    messages = _messages(board, call)
    if run.index < len(messages):
        uid = messages.pop(run.index)
        box = _box(board, call)
        for ids in (box.new, box.old):
            if uid in ids:
                ids.remove(uid)
        board.emit(MailboxEdit(run.box, uid, "delete"))
        logger.info("call %d: mailbox %s: message %s deleted", call.call_id, run.box, uid)
    run.stage, run.deleted = "message", True
    _say(board, call, ("builtin:vm_deleted",), now)


def _key(board: Board, call: Call, digit: str, now: float) -> None:
    run = _run(call)
    if run.stage == "pin":
        if digit != "#":
            run.digits += digit
        pin = pin_of(board, run.box)
        if digit == "#" or (pin and len(run.digits) >= len(pin)):
            if pin and run.digits == pin:
                _open(board, call, now)
                return
            run.tries += 1
            logger.info("call %d: mailbox %s: wrong PIN (%d)", call.call_id, run.box,
                        run.tries)
            if run.tries >= PIN_TRIES:
                _goodbye(board, call, now)
                return
            run.digits = ""
            _say(board, call, ("builtin:invalid", "builtin:vm_enter_pin"), now)
        return
    if run.stage == "new_pin":
        if digit != "#":
            run.digits += digit
            return
        if MIN_PIN <= len(run.digits) <= MAX_PIN:
            _box(board, call).pin = run.digits
            board.emit(MailboxEdit(run.box, "", "pin", run.digits))
            logger.info("call %d: mailbox %s: PIN changed by phone", call.call_id, run.box)
            run.stage = "main_after"
            _say(board, call, ("builtin:confirmed", "builtin:vm_menu"), now)
        else:
            run.stage = "main_after"
            _say(board, call, ("builtin:invalid", "builtin:vm_menu"), now)
        run.digits = ""
        return
    if run.stage == "greet_rec":
        if digit == "#":
            board.emit(VoiceMessage(call.call_id, call.a, run.box, False, greeting=True))
            _box(board, call).greeting = True
            _say(board, call, ("builtin:confirmed",), now)
            run.stage = "main_after"
        return
    if digit == "*":
        _main(board, call, now)
    elif digit == "1":
        _play_message(board, call, now)
    elif digit in ("2", "9") and run.stage == "message":
        if not run.deleted:
            run.index += 1
        run.deleted = False
        _play_message(board, call, now)
    elif digit == "7" and run.stage == "message":
        _delete(board, call, now)
    elif digit == "8":
        run.stage, run.digits = "new_pin", ""
        _say(board, call, ("builtin:vm_new_pin",), now)
    elif digit == "0":
        run.stage = "greet_prompt"
        _say(board, call, ("builtin:vm_record_greeting", BEEP), now)
    else:
        _say(board, call, ("builtin:invalid", "builtin:vm_menu"), now)


class Listening(CallState):
    phase = Phase.MAILBOX

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        if event.leg != call.a:
            return
        if _run(call).stage == "bye":
            return
        if _run(call).stage != "greet_rec":
            stop_play(board, call)
        _key(board, call, event.digit, now)

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        if event.leg != call.a or not call.playing:
            return
        self._played(board, call, now)

    def _played(self, board: Board, call: Call, now: float) -> None:
        run = _run(call)
        call.playing = False
        if run.stage == "bye":
            _hang_up(board, call, now)
        elif run.stage == "greet_prompt":
            run.stage = "greet_rec"
            board.emit(VoiceMessage(call.call_id, call.a, run.box, True, greeting=True))
            features = board.features.get(run.box) or LineFeatures()
            call.arm(Timer.VOICEMAIL, now + features.voicemail_max_s)
        elif run.stage != "greet_rec":
            call.arm(Timer.VOICEMAIL, now + MENU_WAIT_S)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        run = _run(call)
        if call.playing:  # the guard: no end of prompt came
            self._played(board, call, now)
            return
        if run.stage == "greet_rec":
            _key(board, call, "#", now)
            return
        run.tries += 1
        if run.tries > MENU_TRIES:
            _goodbye(board, call, now)
        elif run.stage == "pin":
            _ask_pin(board, call, now)
        else:
            _say(board, call, ("builtin:vm_menu",), now)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        run = _run(call)
        if run.stage == "greet_rec":
            board.emit(VoiceMessage(call.call_id, call.a, run.box, False, greeting=True))
            _box(board, call).greeting = True
        call.gone.add(call.a)
        record(board, call, now, Disposition.ANSWERED, event.cause,
               f"mailbox {run.box} listened to", side="caller")
        call.mail = None
        call.enter(Phase.ENDED, now)


STATES = (Depositing(), Listening())
