"""Hook-flash transfers handed to a SIP peer by REFER (issue 11), sans-IO.

A handset that holds a SIP party and hangs up to transfer it to another SIP party
(firmware/pbx/flashcalls.py) need not keep the two calls running through the box: it can
ask the held party's peer to call the third itself (RFC 3515 REFER, RFC 5589 transfer
flows), as the ATAs do toward an ITSP. Both calls then leave the box.

Rules:

- Only where ``board.can_refer(held, third)`` says so. The SIP layer decides
  (firmware/sip/adapter.py): both are trunk calls through the same trunk, that trunk's
  ``refer`` setting is on, and the held party's peer listed REFER in its Allow header.
- Attended (the handset talked to the third): the box first bridges the two as without
  REFER, but leaves the held party on hold (its music stops), then sends REFER with
  Replaces of its own dialog with the third. When the peer reports success (a 2xx in its
  NOTIFY) the box releases both legs: the peers already talk to each other. On failure
  the held party is taken off hold and the box's bridge stays.
- Blind (the third still rings): the box gives up its ringing call to the third and sends
  REFER (no Replaces) to the held party, which keeps its hold music meanwhile (phase
  REFERRING). Success, or the held party's peer hanging up (some peers end their call to
  the transferor first): the transfer is done and the box releases the held party.
  Failure, or no final answer within ``REFER_WAIT_S``: the box places the call itself,
  as it would have without REFER; the held party hears ringback.
- The records say which: "transferred by REFER" for a handed-over call, and the fallback's
  reason when the box placed it after all.
"""

from __future__ import annotations

import logging

from firmware.core.causes import Cause
from firmware.core.events import Hold, LegId, Play, Refer, Referred, Release, Unbridge
from firmware.pbx import transfer
from firmware.pbx.actions import Board, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.states import STATES, CallState

logger = logging.getLogger(__name__)

# How long a blind transfer waits for the held party's peer to say how its call went
# before the box places the call itself (the peer may accept the REFER and never NOTIFY).
REFER_WAIT_S = 32.0


def can_attended(board: Board, held: LegId, third: LegId) -> bool:
    """Whether an attended transfer of ``held`` to ``third`` goes to the held peer."""
    return _sip_pair(board, held, third)


def attended(board: Board, call: Call, held: LegId, third: LegId) -> None:
    """``call`` bridges ``held`` (still on hold, so the REFER goes as RFC 5589 shows it)
    and ``third`` after an attended transfer: hand it to the held party's peer (REFER
    with Replaces)."""
    board.emit(Refer(held, third, replaces=True))
    call.referred_to = call.called or third
    logger.info("call %d: REFER to %s's peer: call %s (Replaces)", call.call_id, held,
                call.referred_to)


def can_blind(board: Board, aside: Call, consult: Call, handset: LegId) -> bool:
    """Whether the held party of ``aside`` may be referred to the third that ``consult``
    still rings."""
    held, third = aside.other(handset), consult.other(handset)
    return held is not None and third is not None and _sip_pair(board, held, third)


def _sip_pair(board: Board, held: LegId, third: LegId) -> bool:
    """Two SIP calls (no line, no IP phone) whose peers the SIP layer lets meet."""
    plan = board.plan
    if any(plan.is_line(leg) or plan.is_phone(leg) for leg in (held, third)):
        return False
    return board.can_refer(held, third)


def blind(board: Board, aside: Call, consult: Call, handset: LegId, now: float) -> None:
    """``handset`` hung up while ``consult`` still rings: the box gives that call up and
    asks the held party's peer (``aside``) to place it (REFER)."""
    held, third = aside.other(handset), consult.other(handset)
    assert held is not None and third is not None
    board.emit(Refer(held, third, replaces=False))
    if consult.bridged and consult.b is not None:  # early media
        board.emit(Unbridge(consult.a, consult.b))
        consult.bridged = False
    board.emit(Release(third, Cause.NORMAL_CLEARING))  # CANCEL: the peer calls it now
    consult.gone.update({handset, third})
    record(board, consult, now, Disposition.ABANDONED, Cause.NORMAL_CLEARING,
           f"handed to {held}'s peer by REFER")
    consult.enter(Phase.ENDED, now)
    aside.gone.add(handset)
    aside.referred_to = consult.called
    aside.enter(Phase.REFERRING, now)
    aside.arm(Timer.NO_ANSWER, now + REFER_WAIT_S)
    logger.info("call %d: %s hung up; REFER to %s's peer: call %s", aside.call_id, handset,
                held, aside.referred_to)


def referred(board: Board, call: Call, event: Referred, now: float) -> None:
    """The held party's peer says how the transfer went."""
    if call.phase is Phase.REFERRING:
        if event.ok:
            _done(board, call, event.leg, now, f"transferred by REFER to {call.referred_to}")
        else:
            fall_back(board, call, now, f"the peer answered {event.status}")
    elif call.phase is Phase.CONNECTED and call.referred_to:
        if event.ok:
            assert call.b is not None
            if call.bridged:
                board.emit(Unbridge(call.a, call.b))
                call.bridged = False
            board.emit(Release(call.a, Cause.NORMAL_CLEARING),
                       Release(call.b, Cause.NORMAL_CLEARING))
            call.gone.update(call.legs())
            record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
                   f"handed over by REFER (Replaces) to {call.referred_to}")
            call.enter(Phase.ENDED, now)
            logger.info("call %d: the peers took the transfer over", call.call_id)
        else:  # off hold: the two talk through the box
            board.emit(Hold(call.a, False))
            logger.info("call %d: REFER failed (%d); the box keeps bridging", call.call_id,
                        event.status)
        call.referred_to = ""
    else:
        logger.debug("%s: REFER answer %d for call %d in %s; ignored", event.leg,
                     event.status, call.call_id, call.phase.value)


def _done(board: Board, call: Call, held: LegId, now: float, reason: str) -> None:
    board.emit(Play(held, ()), Release(held, Cause.NORMAL_CLEARING))
    call.gone.add(held)
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING, reason)
    call.enter(Phase.ENDED, now)
    call.referred_to = ""
    logger.info("call %d: %s", call.call_id, reason)


def fall_back(board: Board, call: Call, now: float, why: str) -> None:
    """The peer did not take the blind transfer: the box places the call itself."""
    handset, number = call.holder, call.referred_to
    live = call.legs()
    assert handset is not None and len(live) == 1
    held = live[0]
    board.emit(Play(held, ()), Hold(held, False))  # music off, back to sendrecv
    call.gone.add(held)
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
           f"transferred by {handset} to {number}; REFER failed ({why}), placed by the box")
    call.enter(Phase.ENDED, now)
    call.referred_to = ""
    new = transfer.hand_over(board, held, transfer.party_of(board, call, held),
                             transfer.transferrer_origin(board, call, handset), handset,
                             number, board.next_call_id(), now, answered=True)
    board.born.append(new)
    logger.info("call %d: REFER failed (%s); call %d places %s to %s", call.call_id, why,
                new.call_id, held, number)


class Referring(CallState):
    """The held party's peer was asked to call the transfer target; the box waits."""

    phase = Phase.REFERRING

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg not in call.legs():
            return
        call.gone.add(event.leg)
        record(board, call, now, Disposition.ANSWERED, event.cause,
               f"transferred by REFER to {call.referred_to} (the peer hung up)")
        call.enter(Phase.ENDED, now)
        call.referred_to = ""

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        fall_back(board, call, now, f"no final answer in {REFER_WAIT_S:g} s")


STATES[Phase.REFERRING] = Referring()
