"""Hunt groups: ringing a group's members, the queue, overflow (the rules are in
``office``'s docstring; the group data is there too).

A call hunting a group is one call with several callee legs while they ring
(``Call.offered``); the one who answers becomes ``Call.b``, the others are released at
once with NON_SELECTED_USER_CLEARING ("answered elsewhere": an ATA stops ringing and logs
no missed call). A member is *free* when its line is idle; several callers on the one
number are spread over the free members, each ringing only free ones.

Timers (one per call, ``Timer.HUNT``): the ringing member's ``ring_s``, and the call's
limit (``total_s`` without a queue, ``max_wait_s`` from arrival with one). A queued caller
of a group with ``announce_position`` and ``announce_every_s`` also has ``Timer.POSITION``
when it comes before the limit: the music stops for "builtin:position" and the caller's
place now, then starts again from its beginning (a new Play; the media side cannot resume
one). Only a caller waiting in the queue hears it: while members ring for them the caller
is no longer in line, and a member's answer stops any prompt at once (``stop_play``) before
the bridge. The group is read again when the timer fires, so a committed change (another
interval, announce_position off) reaches waiting callers from their next announcement; a
caller who was queued while ``announce_every_s`` was 0 has no such timer and keeps hearing
the place on arrival only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Digit,
    LegId,
    PlayDone,
    Release,
    Setup,
    Tone,
)
from firmware.pbx import recording
from firmware.pbx.actions import Board, caller_fails, record
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.cdr import Disposition
from firmware.pbx.dispatch import (
    answer_caller,
    member_caller,
    play,
    ringback,
    send_to,
    stop_play,
)
from firmware.pbx.office import Group, GroupMemory, hunt_order
from firmware.pbx.states import CallState, unexpected

logger = logging.getLogger(__name__)

ANSWERED_ELSEWHERE = Cause.NON_SELECTED_USER_CLEARING


@dataclass
class HuntRun:
    group: str
    arrived: float
    until: float | None  # total_s (no queue) or max_wait_s (queue), from arrival
    order: list[str] = field(default_factory=list)
    pos: int = 0
    ringing: dict[LegId, str] = field(default_factory=dict)  # leg -> member number
    member_until: float | None = None
    queued_at: float | None = None
    # The queue's "please hold" or a position announcement plays; music follows at PlayDone.
    intro: bool = False
    announced: float | None = None  # when a queued caller last heard their place
    rang: bool = False  # a member rang at all (else: every member was busy)


def _run(call: Call) -> HuntRun:
    assert call.hunt is not None, f"call {call.call_id} hunts no group"
    return call.hunt


def memory(board: Board, group: Group) -> GroupMemory:
    return board.groups.setdefault(group.name, GroupMemory())


def _group(board: Board, call: Call) -> Group | None:
    run = _run(call)
    return board.plan.group(run.group)


def _free(board: Board, call: Call, member: str) -> bool:
    if board.plan.sites.link_for(member) is not None:
        return True  # a member at another site: that site answers busy itself
    ext = board.plan.extension(member)
    return ext is not None and ext.leg != call.a and board.leg_state(ext.leg) == "idle"


def _any_free(board: Board, call: Call, group: Group) -> bool:
    return any(_free(board, call, m) for m in group.members)


def start(board: Board, call: Call, group: Group, now: float) -> None:
    """``call`` (A) reaches ``group``."""
    if group.queue:
        until = now + group.max_wait_s if group.max_wait_s else None
    else:
        limit = group.total_s or (group.ring_s if group.strategy == "ringall" else 0)
        until = now + limit if limit else None
    call.hunt = HuntRun(group.name, now, until)
    call.called = call.called or group.number or group.name
    if not _any_free(board, call, group):
        _all_busy(board, call, group, now)
        return
    call.enter(Phase.HUNTING, now)
    ringback(board, call)
    _new_round(board, call, group, now)


def _new_round(board: Board, call: Call, group: Group, now: float) -> None:
    run = _run(call)
    run.order = hunt_order(group, memory(board, group))
    run.pos = 0
    if group.strategy == "ringall":
        for member in run.order:
            if _free(board, call, member):
                _ring(board, call, group, member)
        _arm(board, call)
        if not run.ringing:
            _all_busy(board, call, group, now)
        return
    _next(board, call, group, now, fresh=True)


def _next(board: Board, call: Call, group: Group, now: float, *, fresh: bool = False) -> None:
    """Ring the next member of a sequential hunt (or wait out a busy one)."""
    run = _run(call)
    while run.pos < len(run.order):
        member = run.order[run.pos]
        run.pos += 1
        if _free(board, call, member):
            _ring(board, call, group, member)
            run.member_until = now + group.ring_s
            _arm(board, call)
            return
        if not group.skip_busy:
            logger.info("call %d: group %s member %s is busy; waiting its turn",
                        call.call_id, group.name, member)
            run.member_until = now + group.ring_s
            _arm(board, call)
            return
    # Round over.
    if not _any_free(board, call, group):
        _all_busy(board, call, group, now)
    elif not fresh and (group.queue or (run.until is not None and now < run.until)):
        _new_round(board, call, group, now)
    else:
        _give_up(board, call, group, now, "no member answered")


def _ring(board: Board, call: Call, group: Group, member: str) -> None:
    run = _run(call)
    link = board.plan.sites.link_for(member)
    if link is not None:  # a member at another site, rung over its link (sitelinks.py)
        leg = board.new_leg_id()
        caller = call.caller if call.job is not None else member_caller(call, group.label)
        board.emit(Setup(leg, member, caller, trunk=link.trunk))
        run.ringing[leg] = member
        run.rang = True
        call.offered.append(leg)
        return
    ext = board.plan.extension(member)
    assert ext is not None
    caller = call.caller if call.job is not None else member_caller(call, group.label)
    board.emit(Setup(ext.leg, group.number or member, caller))
    run.ringing[ext.leg] = member
    run.rang = True
    call.offered.append(ext.leg)
    if ext.leg in call.gone:  # rung before for this call
        call.gone.discard(ext.leg)


def _arm(board: Board, call: Call) -> None:
    run = _run(call)
    times = [t for t in (run.member_until, run.until) if t is not None]
    if call.phase is Phase.QUEUED:
        times = [t for t in (run.until,) if t is not None]
        again = _position_due(board, call)
        if again is not None and (not times or again < min(times)):
            call.arm(Timer.POSITION, again)
            return
    if times:
        call.arm(Timer.HUNT, min(times))
    else:
        call.deadline = call.timer = None


def _stop_ringing(board: Board, call: Call, cause: Cause) -> None:
    run = _run(call)
    for leg in list(run.ringing):
        board.emit(Release(leg, cause))
        call.gone.add(leg)
        call.former.append(leg)
    run.ringing.clear()
    call.offered.clear()


def _all_busy(board: Board, call: Call, group: Group, now: float) -> None:
    run = _run(call)
    if not group.queue:
        _give_up(board, call, group, now, "every member is busy", busy=not run.rang)
        return
    if run.queued_at is None:
        waiting = queued(board, group)
        if group.max_callers and len(waiting) >= group.max_callers:
            _give_up(board, call, group, now, f"the queue is full ({len(waiting)} waiting)",
                     busy=True)
            return
        run.queued_at = run.announced = now
        call.enter(Phase.QUEUED, now)
        answer_caller(board, call, now)
        prompts: tuple[str, ...] = ("builtin:please_hold",)
        if group.announce_position:
            prompts = ("builtin:position", f"digits:{len(waiting) + 1}", *prompts)
        play(board, call, prompts)
        run.intro = True
        logger.info("call %d: queued for group %s, position %d", call.call_id, group.name,
                    len(waiting) + 1)
    else:
        call.enter(Phase.QUEUED, now)
        due = _position_due(board, call)
        if due is not None and due < now:
            run.announced = now  # missed while members rang: the next one a full interval on
    _arm(board, call)


def _position_due(board: Board, call: Call) -> float | None:
    """When a queued caller next hears their place (None: only on arrival)."""
    run = _run(call)
    group = board.plan.group(run.group)
    if group is None or not group.announce_position or not group.announce_every_s \
            or run.announced is None:
        return None
    return run.announced + group.announce_every_s


def _announce_position(board: Board, call: Call, group: Group, now: float) -> None:
    run = _run(call)
    run.announced = now
    place = next(i for i, c in enumerate(queued(board, group), 1) if c is call)
    play(board, call, ("builtin:position", f"digits:{place}"))
    run.intro = True
    logger.info("call %d: still queued for group %s, position %d", call.call_id,
                group.name, place)


def queued(board: Board, group: Group) -> list[Call]:
    """The callers waiting for ``group``, first come first."""
    waiting = [c for c in board.calls() if c.phase is Phase.QUEUED
               and isinstance(c.hunt, HuntRun) and c.hunt.group == group.name]
    return sorted(waiting, key=lambda c: (_run(c).queued_at or 0.0, c.call_id))


def serve_queue(board: Board, now: float) -> Call | None:
    """Give a free member to the first waiting caller who can have one; the call served
    (the exchange calls again, after noting its legs, until None)."""
    for group in board.plan.groups:
        if not group.queue:
            continue
        for call in queued(board, group):
            if not _any_free(board, call, group):
                break
            call.enter(Phase.HUNTING, now)
            _new_round(board, call, group, now)
            return call
    return None


def _give_up(board: Board, call: Call, group: Group, now: float, why: str,
             *, busy: bool = False) -> None:
    run = _run(call)
    _stop_ringing(board, call, Cause.NO_ANSWER)
    if run.queued_at is not None:
        call.queue_wait = now - run.queued_at
    call.hunt = None
    if group.overflow is not None:
        logger.info("call %d: group %s: %s; overflow to %s", call.call_id, group.name, why,
                    group.overflow)
        stop_play(board, call)
        call.b = None
        send_to(board, call, group.overflow, now)
        return
    stop_play(board, call)
    cause = Cause.USER_BUSY if busy else Cause.NO_ANSWER
    disposition = Disposition.BUSY if busy else Disposition.NO_ANSWER
    record(board, call, now, disposition, cause, f"group {group.name}: {why}")
    caller_fails(board, call, "busy" if busy else "congestion", cause, now)


class Hunting(CallState):
    phase = Phase.HUNTING

    def on_alerting(self, board: Board, call: Call, event: Alerting, now: float) -> None:
        pass  # the caller already hears ringing (or music)

    def on_answer(self, board: Board, call: Call, event: Answer, now: float) -> None:
        run = _run(call)
        if event.leg not in run.ringing:
            unexpected(call, event)
            return
        member = run.ringing.pop(event.leg)
        _stop_ringing(board, call, ANSWERED_ELSEWHERE)
        group = _group(board, call)
        if group is not None:
            mem = memory(board, group)
            mem.answered_at[member] = now
            if member in group.members:
                mem.last_answered = group.members.index(member)
        if run.queued_at is not None:
            call.queue_wait = now - run.queued_at
        call.path.append(f"ext:{member}")
        call.b = event.leg
        call.hunt = None
        logger.info("call %d: group %s answered by %s", call.call_id, run.group, member)
        if call.originated():
            from firmware.pbx import originate

            originate.answered(board, call, now)
            return
        stop_play(board, call)
        if board.plan.is_fxs(call.a):
            board.emit(Tone(call.a, None))
        board.emit(Bridge(call.a, event.leg))
        call.bridged = True
        if not call.a_up and not board.plan.is_fxs(call.a):
            board.emit(Answer(call.a))
            call.a_up = True
        call.answered = now
        call.enter(Phase.CONNECTED, now)
        recording.answered(board, call)  # a group's record setting applies too

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        run = _run(call)
        if event.leg == call.a:
            call.gone.add(call.a)
            _stop_ringing(board, call, Cause.NORMAL_CLEARING)
            if run.queued_at is not None:
                call.queue_wait = now - run.queued_at
            record(board, call, now, Disposition.ABANDONED, Cause.NORMAL_CLEARING,
                   f"caller hung up while group {run.group} rang")
            call.hunt = None
            call.enter(Phase.ENDED, now)
            return
        if event.leg not in run.ringing:
            return
        run.ringing.pop(event.leg)
        call.offered.remove(event.leg)
        call.gone.add(event.leg)
        call.former.append(event.leg)
        group = _group(board, call)
        if group is None:
            return
        if run.ringing:
            return  # ringall: others still ring
        run.member_until = None
        if group.strategy == "ringall":
            _give_up(board, call, group, now, "every member refused")
        else:
            _next(board, call, group, now)

    def on_digit(self, board: Board, call: Call, event: Digit, now: float) -> None:
        pass  # digits while waiting for a member reach nobody

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        _intro_done(board, call, event)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        run = _run(call)
        group = _group(board, call)
        if group is None:
            _stop_ringing(board, call, Cause.NO_ANSWER)
            record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER,
                   f"group {run.group} left the configuration")
            caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
            return
        if run.until is not None and now >= run.until:
            waited = "waited" if group.queue else "rang"
            limit = group.max_wait_s if group.queue else (run.until - run.arrived)
            _give_up(board, call, group, now, f"{waited} {limit:g} s")
            return
        _stop_ringing(board, call, Cause.NO_ANSWER)
        run.member_until = None
        if group.strategy == "ringall":
            _new_round(board, call, group, now)
        else:
            _next(board, call, group, now)


def _intro_done(board: Board, call: Call, event: PlayDone) -> None:
    run = _run(call)
    if event.leg == call.a and run.intro:
        run.intro = False
        play(board, call, ("builtin:music",), loop=True)


class Queued(CallState):
    phase = Phase.QUEUED

    def on_release(self, board: Board, call: Call, event: Release, now: float) -> None:
        if event.leg != call.a:
            return
        run = _run(call)
        call.gone.add(call.a)
        call.queue_wait = now - (run.queued_at or now)
        record(board, call, now, Disposition.ABANDONED, Cause.NORMAL_CLEARING,
               f"caller left group {run.group}'s queue after {call.queue_wait:g} s")
        call.hunt = None
        call.enter(Phase.ENDED, now)

    def on_play_done(self, board: Board, call: Call, event: PlayDone, now: float) -> None:
        _intro_done(board, call, event)

    def on_timer(self, board: Board, call: Call, timer: Timer, now: float) -> None:
        run = _run(call)
        group = _group(board, call)
        if group is None:
            record(board, call, now, Disposition.CONGESTION, Cause.UNALLOCATED_NUMBER,
                   f"group {run.group} left the configuration")
            caller_fails(board, call, "congestion", Cause.UNALLOCATED_NUMBER, now)
            return
        if timer is Timer.POSITION:
            due = _position_due(board, call)  # a commit since it was armed may change it
            if due is not None and due <= now:
                _announce_position(board, call, group, now)
            _arm(board, call)
            return
        _give_up(board, call, group, now, f"waited {group.max_wait_s:g} s in the queue")


STATES = (Hunting(), Queued())
