"""Recording a call: when the exchange tells the media switch to start and stop.

Rules (who is recorded: ``recpolicy``):

- The call's mode is worked out once, when it is answered, from the parties it then has.
- ``always``: recording starts at the answer. ``on_demand``: the toggle code keyed by a
  handset or an IP phone of the box in the answered call starts it, the code again stops
  it (the same file goes on: one recording per call). ``never``: the code is an ordinary
  run of digits.
- The digits of the code are the box's, not the far end's: while the keyed digits are a
  prefix of the code they are held back (a SIP partner gets no RFC 4733 event for them);
  a digit that breaks the code releases the held ones, in order, with itself. The tones
  themselves are in the line's audio, which the box does not cut.
- With a consent prompt, each start first plays it to both legs (``Play``) and starts
  recording when the first ``PlayDone`` comes back; stopping during the prompt stops the
  prompt and starts nothing.
- Recording stops when the conversation ends (any leg leaves the connected call).

``Record(call_id, a, b, on)`` always names the caller as ``a`` and the callee as ``b``:
the recording's left channel is the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.core.events import Digit, Play, PlayDone, Record
from firmware.pbx.recpolicy import RecordMode

if TYPE_CHECKING:
    from firmware.pbx.actions import Board
    from firmware.pbx.calls import Call

logger = logging.getLogger(__name__)


@dataclass
class CallRecording:
    """One call's recording state (``Call.recording``)."""

    mode: RecordMode
    on: bool = False  # Record(on=True) was sent and not yet undone
    consent_wait: bool = False  # the consent prompt plays; recording starts at its end
    held: str = ""  # keyed digits that are a prefix of the toggle code, held back


def answered(board: Board, call: Call) -> None:
    """``call`` was answered: work out its mode, and start an ``always`` recording."""
    if call.b is None:
        return
    origin = call.origin
    plan = board.plan
    came_in = origin is not None and origin.kind == "trunk"
    trunk = call.trunk or (origin.name if origin is not None and origin.kind != "port"
                           else None)
    groups = [p.split(":", 1)[1] for p in getattr(call, "path", ()) if p.startswith("group:")]
    mode = plan.recording.mode(
        lines=[call.a, call.b], trunk=trunk,
        did=call.called if came_in else None, groups=groups)
    call.recording = CallRecording(mode)
    if mode == "always":
        _start(board, call)


def keyed(board: Board, call: Call, event: Digit) -> list[Digit]:
    """A digit keyed in the connected call: the digits to pass on (none while they may be
    the toggle code; the held ones once they are not)."""
    rec: CallRecording | None = call.recording
    own = board.plan.is_line(event.leg) or board.plan.is_phone(event.leg)
    if rec is None or rec.mode != "on_demand" or not own:
        return [event]
    code = board.plan.recording.toggle
    pending = rec.held + event.digit
    released: list[Digit] = []
    while pending and not code.startswith(pending):
        released.append(Digit(event.leg, pending[0], event.source))
        pending = pending[1:]
    if pending == code:
        pending = ""
        if rec.on or rec.consent_wait:
            logger.info("call %d: %s keyed the code: recording stops", call.call_id,
                        event.leg)
            stop(board, call)
        else:
            logger.info("call %d: %s keyed the code: recording starts", call.call_id,
                        event.leg)
            _start(board, call)
    rec.held = pending
    return released


def play_done(board: Board, call: Call, event: PlayDone) -> bool:
    """A prompt ended on a leg of ``call``: the consent prompt's end starts recording.
    True when the event was the consent's."""
    rec: CallRecording | None = call.recording
    if rec is None or not rec.consent_wait:
        return False
    rec.consent_wait = False
    _record(board, call, True)
    return True


def stop(board: Board, call: Call) -> None:
    """Stop recording ``call`` (and a consent prompt still playing); nothing if none."""
    rec: CallRecording | None = call.recording
    if rec is None:
        return
    if rec.consent_wait:
        rec.consent_wait = False
        for leg in call.legs():
            board.emit(Play(leg, ()))
    if rec.on:
        _record(board, call, False)


def _start(board: Board, call: Call) -> None:
    assert call.recording is not None
    consent = board.plan.recording.consent
    if consent:
        call.recording.consent_wait = True
        for leg in (call.a, call.b):
            if leg is not None:
                board.emit(Play(leg, consent))
        return
    _record(board, call, True)


def _record(board: Board, call: Call, on: bool) -> None:
    assert call.b is not None and call.recording is not None
    call.recording.on = on
    board.emit(Record(call.call_id, call.a, call.b, on))
