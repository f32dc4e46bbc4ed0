"""A queued caller hears their place in line again every ``announce_every_s`` (fake clock):
the music stops for the position and starts again, the number falls as callers ahead are
served, a member's answer stops the prompt at once, and 0 keeps the arrival-only prompt."""

from __future__ import annotations

from dataclasses import replace

from firmware.core.events import Bridge, Play, PlayDone, Release
from firmware.pbx.calls import PbxOutput
from firmware.pbx.office import Group

from .office import Driver
from .office_support import answer, call_in, driver, setups

MUSIC = Play("sip2", ("builtin:music",), loop=True)


def _queue(every: float, **kw: object) -> Driver:
    """Group sales (one member, 102) with a queue; 102 talks to sip1 and sip2 calls in."""
    drv = driver(Group("sales", "600", ("102",), strategy="linear", queue=True,
                       announce_position=True, announce_every_s=every,
                       **kw))  # type: ignore[arg-type]
    call_in(drv, "sip1")
    answer(drv, "fxs2")
    arrival = call_in(drv, "sip2")  # waits, first in line
    assert Play("sip2", ("builtin:position", "digits:1", "builtin:please_hold")) in arrival
    assert drv.send(PlayDone("sip2")) == [MUSIC]
    return drv


def _position(leg: str, place: int) -> Play:
    return Play(leg, ("builtin:position", f"digits:{place}"))


def _plays(out: list[PbxOutput], leg: str) -> list[Play]:
    return [o for o in out if isinstance(o, Play) and o.leg == leg]


def test_the_position_is_told_again_every_interval_then_the_music_starts_again() -> None:
    drv = _queue(30)
    assert _plays(drv.advance(29.9), "sip2") == []
    assert drv.advance(0.1) == [_position("sip2", 1)]
    assert drv.send(PlayDone("sip2")) == [MUSIC]
    assert drv.advance(30) == [_position("sip2", 1)]  # counted from the last one


def test_the_number_falls_as_callers_ahead_are_answered() -> None:
    drv = _queue(20)
    drv.advance(5)
    call_in(drv, "sip3")  # second in line, arrived 5 s later
    assert _plays(drv.advance(15), "sip2") == [_position("sip2", 1)]
    assert _plays(drv.advance(5), "sip3") == [_position("sip3", 2)]
    drv.send(Release("sip1"))
    assert setups(drv.send(Release("fxs2"))) == ["fxs2"]  # 102 is free: sip2 is served
    answer(drv, "fxs2")
    out = drv.advance(20)
    assert _plays(out, "sip3") == [_position("sip3", 1)]
    assert _plays(out, "sip2") == []  # talking: no prompt


def test_a_member_answering_stops_the_announcement_at_once() -> None:
    drv = _queue(15)
    assert drv.advance(15) == [_position("sip2", 1)]
    drv.send(Release("sip1"))
    assert setups(drv.send(Release("fxs2"))) == ["fxs2"]  # rung while the prompt plays
    out = answer(drv, "fxs2")
    assert out.index(Play("sip2", ())) < out.index(Bridge("sip2", "fxs2"))
    assert drv.send(PlayDone("sip2")) == []  # no music after the bridge
    assert drv.pbx.leg_state("sip2") == "connected"


def test_zero_tells_the_position_on_arrival_only() -> None:
    drv = _queue(0, max_wait_s=0)
    assert drv.advance(600) == []
    assert drv.pbx.next_deadline is None


def test_the_waiting_caller_keeps_working_across_a_committed_change() -> None:
    drv = _queue(30)
    group = drv.pbx.plan.groups[0]
    drv.pbx.replace_plan(replace(drv.pbx.plan, groups=(replace(group, announce_every_s=60),)))
    assert drv.advance(30) == []  # the armed time comes; the new interval counts from arrival
    assert drv.advance(30) == [_position("sip2", 1)]
    drv.send(PlayDone("sip2"))
    drv.pbx.replace_plan(replace(drv.pbx.plan, groups=(replace(group, announce_position=False),)))
    assert drv.advance(239) == []  # turned off: no more prompts
    out = drv.advance(1)  # max_wait_s (300 from arrival) still ends the wait
    assert any(isinstance(o, Release) and o.leg == "sip2" for o in out)
