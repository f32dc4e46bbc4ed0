"""What a call does to its legs: place it, offer it, fail it, end it, and write its record.

The moves the call states (``states``) share, with their rules:

- Placing a dialled number: an extension rings (Setup to its line with the caller's
  extension as caller ID, ringback to the caller) unless its line is not idle: then busy
  tone, and calling one's own extension is busy too. A trunk route gets a Setup on a new
  leg, with the number after strip and prepend and the extension's outbound caller ID; the
  caller hears nothing until the far end alerts. Anything else gives congestion.
- Leaving the box (:func:`leave`): every call out asks ``tollguard`` first, with the call's
  origin and the number as the trunk gets it; a refusal gives congestion (the country's
  reorder tone: the call cannot be completed as dialled; our tone set has no special
  information tone) and a DENIED record whose reason names the rule. Then the route's
  trunks are tried in order: a full trunk (max_calls) or a seized FXO line is skipped, and
  a trunk failing before answer with a cause that names the way, not the callee
  (``tollguard.tries_next_trunk``), hands the call to the next one. When none is left the
  caller gets congestion and the record lists what each trunk said.
- Offering an inbound call (SIP, FXO): the routed extension rings and the caller is told
  it alerts; a busy extension releases the caller with USER_BUSY, no route with
  UNALLOCATED_NUMBER. An FXO line carries no called number: the extension's is used.
- A failed call: an FXS caller hears the final tone (busy, congestion), then the howler,
  then silence, until on-hook; any other caller is released with the cause (the SIP
  adapter maps it: 486, 404, 480...). An off-hook FXS line never gets Release.
- Digits go to the partner only from an analog port (FXS, FXO) to a SIP leg: they leave as
  RFC 4733 events. Digits from a SIP leg are not forwarded: the media path carries them
  to the handset; between two analog ports the audio carries them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.core.causes import Cause
from firmware.core.events import Alerting, Digit, LegId, Party, Release, Setup, Tone, ToneName
from firmware.pbx.calls import Call, LegState, PbxOutput, Phase, Timer
from firmware.pbx.cdr import CallRecord, CallRecords, Disposition
from firmware.pbx.features import LineFeatures
from firmware.pbx.office import GroupMemory
from firmware.pbx.plan import DialPlan, Extension, ToExtension, ToGroup, ToMenu, ToTrunk
from firmware.pbx.tollguard import COSTLY, Decision, Origin, OutboundCall, Permission, TollGuard

logger = logging.getLogger(__name__)


@dataclass
class Mailbox:
    """What the exchange knows of one mailbox: message ids, oldest first."""

    new: list[str] = field(default_factory=list)
    old: list[str] = field(default_factory=list)
    greeting: bool = False
    pin: str | None = None  # set by phone; None: the configured voicemail_pin


@dataclass
class Board:
    """What a call state may use of the exchange: the plan, the other legs' state, new
    leg ids, the output list and the call records."""

    plan: DialPlan
    leg_state: Callable[[LegId], LegState]
    new_leg_id: Callable[[], str]
    records: CallRecords
    outbound_calls: Callable[[], list[OutboundCall]] = list
    guard: TollGuard = field(default_factory=TollGuard)
    out: list[PbxOutput] = field(default_factory=list)
    # The office: every call (queues look at the others), the groups' memory, and the
    # unix time of an exchange instant (schedules).
    calls: Callable[[], list[Call]] = list
    groups: dict[str, GroupMemory] = field(default_factory=dict)
    wall: Callable[[float], float] = float
    # Each extension's current forwarding / do-not-disturb (firmware/pbx/features.py);
    # features_changed tells the app to save them.
    features: dict[str, LineFeatures] = field(default_factory=dict)
    features_changed: bool = False
    # Point the legs of a call that gained one (a pickup) at it (the exchange's _sync).
    resync: Callable[[Call], None] = field(default=lambda call: None)
    # Whether a handset in a call takes a second one as call waiting (flashcalls.py).
    call_waiting: Callable[[LegId], bool] = field(default=lambda leg: False)
    # Voicemail (firmware/pbx/voicemail.py): a mailbox's (new, old) message ids, oldest
    # first, and whether its owner recorded a greeting; the app keeps them current.
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    # Transfers by REFER (firmware/pbx/referral.py): whether SIP leg A's peer may be asked
    # to call leg B's party itself (the SIP layer knows the trunks and what peers allow).
    can_refer: Callable[[LegId, LegId], bool] = field(default=lambda a, b: False)
    # Calls a state starts on its own (a transfer's fallback): the exchange files them
    # after the event, with ids from next_call_id.
    next_call_id: Callable[[], int] = field(default=lambda: 0)
    born: list[Call] = field(default_factory=list)

    def emit(self, *events: PbxOutput) -> None:
        self.out.extend(events)


# Who ended a call that ended this way, unless the caller of record() says.
_SIDE = {Disposition.ABANDONED: "caller", Disposition.FAILED: "caller"}


def record(
    board: Board,
    call: Call,
    now: float,
    disposition: Disposition,
    cause: Cause,
    reason: str,
    side: str | None = None,
) -> None:
    """Write the call's record (once; later endings of the same call add nothing).
    ``side`` is who ended it (caller, callee, box); by default the box, or the caller for
    an abandoned call or one given up while dialling."""
    if call.recorded:
        return
    call.recorded = True
    call.reason, call.end_cause = reason, cause
    if call.klass in COSTLY and call.answered is not None:
        board.guard.spending.add(call.answered, now)
    called = call.called or call.digits
    plan = board.plan
    own = plan.extension_on(call.a)
    callee = plan.extension_on(call.b) if call.b else None
    if call.trunk is not None:
        direction = "outbound"
        resolved = plan.resolve(called)
        route = str(resolved.route.pattern) if isinstance(resolved, ToTrunk) else None
    elif own is None:
        direction = "inbound"
        route = f"line {call.a}" if plan.is_line(call.a) else f"number {called}"
        callee = callee or (plan.inbound_target(call.a, called) if called else None)
    else:
        direction, route = "internal", None
        callee = callee or plan.extension(called)
    def ext(leg: str) -> str | None:
        on = plan.extension_on(leg)
        return on.number if on is not None else None

    legs: list[tuple[str, str, str | None, str | None, str | None]] = [
        (call.a, "caller", None, None, ext(call.a))]
    # Earlier tries: trunks that failed over, group members rung in vain.
    tried = "failed" if call.trunk is not None else "not answered"
    legs += [(leg, "attempt", None, tried, ext(leg)) for leg in call.former]
    legs += [(leg, "attempt", None, None, ext(leg)) for leg in call.offered if leg != call.b]
    if call.b is not None:
        legs.append((call.b, "callee", call.trunk, "answered" if call.answered else None,
                     ext(call.b)))
    board.records.add(
        CallRecord(
            call_id=call.call_id,
            caller_leg=call.a,
            caller_number=call.caller.number,
            called_number=called,
            callee_leg=call.b,
            start=call.start,
            answer=call.answered,
            end=now,
            disposition=disposition,
            cause=cause,
            reason=reason,
            trunk=call.trunk,
            caller_name=call.caller.name or (own.name if own is not None else None),
            caller_extension=own.number if own is not None else None,
            called_name=callee.name if callee is not None else None,
            callee_extension=callee.number if callee is not None else None,
            direction=direction,
            route=route,
            path=tuple(call.path),
            queue_wait=call.queue_wait,
            hangup_side=side or _SIDE.get(disposition, "box"),
            legs=tuple(legs),
        )
    )
    logger.info(
        "call %d %s -> %s (%s): %s, %s",
        call.call_id,
        call.a,
        called,
        call.b or "-",
        disposition.value,
        reason,
    )


def final_tone(board: Board, call: Call, leg: LegId, tone: ToneName, now: float) -> None:
    """``leg`` (an off-hook FXS line) hears ``tone``, then the howler, then silence."""
    call.enter(Phase.ENDED, now)
    board.emit(Tone(leg, tone))
    call.arm(Timer.HOWLER, now + board.plan.timers.busy_tone_s)


def caller_fails(board: Board, call: Call, tone: ToneName, cause: Cause, now: float) -> None:
    """The call failed before answer: an FXS caller hears ``tone``, any other caller is
    released with ``cause``."""
    if board.plan.is_fxs(call.a):
        final_tone(board, call, call.a, tone, now)
    else:
        board.emit(Release(call.a, cause))
        call.gone.add(call.a)
        call.enter(Phase.ENDED, now)


def partner_left(board: Board, call: Call, leg: LegId, now: float) -> None:
    """``leg``'s partner hung up after answer."""
    if board.plan.is_fxs(leg):
        final_tone(board, call, leg, "busy", now)
    else:
        board.emit(Release(leg, Cause.NORMAL_CLEARING))
        call.gone.add(leg)
        call.enter(Phase.ENDED, now)


def offer(board: Board, call: Call, target: Extension | None, now: float) -> None:
    """An inbound call (SIP or FXO caller ``call.a``) to ``target``'s handset."""
    if target is None:
        reason = f"no inbound route for {call.called!r}"
        record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER, reason)
        caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
        return
    call.called = call.called or target.number  # an FXO line carries no called number
    from firmware.pbx import forwarding  # it sends calls on through dispatch

    if forwarding.redirect(board, call, target, now):
        return
    state = board.leg_state(target.leg)
    if state == "connected" and board.call_waiting(target.leg):
        from firmware.pbx import flashcalls

        flashcalls.wait(board, call, target, now)
        return
    if state != "idle":
        reason = f"extension {target.number} is {state}"
        record(board, call, now, Disposition.BUSY, Cause.USER_BUSY, reason)
        caller_fails(board, call, "busy", Cause.USER_BUSY, now)
        return
    call.b = target.leg
    board.emit(Setup(target.leg, call.called, call.caller), Alerting(call.a))
    call.enter(Phase.RINGING, now)
    call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
    forwarding.ringing(board, call, target, now)


def place(board: Board, call: Call, number: str, now: float) -> None:
    """An FXS caller dialled ``number`` completely."""
    from firmware.pbx import forwarding  # it sends calls on through dispatch

    call.called = number
    if forwarding.dialled_code(board, call, number, now):
        return
    target = board.plan.resolve(number)
    if isinstance(target, ToExtension):
        callee = target.extension
        if forwarding.redirect(board, call, callee, now):
            return
        state = board.leg_state(callee.leg)
        if callee.leg != call.a and state == "connected" and board.call_waiting(callee.leg):
            from firmware.pbx import flashcalls

            flashcalls.wait(board, call, callee, now)
            return
        if callee.leg == call.a or state != "idle":
            itself = callee.leg == call.a
            reason = "called own extension" if itself else f"extension {number} is {state}"
            record(board, call, now, Disposition.BUSY, Cause.USER_BUSY, reason)
            caller_fails(board, call, "busy", Cause.USER_BUSY, now)
            return
        call.b = callee.leg
        board.emit(Setup(callee.leg, number, call.caller), Tone(call.a, "ringback"))
        call.enter(Phase.RINGING, now)
    elif isinstance(target, ToTrunk):
        origin = origin_of(board, call)
        leave(board, call, origin, target.route.trunks, target.number, now)
        return
    elif isinstance(target, ToGroup | ToMenu):  # the office (firmware/pbx/dispatch.py)
        from firmware.pbx.destinations import Destination
        from firmware.pbx.dispatch import send_to

        if isinstance(target, ToGroup):
            send_to(board, call, Destination("group", target.group.name), now)
        else:
            send_to(board, call, Destination("menu", target.menu.name), now)
        return
    else:
        reason = f"no extension or route for {number!r}"
        record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER, reason)
        caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
        return
    call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
    forwarding.ringing(board, call, callee, now)


def origin_of(board: Board, call: Call) -> Origin:
    """Where ``call`` comes from: set for calls that came in; else its handset's port."""
    if call.origin is not None:
        return call.origin
    own = board.plan.extension_on(call.a)
    return own.origin() if own is not None else Origin("port", call.a, None)


def leave(
    board: Board, call: Call, origin: Origin, trunks: tuple[str, ...], number: str, now: float
) -> bool:
    """``call`` leaves the box for ``number`` (as sent) through the first of ``trunks``
    that takes it, if ``origin`` may make the call at all; False when it did not leave."""
    if board.plan.sites.internal(trunks, number):  # another site's number: no toll
        decision = Decision(True, klass=Permission.INTERNAL)
    else:
        decision = board.guard.decide_number(
            origin, number, board.plan.numbering, board.outbound_calls(),
            board.plan.max_international_minutes_per_hour, now)
    if not decision.allowed:
        logger.warning("call %d from %s to %s: %s", call.call_id, origin.name, number,
                       decision.reason)
        record(board, call, now, Disposition.DENIED, decision.cause, decision.reason)
        caller_fails(board, call, "congestion", decision.cause, now)
        return False
    call.origin, call.klass, call.out_number = origin, decision.klass, number
    call.next_trunks = trunks
    return next_trunk(board, call, now)


def next_trunk(board: Board, call: Call, now: float) -> bool:
    """Place ``call`` through its route's next trunk that can take it; False (and the
    caller fails with congestion) when none is left."""
    while call.next_trunks:
        trunk, call.next_trunks = call.next_trunks[0], call.next_trunks[1:]
        line = board.plan.is_fxo(trunk)
        if line:
            state = board.leg_state(trunk)
            if state != "idle":
                call.tried.append(f"PSTN line {trunk} is {state}")
                continue
            call.b = trunk
        else:
            spec = board.plan.trunk(trunk)
            decision = board.guard.decide_trunk(
                trunk, spec.max_calls if spec else 0, board.outbound_calls())
            if not decision.allowed:
                call.tried.append(decision.reason)
                continue
            call.b = board.new_leg_id()
        call.trunk = trunk
        own = board.plan.extension_on(call.a)
        # An extension number means nothing outside: without a number of its own the
        # handset shows none, and the trunk presents its account's number instead.
        shown = own.outbound_caller_id if own is not None else call.caller.number
        if own is not None and board.plan.sites.internal((trunk,), call.out_number or ""):
            shown = own.number  # another site of the organisation: the extension number
        caller = Party(shown, call.caller.name)
        board.emit(Setup(call.b, call.out_number, caller, trunk=None if line else trunk))
        call.enter(Phase.PROCEEDING, now)
        call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
        if call.tried:
            logger.info("call %d: trying %s after: %s", call.call_id, trunk,
                        "; ".join(call.tried))
        return True
    reason = "; ".join(call.tried) or "the route names no trunk"
    record(board, call, now, Disposition.CONGESTION, Cause.NO_CIRCUIT_AVAILABLE, reason)
    caller_fails(board, call, "congestion", Cause.NO_CIRCUIT_AVAILABLE, now)
    return False


def forward_digit(board: Board, call: Call, event: Digit) -> None:
    other = call.other(event.leg)
    if other is not None and board.plan.is_line(event.leg) and not board.plan.is_line(other):
        board.emit(Digit(other, event.digit))
