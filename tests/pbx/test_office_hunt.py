"""Hunt groups: each strategy's order, ringall's cancel, overflow, skip_busy, the queue."""

from __future__ import annotations

import pytest

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Party,
    Play,
    PlayDone,
    Release,
    Seize,
    Setup,
    Tone,
)
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import parse_destination
from firmware.pbx.office import Group

from .office_support import MEMBERS, answer, call_in, driver, setups


def test_ringall_rings_every_member_and_the_answer_stops_the_others() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall"))
    out = call_in(drv)
    assert setups(out) == ["fxs2", "fxs3", "fxs4"]
    assert Setup("fxs3", "600", Party("5557777", "Sales: 5557777")) in out
    assert Alerting("sip1") in out
    out = answer(drv, "fxs3")
    assert Release("fxs2", Cause.NON_SELECTED_USER_CLEARING) in out
    assert Release("fxs4", Cause.NON_SELECTED_USER_CLEARING) in out
    assert Bridge("sip1", "fxs3") in out and Answer("sip1") in out
    assert drv.pbx.leg_state("fxs2") == "idle" and drv.pbx.leg_state("fxs3") == "connected"
    drv.send(Release("sip1"))
    record = drv.pbx.records[-1]
    assert record.disposition is Disposition.ANSWERED
    assert record.path == ("group:sales", "ext:103")


def test_a_handset_lifting_answers_a_ringall_group_call() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall"))
    call_in(drv)
    out = drv.send(Seize("fxs4"))
    assert Bridge("sip1", "fxs4") in out
    assert Release("fxs2", Cause.NON_SELECTED_USER_CLEARING) in out


def _order(strategy: str, calls: int, answer_with: list[str] | None = None) -> list[list[str]]:
    """For each of ``calls`` calls: the members rung, ring_s apart, until one answers
    (``answer_with[i]``) or the round ends."""
    drv = driver(Group("sales", "600", MEMBERS, strategy=strategy, ring_s=10, total_s=0))
    rung: list[list[str]] = []
    for i in range(calls):
        out = call_in(drv, f"sip{i + 1}")
        legs = setups(out)
        who = answer_with[i] if answer_with else None
        while who is None or who not in legs:
            if who is not None and legs and legs[-1] == who:
                break
            nxt = setups(drv.advance(10))
            if not nxt:
                break
            legs += nxt
            if who is not None and who in nxt:
                break
        rung.append(legs)
        if who is not None:
            answer(drv, who)
            drv.send(Release(f"sip{i + 1}"))
            drv.send(Release(who))
    return rung


def test_linear_starts_from_the_first_member_every_time() -> None:
    assert _order("linear", 2) == [["fxs2", "fxs3", "fxs4"], ["fxs2", "fxs3", "fxs4"]]


def test_circular_starts_one_member_further_on_each_call() -> None:
    assert _order("circular", 3) == [
        ["fxs2", "fxs3", "fxs4"], ["fxs3", "fxs4", "fxs2"], ["fxs4", "fxs2", "fxs3"]]


def test_roundrobin_starts_after_the_member_who_answered_last() -> None:
    rung = _order("roundrobin", 2, answer_with=["fxs3", "fxs2"])
    assert rung[0] == ["fxs2", "fxs3"]
    assert rung[1][0] == "fxs4"


def test_leastrecent_rings_who_answered_longest_ago_first() -> None:
    rung = _order("leastrecent", 3, answer_with=["fxs2", "fxs3", "fxs4"])
    assert rung[0] == ["fxs2"]
    assert rung[1] == ["fxs3"]  # fxs2 answered most recently, fxs3 and fxs4 never
    assert rung[2] == ["fxs4"]


def test_sequential_ring_time_and_the_release_of_the_member_who_did_not_answer() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="linear", ring_s=10, total_s=0))
    assert setups(call_in(drv)) == ["fxs2"]
    assert drv.advance(9.9) == []
    out = drv.advance(0.1)
    assert out[0] == Release("fxs2", Cause.NO_ANSWER)
    assert setups(out) == ["fxs3"]


def test_three_callers_at_once_reach_three_members() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="linear"))
    rung = [setups(call_in(drv, f"sip{i}")) for i in (1, 2, 3)]
    assert rung == [["fxs2"], ["fxs3"], ["fxs4"]]
    for leg in ("fxs2", "fxs3", "fxs4"):
        assert Bridge(f"sip{int(leg[-1]) - 1}", leg) in answer(drv, leg)


def test_busy_members_are_skipped_or_waited_out() -> None:
    for skip, expect in ((True, ["fxs3"]), (False, [])):
        drv = driver(Group("sales", "600", MEMBERS, strategy="linear", ring_s=10,
                           skip_busy=skip))
        drv.send(Seize("fxs2"))  # member 102 is off-hook: busy
        assert setups(call_in(drv)) == expect
        if not skip:
            assert setups(drv.advance(10)) == ["fxs3"]


def test_total_time_then_overflow() -> None:
    group = Group("sales", "600", MEMBERS, strategy="linear", ring_s=10, total_s=25,
                  overflow=parse_destination("ext:105"))
    drv = driver(group)
    call_in(drv)
    drv.advance(10)
    drv.advance(10)
    out = drv.advance(5)
    assert Release("fxs4", Cause.NO_ANSWER) in out
    assert setups(out) == ["fxs5"]
    answer(drv, "fxs5")
    drv.send(Release("sip1"))
    assert drv.pbx.records[-1].path == ("group:sales", "ext:105")


def test_no_overflow_and_nobody_answers_is_no_answer() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall", total_s=30))
    call_in(drv)
    out = drv.advance(30)
    assert Release("sip1", Cause.NO_ANSWER) in out
    assert drv.pbx.records[-1].disposition is Disposition.NO_ANSWER


def test_every_member_busy_without_queue_is_busy() -> None:
    drv = driver(Group("sales", "600", ("102",)))
    drv.send(Seize("fxs2"))
    out = call_in(drv)
    assert out == [Release("sip1", Cause.USER_BUSY)]


def test_caller_hanging_up_stops_the_ringing() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall"))
    call_in(drv)
    out = drv.send(Release("sip1"))
    assert [o for o in out if isinstance(o, Release)] == [
        Release(leg, Cause.NORMAL_CLEARING) for leg in ("fxs2", "fxs3", "fxs4")]
    assert drv.pbx.records[-1].disposition is Disposition.ABANDONED
    assert drv.pbx.calls() == []


def test_a_handset_dials_the_group_number() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall"))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "600")
    assert setups(out) == ["fxs2", "fxs3", "fxs4"]
    assert Tone("fxs1", "ringback") in out
    assert Setup("fxs2", "600", Party("101", "Sales: 101")) in out
    out = answer(drv, "fxs2")
    assert Tone("fxs1", None) in out and Bridge("fxs1", "fxs2") in out


# --- the queue ------------------------------------------------------------------------

def _queue(**kw: object) -> object:
    return driver(Group("sales", "600", ("102",), strategy="linear", queue=True, **kw))


def test_queue_callers_wait_with_music_and_are_served_in_arrival_order() -> None:
    drv = _queue(announce_position=True)
    assert setups(call_in(drv, "sip1")) == ["fxs2"]
    out = call_in(drv, "sip2")
    assert Answer("sip2") in out
    assert Play("sip2", ("builtin:position", "digits:1", "builtin:please_hold")) in out
    out = call_in(drv, "sip3")
    assert Play("sip3", ("builtin:position", "digits:2", "builtin:please_hold")) in out
    assert Play("sip2", ("builtin:music",), loop=True) in drv.send(PlayDone("sip2"))
    answer(drv, "fxs2")
    drv.advance(30)
    drv.send(Release("sip1"))  # the member hears busy tone until on-hook
    assert setups(drv.send(Release("fxs2"))) == ["fxs2"]  # free: the queue's first
    assert drv.pbx.leg_state("sip2") == "calling"
    assert drv.pbx.leg_state("sip3") == "connected"  # still waiting (answered, music)
    out = answer(drv, "fxs2")
    assert Play("sip2", ()) in out and Bridge("sip2", "fxs2") in out
    drv.send(Release("sip2"))
    assert drv.pbx.records[-1].queue_wait == pytest.approx(30)


def test_queue_max_callers_and_max_wait_go_to_overflow() -> None:
    drv = _queue(max_callers=1, max_wait_s=60, overflow=parse_destination("ext:105"))
    call_in(drv, "sip1")  # rings 102
    call_in(drv, "sip2")  # waits
    out = call_in(drv, "sip3")  # the queue is full
    assert setups(out) == ["fxs5"]
    out = drv.advance(60)  # sip1 and sip2's wait ends: 105 (their overflow) is ringing
    assert Release("fxs2", Cause.NO_ANSWER) in out
    assert Release("sip1", Cause.USER_BUSY) in out and Release("sip2", Cause.USER_BUSY) in out


def test_queue_without_overflow_ends_busy_when_full() -> None:
    drv = _queue(max_callers=1)
    call_in(drv, "sip1")
    call_in(drv, "sip2")
    assert call_in(drv, "sip3") == [Release("sip3", Cause.USER_BUSY)]


def test_a_caller_leaving_the_queue_is_abandoned() -> None:
    drv = _queue()
    call_in(drv, "sip1")
    call_in(drv, "sip2")
    drv.advance(12)
    drv.send(Release("sip2"))
    record = drv.pbx.records[-1]
    assert record.disposition is Disposition.ABANDONED and record.queue_wait == 12
