"""Hook-flash services on analog handsets (issue 11): call waiting, hold, three-way
calls and transfer, sans-IO.

A handset (an FXS leg, ``H`` below) has at most two calls: the *current* one, which its
events reach (the exchange's ``_legs``), and at most one call *aside* (a :class:`Desk`):
a call waiting for it, a call it holds, or the other half of a three-way call. The desk
also remembers the *consultation* call H dialled after putting a party on hold, and
whether the two calls are joined (three-way). Everything else in the exchange still
sees one call per leg: the held party's leg points at the held call, H's at the current.

Rules:

- Call waiting: a call to a handset in a connected call (its port's ``call_waiting`` on,
  the current call not dialled with ``*70``, nothing aside yet) no longer gets busy: H
  hears the call-waiting tone, the caller ringback (a SIP or FXO caller is told it
  alerts); the call waits in WAITING until the no-answer time (then the caller gets
  congestion, or is released), or until the port's forward-no-answer or mailbox time
  (then it goes there). Forward-busy and do-not-disturb come first; a mailbox takes a
  busy caller only when call waiting cannot.
- Flash in a connected call with nothing aside: the partner is held (unbridged; it hears
  the port's ``hold_music``, silence when ""), H hears stutter (recall) dial tone and
  dials a consultation call as usual.
- Flash with a call aside: a waiting call is answered and the current partner is held;
  a held call is swapped with the current one; while H's consultation call is connected,
  the flash joins all three (three-way: each pair bridged, the bridge mixes); in a
  three-way call a flash drops the consultation party; while H still dials, hears
  ringback or tones, the flash abandons that and returns to the held party.
- H hanging up with a call aside: while H's consultation call (or the three-way call) is
  connected, the held party and the third are put through to each other (attended
  transfer, as Cisco/Grandstream ATAs do); while the consultation call still rings, the
  held party takes H's place and hears ringback until the third answers (blind
  transfer); otherwise the current call ends as usual and the call aside rings H again
  (recall: a waiting call simply rings; a held party keeps its music until H answers).
- The held party hanging up ends the held call (H is told nothing); a party of a
  three-way call hanging up leaves H with the other one.
- Transferred calls leave with H's permission (``transfer.transferrer_origin``) and show
  the held party as their caller; both old calls' records say they were transferred.
- The call-waiting ``Tone`` carries the waiting caller: the line and the app add type II
  caller ID to it (firmware/app/cwcid.py), the exchange knows nothing of CAS or ACK.
- A recall not answered in the no-answer time stops ringing; the held party then hears
  busy tone (a handset) or is released. A blind transfer's held party hears ringback:
  the tone on a handset, the ``builtin:ringback`` prompt on a SIP or PSTN leg.
- Where both parties are SIP calls on one trunk whose peer takes REFER, a transfer is
  handed to the held party's peer (firmware/pbx/referral.py); the box's own bridging
  above is what happens when it cannot be.
- A SIP partner is held with a re-INVITE (``Hold``: a=sendonly) as well, and hears the
  music the box keeps sending; taking it back (resume, a transfer, a three-way join)
  re-INVITEs it to sendrecv first.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Flash,
    Hold,
    LegId,
    Play,
    Release,
    Setup,
    Tone,
    Unbridge,
)
from firmware.pbx import forwarding, referral
from firmware.pbx.actions import Board, caller_fails, partner_left, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.plan import Extension
from firmware.pbx.states import STATES, CallState, Ringing
from firmware.pbx.transfer import party_of, transferrer_origin

logger = logging.getLogger(__name__)

RINGBACK = "builtin:ringback"  # the country's ringback tone as a prompt (promptcache)


@dataclass
class Desk:
    """A handset's call aside, its consultation call, and whether they are joined."""

    leg: LegId
    aside: Call
    consult: Call | None = None
    conference: bool = False


def wait(board: Board, call: Call, ext: Extension, now: float) -> None:
    """``call`` reaches ``ext``'s handset, which is in a call: it waits (call waiting)."""
    leg = ext.leg
    call.b = leg
    call.holder = leg
    board.emit(Tone(leg, "callwaiting", caller=call.caller))  # with type II caller ID
    if board.plan.is_fxs(call.a):
        board.emit(Tone(call.a, "ringback"))
    elif not call.a_up:
        board.emit(Alerting(call.a))
    call.enter(Phase.WAITING, now)
    call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
    forwarding.ringing(board, call, ext, now)  # forward-no-answer or the mailbox
    logger.info("call %d: waits for %s (call waiting)", call.call_id, leg)


def hold_music(board: Board, leg: LegId) -> str:
    ext = board.plan.extension_on(leg)
    features = board.features.get(ext.number) if ext is not None else None
    return features.hold_music if features is not None else "builtin:music"


def hold(board: Board, call: Call, leg: LegId, now: float) -> None:
    """``leg`` puts ``call`` aside: its partner is unbridged and hears the hold music."""
    partner = call.other(leg)
    assert partner is not None and call.b is not None
    if call.bridged:
        board.emit(Unbridge(call.a, call.b))
        call.bridged = False
    if not board.plan.is_line(partner):
        board.emit(Hold(partner, True))
    music = hold_music(board, leg)
    if music:
        board.emit(Play(partner, (music,), loop=True))
    call.holder = leg
    call.enter(Phase.ON_HOLD, now)


def resume(board: Board, call: Call, leg: LegId, now: float) -> None:
    """``leg`` takes ``call`` back from hold: music stops, the two talk again."""
    partner = call.other(leg)
    assert partner is not None
    unhold(board, leg, partner)
    board.emit(Bridge(leg, partner))
    call.bridged = True
    call.holder = None
    call.enter(Phase.CONNECTED, now)


def unhold(board: Board, leg: LegId, partner: LegId) -> None:
    """The music ``leg`` gave its held ``partner`` stops; a SIP partner is resumed."""
    if hold_music(board, leg):
        board.emit(Play(partner, ()))
    if not board.plan.is_line(partner):
        board.emit(Hold(partner, False))


class Waiting(CallState):
    """A call waiting for a handset in another call."""

    phase = Phase.WAITING

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        assert call.b is not None
        call.gone.update({call.a, call.b})
        record(board, call, now, Disposition.ABANDONED, event.cause,
               "caller hung up while waiting (call waiting)")
        call.enter(Phase.ENDED, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        leg = call.b
        assert leg is not None
        if forwarding.no_answer(board, call, now):
            # It stopped "ringing" the handset with a Release: not to be sent to a line
            # that is in another call.
            board.out[:] = [o for o in board.out if o != Release(leg, Cause.NO_ANSWER)]
            return
        call.gone.add(leg)
        reason = f"no answer in {board.plan.timers.no_answer_s:g} s (call waiting)"
        record(board, call, now, Disposition.NO_ANSWER, Cause.NO_ANSWER, reason)
        caller_fails(board, call, "congestion", Cause.NO_ANSWER, now)


class OnHold(CallState):
    """A call a handset holds: its partner hears music."""

    phase = Phase.ON_HOLD

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        holder = call.holder
        call.gone.add(event.leg)
        if holder is not None:
            call.gone.add(holder)
        record(board, call, now, Disposition.ANSWERED, event.cause, "held party hung up",
               "caller" if event.leg == call.a else "callee")
        call.enter(Phase.ENDED, now)


class Recall(CallState):
    """The handset hung up with a party on hold: it rings again until answered."""

    phase = Phase.RECALL

    def on_answer(self, board: Board, call: Call, event: Answer, now: float) -> None:
        if event.leg == call.holder:
            resume(board, call, event.leg, now)

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        holder = call.holder
        if event.leg == holder:
            return  # an on-hook line being rung
        call.gone.add(event.leg)
        if holder is not None:
            board.emit(Release(holder, Cause.NORMAL_CLEARING))  # stops the ringing
            call.gone.add(holder)
        record(board, call, now, Disposition.ANSWERED, event.cause,
               "held party hung up during recall")
        call.enter(Phase.ENDED, now)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        holder = call.holder
        assert holder is not None
        partner = call.other(holder)
        board.emit(Release(holder, Cause.NO_ANSWER))  # stops the ringing
        call.gone.add(holder)
        record(board, call, now, Disposition.ANSWERED, Cause.NO_ANSWER,
               "recall not answered")
        if partner is None:
            call.enter(Phase.ENDED, now)
            return
        if hold_music(board, holder):
            board.emit(Play(partner, ()))
        partner_left(board, call, partner, now)  # a handset: busy tone; else released


STATES.update({state.phase: state for state in (Waiting(), OnHold(), Recall())})


class Handsets:
    """The desks of the handsets with a second call, and the flash, hang-up and answer
    moves that involve them. ``legs``/``calls`` are the exchange's own maps."""

    def __init__(self, board: Board, legs: dict[LegId, Call], calls: dict[int, Call],
                 call_ids: itertools.count[int], sync: Callable[[Call], None],
                 start_dialling: Callable[[LegId, float], Call]) -> None:
        self._board = board
        self._legs = legs
        self._calls = calls
        self._ids = call_ids
        self._sync = sync
        self._start_dialling = start_dialling
        self.desks: dict[LegId, Desk] = {}

    # -- the exchange's bookkeeping -----------------------------------------------------

    def can_wait(self, leg: LegId) -> bool:
        """Whether ``leg`` (in a call) takes another call as call waiting."""
        board = self._board
        if not board.plan.is_fxs(leg) or leg in self.desks:
            return False
        current = self._legs.get(leg)
        if current is None or current.phase is not Phase.CONNECTED or current.no_waiting:
            return False
        ext = board.plan.extension_on(leg)
        features = board.features.get(ext.number) if ext is not None else None
        return features is None or features.call_waiting

    def adopt(self, leg: LegId, call: Call) -> None:
        """``call`` includes ``leg``, whose current call is another: it goes aside."""
        desk = self.desks.get(leg)
        if desk is None:
            self.desks[leg] = Desk(leg, call)
        elif desk.aside is not call:
            logger.warning("%s: a third call %d on a handset; not tracked", leg, call.call_id)

    def forget(self, call: Call) -> None:
        """Drop desks whose call aside no longer has its handset."""
        for leg, desk in list(self.desks.items()):
            if desk.aside is call and leg not in call.legs():
                del self.desks[leg]

    def aside(self, leg: LegId) -> Call | None:
        desk = self.desks.get(leg)
        return desk.aside if desk is not None else None

    # -- flash ----------------------------------------------------------------------

    def on_flash(self, event: Flash, call: Call, now: float) -> bool:
        """A flash from handset ``event.leg`` in ``call``; False leaves it to the states."""
        leg, board = event.leg, self._board
        desk = self.desks.get(leg)
        if desk is None:
            if call.phase is not Phase.CONNECTED or leg not in call.legs():
                return False
            hold(board, call, leg, now)
            consult = self._start_dialling(leg, now)  # with recall (stutter) dial tone
            self.desks[leg] = Desk(leg, call, consult)
            self._legs[leg] = consult
            self._sync(call)
            logger.info("%s: holds call %d, dials a consultation call", leg, call.call_id)
            return True
        aside = desk.aside
        if desk.conference:
            self._drop_third(desk, call, now)
        elif aside.phase is Phase.WAITING and call.phase is Phase.CONNECTED:
            hold(board, call, leg, now)
            self._answer_waiting(aside, leg, now)
            self._swap(desk, call)
        elif aside.phase is Phase.ON_HOLD and call.phase is Phase.CONNECTED:
            if desk.consult is call:
                self._join(desk, call, now)
            else:
                hold(board, call, leg, now)
                resume(board, aside, leg, now)
                self._swap(desk, call)
        elif aside.phase in (Phase.WAITING, Phase.ON_HOLD):
            # Dialling, ringing, a final tone: give that up and take the call aside.
            self._leave(call, leg, now)
            del self.desks[leg]
            if aside.phase is Phase.WAITING:
                self._answer_waiting(aside, leg, now)
            else:
                resume(board, aside, leg, now)
            self._legs[leg] = aside
            self._sync(aside)
        else:
            return False
        return True

    def _swap(self, desk: Desk, current: Call) -> None:
        leg = desk.leg
        self._legs[leg], desk.aside = desk.aside, current
        self._sync(self._legs[leg])
        self._sync(current)

    def _answer_waiting(self, call: Call, leg: LegId, now: float) -> None:
        call.holder = None
        ringing = STATES[Phase.RINGING]
        assert isinstance(ringing, Ringing)
        ringing.on_answer(self._board, call, Answer(leg), now)

    def _leave(self, call: Call, leg: LegId, now: float) -> None:
        """``leg`` leaves ``call`` as if it hung up (the handset stays off-hook)."""
        self._board.emit(Tone(leg, None))
        if leg in call.legs() and call.phase is not Phase.ENDED:
            STATES[call.phase].on_release(self._board, call, Release(leg), now)
        call.gone.add(leg)
        if self._legs.get(leg) is call:
            del self._legs[leg]
        self._sync(call)

    def _join(self, desk: Desk, call: Call, now: float) -> None:
        """Three-way: the held party joins H and the third (every pair bridged)."""
        board, leg, aside = self._board, desk.leg, desk.aside
        held, third = aside.other(leg), call.other(leg)
        assert held is not None and third is not None
        unhold(board, leg, held)
        board.emit(Bridge(leg, held), Bridge(held, third))
        aside.bridged = True
        aside.enter(Phase.CONNECTED, now)
        desk.conference = True
        logger.info("%s: three-way call with %s and %s", leg, held, third)

    def _split(self, desk: Desk, call: Call) -> tuple[LegId, LegId]:
        """Undo a three-way call's bridges to the consultation party; (held, third)."""
        held, third = desk.aside.other(desk.leg), call.other(desk.leg)
        assert held is not None and third is not None
        self._board.emit(Unbridge(held, third), Unbridge(desk.leg, third))
        call.bridged = False
        return held, third

    def _drop_third(self, desk: Desk, call: Call, now: float) -> None:
        """A flash in a three-way call: the consultation party is released."""
        leg = desk.leg
        _, third = self._split(desk, call)
        record(self._board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
               f"dropped from a three-way call by {leg}")
        call.gone.add(leg)
        partner_left(self._board, call, third, now)
        del self.desks[leg]
        desk.aside.holder = None
        self._legs[leg] = desk.aside
        self._sync(call)
        self._sync(desk.aside)

    # -- hang-ups --------------------------------------------------------------------

    def on_release(self, event: Release, call: Call, now: float) -> bool:
        """A Release the flash services handle (True), or one for the states (False)."""
        leg = event.leg
        desk = self.desks.get(leg)
        if desk is not None and self._legs.get(leg) is call:
            self._handset_hangs_up(desk, call, event, now)
            return True
        # A party of a three-way call leaves.
        for owner, desk in self.desks.items():
            if not desk.conference:
                continue
            if desk.aside is call:
                self._split_held(desk, call)
                del self.desks[owner]
                self._end_for(call, owner, event, now, "left the three-way call")
                return True
            if desk.consult is call and self._legs.get(owner) is call:
                self._split(desk, call)
                del self.desks[owner]
                self._end_for(call, owner, event, now, "left the three-way call")
                desk.aside.holder = None
                self._legs[owner] = desk.aside
                self._sync(desk.aside)
                return True
        return False

    def _split_held(self, desk: Desk, aside: Call) -> None:
        consult = self._legs[desk.leg]
        held, third = aside.other(desk.leg), consult.other(desk.leg)
        assert held is not None and third is not None
        self._board.emit(Unbridge(held, third), Unbridge(desk.leg, held))
        aside.bridged = False

    def _end_for(self, call: Call, owner: LegId, event: Release, now: float,
                 reason: str) -> None:
        call.gone.update({event.leg, owner})
        side = "caller" if event.leg == call.a else "callee"
        record(self._board, call, now, Disposition.ANSWERED, event.cause,
               f"{event.leg} {reason}", side)
        call.enter(Phase.ENDED, now)
        if self._legs.get(owner) is call:
            del self._legs[owner]
        self._sync(call)

    def _handset_hangs_up(self, desk: Desk, call: Call, event: Release, now: float) -> None:
        leg, aside = desk.leg, desk.aside
        del self.desks[leg]
        consulting = desk.consult is call and aside.phase in (Phase.ON_HOLD, Phase.CONNECTED)
        if consulting and call.phase is Phase.CONNECTED:
            self._attended(desk, call, now)
        elif consulting and call.phase in (Phase.PROCEEDING, Phase.RINGING):
            if referral.can_blind(self._board, aside, call, leg):
                referral.blind(self._board, aside, call, leg, now)  # the peer places it
                if self._legs.get(leg) is call:
                    del self._legs[leg]
                self._sync(call)
                self._sync(aside)
            else:
                self._blind(desk, call, now)
        else:
            STATES[call.phase].on_release(self._board, call, event, now)
            call.gone.add(leg)
            if self._legs.get(leg) is call:
                del self._legs[leg]
            self._sync(call)
            self._recall(aside, leg, now)

    def _recall(self, aside: Call, leg: LegId, now: float) -> None:
        board = self._board
        if aside.phase is Phase.WAITING:  # it simply rings now
            aside.holder = None
            board.emit(Setup(leg, aside.called, aside.caller))
            aside.enter(Phase.RINGING, now, keep_timer=True)
        else:
            partner = aside.other(leg)
            assert partner is not None
            ext = board.plan.extension_on(leg)
            board.emit(Setup(leg, ext.number if ext else "", party_of(board, aside, partner)))
            aside.enter(Phase.RECALL, now)
            aside.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
        self._legs[leg] = aside
        self._sync(aside)
        logger.info("%s: hung up with call %d aside: rings again", leg, aside.call_id)

    def _attended(self, desk: Desk, call: Call, now: float) -> None:
        """H hung up while talking to the third: the held party and the third talk."""
        board, leg, aside = self._board, desk.leg, desk.aside
        held, third = aside.other(leg), call.other(leg)
        assert held is not None and third is not None and call.b is not None
        refer = referral.can_attended(board, held, third)  # the peers may take it over
        if desk.conference:
            board.emit(Unbridge(leg, third), Unbridge(leg, held))
        else:
            if not refer:
                unhold(board, leg, held)
            elif hold_music(board, leg):
                board.emit(Play(held, ()))  # still held (SIP) while the REFER goes
            board.emit(Unbridge(call.a, call.b), Bridge(held, third))
        reason = f"transferred by {leg}: {held} to {third}"
        for old in (call, aside):
            record(board, old, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING, reason)
            old.bridged = False
            old.gone.update(old.legs())
            old.enter(Phase.ENDED, now)
        new = Call(next(self._ids), held, party_of(board, aside, held), now, since=now,
                   phase=Phase.CONNECTED, b=third, called=call.called, trunk=call.trunk,
                   answered=now, bridged=True)
        new.klass, new.a_up = call.klass, True
        new.origin = transferrer_origin(board, call, leg)
        new.path = [f"transfer:{leg}"]
        self._calls[new.call_id] = new
        for old in (call, aside):
            self._sync(old)
        self._sync(new)
        logger.info("call %d: %s", new.call_id, reason)
        if refer:
            referral.attended(board, new, held, third)

    def _blind(self, desk: Desk, call: Call, now: float) -> None:
        """H hung up while the third still rings: the held party takes H's place."""
        board, leg, aside = self._board, desk.leg, desk.aside
        held = aside.other(leg)
        assert held is not None and call.b is not None
        unhold(board, leg, held)
        if call.bridged:  # early media
            board.emit(Unbridge(call.a, call.b), Bridge(held, call.b))
        record(board, aside, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
               f"transferred by {leg} to {call.called}")
        aside.gone.update(aside.legs())
        aside.enter(Phase.ENDED, now)
        call.caller = party_of(board, aside, held)
        call.origin = transferrer_origin(board, call, leg)
        call.a, call.a_up = held, True
        call.path.append(f"transfer:{leg}")
        if not call.bridged and board.plan.is_fxs(held):
            board.emit(Tone(held, "ringback"))
        elif not call.bridged:  # answered long ago: the country's ringback as a prompt
            board.emit(Play(held, (RINGBACK,), loop=True))
            call.playing = True  # stopped at the answer (dispatch.stop_play)
        if self._legs.get(leg) is call:
            del self._legs[leg]
        self._sync(aside)
        self._sync(call)
        logger.info("call %d: %s transferred %s to %s (ringing)", call.call_id, leg, held,
                    call.called)
