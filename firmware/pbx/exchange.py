"""The exchange: the sans-IO routing core between the box's legs.

Events from legs and the current time go in; events for legs (Setup, Digit, Alerting,
Answer, Release, Tone) and for the media switch (Bridge, Unbridge) come out, with
``next_deadline`` telling the loop when to call :meth:`Exchange.poll`. Nothing here reads a
clock, sleeps or touches a socket.

Legs: the plan names the line legs (extension lines are FXS, line-route legs are FXO); any
other id is a SIP leg, named by the SIP adapter for calls coming in and by
:meth:`Exchange.new_leg_id` for calls going out.

Rules of this module (the call phases have theirs in ``states``):

- Seize from an idle FXS line starts a call: dial tone and the first-digit timer. Seize
  from an FXS line being rung answers it (the line may report the lift either way).
- Setup from an FXO line rings the extension of its line route; Setup from a SIP leg rings
  the extension its DID routes to. Such a call carries its origin (the line, or the trunk)
  with no permission to leave: if a feature ever sends it out, ``tollguard`` refuses it.
- Flash is never a hang-up. While dialling it restarts dialling; on a handset hearing busy
  tone or the howler after a call it gives fresh dial tone (a new call); in a call it is
  the hook-flash services' (``flashcalls``: hold, call waiting, three-way, transfer).
- One call per leg in ``_legs`` (the call its events reach), except that a handset may
  have one more call *aside* (waiting, held, three-way): ``flashcalls.Handsets`` keeps
  those desks and moves ``_legs`` between the two; ``_sync`` files a call that arrives
  for a handset already in a call (its ``holder``) aside instead of replacing the other.
- Anything unexpected (an unknown leg, a Seize from a line already in a call, an Answer
  from an idle leg, a tone sent up, a digit that no keypad sends) is logged as a warning
  naming the leg and changes nothing: a call in progress survives another side's mistake.
- Timers due at or before ``now`` fire, in deadline order, before an event is handled, so
  a late event cannot overtake an expired timer. A timer fires with its own deadline as
  the time, so chained timers (busy tone, then howler, then silence) and records do not
  depend on how late the loop polls.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    CallEvent,
    Digit,
    Flash,
    LegId,
    MailboxEdit,
    Party,
    PlayDone,
    Record,
    Referred,
    Release,
    Seize,
    Setup,
    Tone,
    ToneName,
    Transfer,
    Unbridge,
)
from firmware.pbx import (
    features,
    flashcalls,
    hunt,
    ivr,
    originate,
    referral,
    transfer,
    voicemail,
)
from firmware.pbx.actions import Board, Mailbox, offer, place, record
from firmware.pbx.calls import Call, CallInfo, LegState, Originated, PbxOutput, Phase, Timer
from firmware.pbx.cdr import DEFAULT_RECORD_LIMIT, CallRecord, CallRecords, Disposition
from firmware.pbx.destinations import Destination, destination
from firmware.pbx.digitmap import SYMBOLS
from firmware.pbx.dispatch import ringback, send_to
from firmware.pbx.plan import DialPlan
from firmware.pbx.sitelinks import is_link
from firmware.pbx.sites import from_site
from firmware.pbx.states import STATES
from firmware.pbx.tollguard import Origin, OutboundCall, Permission

logger = logging.getLogger(__name__)

# The office's phases (firmware/pbx/hunt.py, ivr.py, originate.py).
STATES.update({state.phase: state for state in (*hunt.STATES, *ivr.STATES, *originate.STATES,
                                                 *voicemail.STATES)})

__all__ = ["Exchange", "PbxOutput"]


class Exchange:
    def __init__(self, plan: DialPlan, *, record_limit: int = DEFAULT_RECORD_LIMIT,
                 wall: Callable[[float], float] | None = None) -> None:
        self._plan = plan
        self._calls: dict[int, Call] = {}
        self._legs: dict[LegId, Call] = {}
        self._call_ids = itertools.count(1)
        self._leg_numbers: defaultdict[str, int] = defaultdict(int)
        self._board = Board(plan, self.leg_state, self.new_leg_id, CallRecords(record_limit),
                            self._outbound_calls)
        # The office: queues see every call; schedules need the unix time of ``now``
        # (the app maps its monotonic clock; by default ``now`` is taken as unix time).
        self._board.calls = lambda: list(self._calls.values())
        self._board.features = {n: plan.feature_defaults(n) for n, _ in plan.forwarding}
        self._board.resync = self._sync
        if wall is not None:
            self._board.wall = wall
        self._jobs: dict[LegId, Call] = {}  # originated calls by their handle
        self._handles: set[LegId] = set()  # every handle given (outputs to them drop)
        # Handsets with a second call (waiting, held, three-way): firmware/pbx/flashcalls.py.
        self._handsets = flashcalls.Handsets(self._board, self._legs, self._calls,
                                             self._call_ids, self._sync,
                                             lambda leg, now: self._start_dialling(
                                                 leg, now, "stutter"))
        self._board.call_waiting = self._handsets.can_wait
        self._board.next_call_id = lambda: next(self._call_ids)

    @property
    def plan(self) -> DialPlan:
        return self._plan

    def set_refer_check(self, check: Callable[[LegId, LegId], bool]) -> None:
        """Who may be handed a transfer by REFER (firmware/pbx/referral.py): the SIP
        layer's answer for (held leg, transfer target leg)."""
        self._board.can_refer = check

    def replace_plan(self, plan: DialPlan) -> None:
        """Route with ``plan`` from now on (a committed configuration). Calls in progress
        keep their legs and their armed timers; the new plan decides everything after:
        the next digit, the next call, a line that is no longer in it (ignored). An
        extension whose configured forwarding changed takes the new configuration (over
        what star codes set)."""
        before = dict(self._plan.forwarding)
        after = dict(plan.forwarding)
        for ext in before.keys() | after.keys():
            if before.get(ext) != after.get(ext):
                self._board.features[ext] = plan.feature_defaults(ext)
                self._board.features_changed = True
        self._plan = plan
        self._board.plan = plan

    # -- driving ---------------------------------------------------------------------

    def handle(self, event: CallEvent, now: float) -> list[PbxOutput]:
        """Feed one event from a leg; returns what to send down, in order."""
        self._fire_timers(now)
        match event:
            case Seize():
                self._on_seize(event, now)
            case Setup():
                self._on_setup(event, now)
            case Flash():
                self._on_flash(event, now)
            case Digit() if len(event.digit) != 1 or event.digit not in SYMBOLS:
                logger.warning(
                    "%s: digit %r is not a keypad symbol; ignored", event.leg, event.digit
                )
            case Digit() | Alerting() | Answer() | Release():
                self._on_call_event(event, now)
            case PlayDone():
                self._on_play_done(event, now)
            case Transfer():
                self._on_transfer(event, now)
            case Referred():
                self._on_referred(event, now)
            case Tone():
                logger.warning("%s: a tone is sent down to legs, not up; ignored", event.leg)
        self._adopt_born()
        self._serve(now)
        return self._drain()

    def poll(self, now: float) -> list[PbxOutput]:
        """Fire the timers due at ``now``; call it at ``next_deadline``."""
        self._fire_timers(now)
        self._serve(now)
        return self._drain()

    # -- calls the box places itself (firmware/pbx/originate.py) -----------------------

    def originate(self, to: str | Destination, *, tag: str, caller: Party,
                  permission: Permission | None, now: float,
                  ring_s: float | None = None) -> tuple[LegId, list[PbxOutput]]:
        """Place a call from the box itself to ``to`` (a destination such as
        ``group:sales``, ``dial:5551234``, or a number dialled as a handset would);
        returns its handle and the outputs (``Originated`` among them)."""
        self._fire_timers(now)
        dest = to if isinstance(to, Destination) else (
            destination(to) if ":" in to or to == "hangup" else Destination("dial", to))
        handle = self.new_leg_id("orig")
        call = Call(next(self._call_ids), handle, caller, now, since=now,
                    called=dest.target)
        call.origin = Origin("app", tag, permission)
        call.job = originate.Job(handle, tag)
        call.a_up = True  # nobody to answer on the box's side
        self._calls[call.call_id] = call
        self._jobs[handle] = call
        self._handles.add(handle)
        send_to(self._board, call, dest, now)
        if ring_s is not None and call.timer is Timer.NO_ANSWER:
            call.arm(Timer.NO_ANSWER, now + ring_s)
            call.ring_s = ring_s
        self._sync(call)
        self._serve(now)
        return handle, self._drain()

    def hangup(self, leg: LegId, now: float) -> list[PbxOutput]:
        """End an originated call (by its handle or its far leg), in any state."""
        self._fire_timers(now)
        call = self._jobs.get(leg) or self._legs.get(leg)
        if call is None or call.job is None:
            logger.warning("%s: hangup of no call the box placed; ignored", leg)
            return self._drain()
        if call.phase is Phase.HELD:
            originate.end_held(self._board, call, now, "the box")
        elif call.phase is not Phase.ENDED:
            STATES[call.phase].on_release(self._board, call, Release(call.a), now)
            call.gone.add(call.a)
        self._sync(call)
        self._serve(now)
        return self._drain()

    def join(self, a: LegId, b: LegId, now: float) -> list[PbxOutput]:
        """The call-back: bridge ``a`` (an answered originated call) with ``b`` (another,
        answered or still ringing) into one ordinary call whose caller is ``a``'s far end."""
        self._fire_timers(now)
        ca = self._jobs.get(a) or self._legs.get(a)
        cb = self._jobs.get(b) or self._legs.get(b)
        if ca is None or cb is None or ca is cb or not ca.originated() \
                or not cb.originated() or ca.phase is not Phase.HELD or ca.b is None \
                or cb.phase not in (Phase.PROCEEDING, Phase.RINGING, Phase.HUNTING, Phase.HELD):
            raise ValueError(f"join {a} {b}: needs an answered call the box placed and "
                             "another one ringing or answered")
        member = ca.b
        assert ca.job is not None and cb.job is not None  # both originated()
        record(self._board, ca, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
               f"joined to call {cb.call_id}")
        ca.job.done = True
        ca.gone.update({ca.a, member})
        ca.enter(Phase.ENDED, now)
        self._sync(ca)
        virtual = cb.a
        cb.former.append(virtual)
        cb.gone.add(virtual)
        cb.a = member
        cb.job.joined = True
        own = self._plan.extension_on(member)
        if own is not None:
            cb.caller = Party(own.number, own.name)
        if cb.phase is Phase.HELD:
            assert cb.b is not None
            self._board.emit(Bridge(member, cb.b))
            cb.bridged = True
            cb.enter(Phase.CONNECTED, now)
        else:
            ringback(self._board, cb)
        self._sync(cb)
        return self._drain()

    def _serve(self, now: float) -> None:
        """Queued callers take members that came free."""
        while (call := hunt.serve_queue(self._board, now)) is not None:
            self._sync(call)

    @property
    def next_deadline(self) -> float | None:
        deadlines = [c.deadline for c in self._calls.values() if c.deadline is not None]
        return min(deadlines, default=None)

    def new_leg_id(self, prefix: str = "out") -> str:
        """A leg id no line and no call uses: ``out1``, ``out2``... (never reused)."""
        while True:
            self._leg_numbers[prefix] += 1
            leg = f"{prefix}{self._leg_numbers[prefix]}"
            if leg not in self._legs and not self._plan.is_line(leg) \
                    and not self._plan.is_phone(leg):
                return leg

    # -- status and records ----------------------------------------------------------

    def set_features(self, current: dict[str, features.LineFeatures]) -> None:
        """Each extension's current forwarding and do-not-disturb (the app's saved ones,
        or the configured ones at the first start)."""
        self._board.features = dict(current)

    def line_features(self) -> dict[str, features.LineFeatures]:
        return self._board.features

    def set_mailbox(self, box: str, new: list[str], old: list[str], greeting: bool,
                    pin: str | None = None) -> None:
        """The app's view of a mailbox (voicemail.py): message ids, oldest first, and a
        PIN set by phone."""
        self._board.mailboxes[box] = Mailbox(list(new), list(old), greeting, pin)

    def mailbox(self, box: str) -> Mailbox:
        return self._board.mailboxes.get(box, Mailbox())

    def take_features_changed(self) -> bool:
        """Whether a star code changed them since the last take (the app then saves)."""
        changed, self._board.features_changed = self._board.features_changed, False
        return changed


    def calls(self) -> list[CallInfo]:
        return [call.info() for call in self._calls.values()]

    def leg_state(self, leg: LegId) -> LegState:
        """idle, dialling, calling, ringing, connected, off-hook (a handset left off-hook
        after its call ended), or unknown (no line of the plan and in no call)."""
        call = self._legs.get(leg)
        if call is not None:
            return call.leg_state(leg)
        return "idle" if self._plan.is_line(leg) or self._plan.is_phone(leg) else "unknown"

    def wants_digits(self, leg: LegId) -> bool:
        """Whether keys pressed on ``leg`` matter now (a menu, a queue, a call the box
        placed): the app listens for DTMF on a PSTN line only then."""
        call = self._legs.get(leg)
        return call is not None and call.phase in (Phase.MENU, Phase.HELD, Phase.QUEUED,
                                                   Phase.HUNTING)

    @property
    def records(self) -> list[CallRecord]:
        """The most recent call records, oldest first."""
        return self._board.records.recent()

    def outbound_status(self, now: float) -> dict[str, object]:
        """Calls out per trunk and the spending guard, for ``status``."""
        return self._board.guard.status(
            self._outbound_calls(), self._plan.max_international_minutes_per_hour, now)

    def _outbound_calls(self) -> list[OutboundCall]:
        return [
            OutboundCall(call.a, call.trunk, call.klass, call.answered)
            for call in self._calls.values()
            if call.trunk is not None and call.b is not None and call.b not in call.gone
        ]

    def take_records(self) -> list[CallRecord]:
        """The records written since the last take, for the app to persist."""
        return self._board.records.take()

    # -- events ----------------------------------------------------------------------

    def _on_seize(self, event: Seize, now: float) -> None:
        leg = event.leg
        if not self._plan.is_fxs(leg):
            logger.warning("%s: seize from a leg that is no FXS line of the plan; ignored", leg)
            return
        call = self._legs.get(leg)
        if call is None:
            self._start_dialling(leg, now)
        elif (leg == call.b and call.phase in (Phase.PROCEEDING, Phase.RINGING)) or (
                leg in call.offered and call.phase is Phase.HUNTING) or (
                leg == call.holder and call.phase is Phase.RECALL):
            STATES[call.phase].on_answer(self._board, call, Answer(leg), now)
            self._sync(call)
        else:
            logger.warning(
                "%s: seize while %s in call %d; ignored", leg, call.leg_state(leg), call.call_id
            )

    def _start_dialling(self, leg: LegId, now: float, tone: ToneName | None = None) -> Call:
        ext = self._plan.extension_on(leg)
        assert ext is not None  # only FXS lines get here
        line = self._board.features.get(ext.number)
        hidden = line is not None and line.caller_id_block
        call = Call(next(self._call_ids), leg,
                    Party(ext.number, ext.name, "restricted" if hidden else "allowed"),
                    now, since=now)
        self._calls[call.call_id] = call
        if line is not None and line.hotline and not line.warmline_s:
            # A hotline: lifting the handset dials its number, no dial tone.
            call.digits = line.hotline
            place(self._board, call, line.hotline, now)
            self._sync(call)
            return call
        # Stutter dial tone while forward-always or do-not-disturb is on (features.py).
        box = self._board.mailboxes.get(ext.number)
        self._board.emit(Tone(leg, tone or features.dial_tone(
            line, box is not None and bool(box.new))))
        wait = self._plan.timers.first_digit_s
        if line is not None and line.hotline:  # a warm line: its number unless a key comes
            wait = line.warmline_s
        call.arm(Timer.FIRST_DIGIT, now + wait)
        self._sync(call)
        return call

    def _on_setup(self, event: Setup, now: float) -> None:
        leg = event.leg
        if self._plan.is_fxs(leg):
            logger.warning("%s: setup from an FXS line (it seizes); ignored", leg)
            return
        if leg in self._legs:
            logger.warning("%s: setup while in call %d; ignored", leg, self._legs[leg].call_id)
            return
        if self._plan.is_phone(leg):
            self._phone_dials(event, now)
            return
        call = Call(next(self._call_ids), leg, event.caller, now, since=now, called=event.called)
        # A call from outside may not leave again (no permission) unless a route grants it.
        call.origin = (Origin("line", leg, None) if self._plan.is_fxo(leg)
                       else Origin("trunk", event.trunk or leg, None))
        self._calls[call.call_id] = call
        if is_link(event.trunk):  # another site of the organisation: by called number
            from_site(self._board, call, event.trunk or "", now)
            self._sync(call)
            return
        switch = self._plan.inbound_switch(leg, event.called)
        if switch is None:
            offer(self._board, call, None, now)
        elif switch.to.kind == "ext" and not switch.schedule:  # extension = or to = "ext:N"
            offer(self._board, call, self._plan.extension(switch.to.target), now)
        else:  # the office: a group, a menu, office hours (firmware/pbx/dispatch.py)
            unix = self._board.wall(now)
            send_to(self._board, call, switch.pick(self._plan.schedule_map, unix), now)
        self._sync(call)

    def _phone_dials(self, event: Setup, now: float) -> None:
        """An IP phone sends the whole number at once: place it as its extension, with
        the extension's own permission (like a handset that dialled it)."""
        ext = self._plan.extension_on(event.leg)
        assert ext is not None
        call = Call(next(self._call_ids), event.leg, Party(ext.number, ext.name), now,
                    since=now)
        call.digits = event.called
        self._calls[call.call_id] = call
        place(self._board, call, event.called, now)
        self._sync(call)

    def _on_transfer(self, event: Transfer, now: float) -> None:
        """A leg hands its partner to ``event.to`` (firmware/pbx/transfer.py)."""
        call = self._legs.get(event.leg)
        if call is None or call.phase is not Phase.CONNECTED or call.b is None:
            logger.warning("%s: transfer to %r outside a connected call; ignored",
                           event.leg, event.to)
            return
        new = transfer.blind(self._board, call, event.leg, event.to, next(self._call_ids), now)
        self._calls[new.call_id] = new
        self._sync(call)
        self._sync(new)

    def _on_referred(self, event: Referred, now: float) -> None:
        """A SIP peer says how a transfer handed to it went (firmware/pbx/referral.py)."""
        call = self._legs.get(event.leg)
        if call is None:
            logger.info("%s: REFER answer %d after its call ended; ignored", event.leg,
                        event.status)
            return
        referral.referred(self._board, call, event, now)
        self._sync(call)

    def _adopt_born(self) -> None:
        """File the calls states started on their own (Board.born)."""
        while self._board.born:
            call = self._board.born.pop(0)
            self._calls[call.call_id] = call
            self._sync(call)

    def _on_flash(self, event: Flash, now: float) -> None:
        leg = event.leg
        call = self._legs.get(leg)
        if call is None:
            logger.warning("%s: flash from a leg in no call; ignored", leg)
        elif not self._plan.is_fxs(leg):
            logger.debug("%s: flash from a leg that is no FXS line; ignored", leg)
        elif self._handsets.on_flash(event, call, now):
            pass  # hold, call waiting, three-way, swap (firmware/pbx/flashcalls.py)
        elif call.phase is Phase.ENDED:
            call.gone.add(leg)
            self._sync(call)
            self._start_dialling(leg, now)
        else:
            STATES[call.phase].on_flash(self._board, call, event, now)
            self._sync(call)

    def _on_call_event(self, event: Digit | Alerting | Answer | Release, now: float) -> None:
        call = self._legs.get(event.leg)
        if call is None:
            logger.warning("%s: %s from a leg in no call; ignored", event.leg, type(event).__name__)
            return
        if isinstance(event, Release) and self._handsets.on_release(event, call, now):
            return  # a handset with a second call, a three-way party (flashcalls.py)
        state = STATES[call.phase]
        match event:
            case Digit():
                state.on_digit(self._board, call, event, now)
            case Alerting():
                state.on_alerting(self._board, call, event, now)
            case Answer():
                state.on_answer(self._board, call, event, now)
            case Release():
                state.on_release(self._board, call, event, now)
        self._sync(call)

    def _on_play_done(self, event: PlayDone, now: float) -> None:
        call = self._legs.get(event.leg)
        if call is not None:  # prompts also end on legs that left their call
            STATES[call.phase].on_play_done(self._board, call, event, now)
            self._sync(call)

    # -- bookkeeping -----------------------------------------------------------------

    def _fire_timers(self, now: float) -> None:
        while True:
            due = [c for c in self._calls.values() if c.deadline is not None and c.deadline <= now]
            if not due:
                self._adopt_born()
                return
            call = min(due, key=lambda c: (c.deadline, c.call_id))
            at, timer = call.deadline, call.timer
            assert at is not None and timer is not None
            call.deadline = call.timer = None
            STATES[call.phase].on_timer(self._board, call, timer, at)
            self._sync(call)

    def _sync(self, call: Call) -> None:
        """Point each live leg at its call; forget legs that left and calls with none."""
        live = call.legs()
        for leg in (call.a, call.b, *call.former, *call.offered):
            if leg is None:
                continue
            current = self._legs.get(leg)
            if leg in live and current is not None and current is not call \
                    and call.holder == leg and leg in current.legs():
                self._handsets.adopt(leg, call)  # a second call: aside (flashcalls.py)
            elif leg in live:
                self._legs[leg] = call
            elif current is call:
                del self._legs[leg]
        self._handsets.forget(call)
        if not live:
            self._calls.pop(call.call_id, None)
        job = call.job
        if job is not None and not job.done and (
                call.phase is Phase.ENDED or not live or call.a in call.gone):
            job.done = True
            self._jobs.pop(job.handle, None)
            self._board.emit(Originated(job.handle, job.tag, call.b, "ended",
                                        call.end_cause or Cause.NORMAL_CLEARING, call.reason))

    def _drain(self) -> list[PbxOutput]:
        out = [o for o in self._board.out if not self._virtual(o)]
        self._board.out.clear()
        return out

    def _virtual(self, out: PbxOutput) -> bool:
        """Whether ``out`` goes to an originated call's virtual leg (then it is dropped);
        the first Setup of an originated call also says ``ringing`` to the app."""
        if isinstance(out, Originated | MailboxEdit):
            return False
        if isinstance(out, Bridge | Unbridge):
            return out.a in self._handles or out.b in self._handles
        if isinstance(out, Record):
            return out.a in self._handles
        if isinstance(out, Setup):
            call = self._legs.get(out.leg)
            job = call.job if call is not None and call.originated() else None
            if job is not None and not job.rang:
                job.rang = True
                self._board.out.append(Originated(job.handle, job.tag, out.leg, "ringing"))
            return False
        return out.leg in self._handles
