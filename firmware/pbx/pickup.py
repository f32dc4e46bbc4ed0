"""Call pickup (issue 11): answer another phone's ringing call from one's own handset.

Rules:

- ``*8`` (group pickup) answers the call ringing longest at an extension of the same
  ``pickup_group`` (the default group "" holds every extension that names none);
  ``**`` + extension (directed pickup) answers the call ringing at that extension.
- The ringing phone stops ringing (it is released), the picker takes its place as the
  callee, and the call goes on as if the picker had answered it: the caller's ringback
  stops, the legs are bridged, a SIP or PSTN caller is answered. The path says
  ``pickup:<picker>``.
- Nothing ringing (or a ringing group hunt, which is not picked up yet) gives the picker
  congestion tone.
"""

from __future__ import annotations

import logging

from firmware.core.causes import Cause
from firmware.core.events import Answer, Release
from firmware.pbx.actions import Board, final_tone
from firmware.pbx.calls import Call, Phase
from firmware.pbx.plan import Extension

logger = logging.getLogger(__name__)


def answer_ringing(board: Board, call: Call, picker: Extension, target: str,
                   now: float) -> None:
    """``call`` is ``picker`` dialling a pickup code (``target``: the extension for a
    directed pickup, "" for the group's)."""
    from firmware.pbx.states import STATES  # the call answers as a ringing call does

    ringing = _candidates(board, picker, target)
    found = min((c for c in board.calls() if c is not call and c.phase is Phase.RINGING
                 and c.b in ringing), key=lambda c: c.since, default=None)
    if found is None or found.b is None:
        logger.info("call %d: %s: nothing to pick up (%s)", call.call_id, picker.number,
                    f"extension {target}" if target else "its group")
        final_tone(board, call, call.a, "congestion", now)
        return
    rung = found.b
    board.emit(Release(rung, Cause.NORMAL_CLEARING))  # it stops ringing
    found.gone.add(rung)
    found.former.append(rung)
    found.b = call.a
    found.path.append(f"pickup:{picker.number}")
    call.recorded = True  # the code call itself leaves no record
    call.gone.add(call.a)
    logger.info("call %d: %s picks up the call ringing at %s", found.call_id, picker.number,
                rung)
    STATES[Phase.RINGING].on_answer(board, found, Answer(call.a), now)
    board.resync(found)


def _candidates(board: Board, picker: Extension, target: str) -> set[str]:
    """The legs whose ringing ``picker`` may answer."""
    if target:
        ext = board.plan.extension(target)
        return {ext.leg} if ext is not None and ext.leg != picker.leg else set()
    group = _group_of(board, picker.number)
    return {e.leg for e in board.plan.extensions
            if e.leg != picker.leg and _group_of(board, e.number) == group}


def _group_of(board: Board, number: str) -> str:
    features = board.features.get(number)
    return features.pickup_group if features is not None else ""
