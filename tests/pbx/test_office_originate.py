"""Calls the box places itself: originate, hangup, join (the informer, the call-back)."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Digit,
    Party,
    Play,
    PlayDone,
    Release,
    Setup,
    Tone,
)
from firmware.pbx.calls import Originated, PbxOutput
from firmware.pbx.cdr import Disposition
from firmware.pbx.office import Group
from firmware.pbx.tollguard import Permission

from .office import Driver
from .office_support import MEMBERS, driver

OFFICE = Party("5550100", "Office")


def events(out: list[PbxOutput]) -> list[Originated]:
    return [o for o in out if isinstance(o, Originated)]


def originate(drv: Driver, to: str, permission: Permission | None = Permission.NATIONAL,
              **kw: object) -> tuple[str, list[PbxOutput]]:
    return drv.pbx.originate(to, tag="t1", caller=OFFICE, permission=permission,
                             now=drv.now, **kw)  # type: ignore[arg-type]


def test_an_extension_answers_hears_the_app_and_keys_a_digit() -> None:
    drv = driver()
    handle, out = originate(drv, "ext:102")
    assert handle == "orig1"
    assert out == [Setup("fxs2", "102", OFFICE),
                   Originated("orig1", "t1", "fxs2", "ringing")]
    out = drv.send(Answer("fxs2"))
    assert out == [Originated("orig1", "t1", "fxs2", "answered")]
    assert drv.send(PlayDone("fxs2")) == [Originated("orig1", "t1", "fxs2", "played")]
    assert drv.send(Digit("fxs2", "1")) == [
        Originated("orig1", "t1", "fxs2", "digit", digit="1")]
    out = drv.pbx.hangup("orig1", drv.now)
    assert Tone("fxs2", "busy") in out  # a handset left off-hook hears busy tone
    assert Originated("orig1", "t1", "fxs2", "ended", Cause.NORMAL_CLEARING,
                      "the box hung up") in out
    assert drv.pbx.records[-1].disposition is Disposition.ANSWERED


def test_a_dialled_number_goes_out_through_the_route_and_the_toll_guard() -> None:
    drv = driver()
    _, out = originate(drv, "95551234")
    setup = next(o for o in out if isinstance(o, Setup))
    assert setup.called == "5551234" and setup.trunk == "itsp"
    out = drv.send(Alerting(setup.leg))
    assert out == []  # nothing goes to the box's own leg
    out = drv.send(Answer(setup.leg))
    assert events(out) == [Originated("orig1", "t1", setup.leg, "answered")]
    out = drv.send(Release(setup.leg))
    assert events(out)[0].state == "ended"


def test_a_refusal_ends_at_once_with_the_cause() -> None:
    drv = driver()
    _, out = originate(drv, "95551234", permission=None)
    assert out == [Originated("orig1", "t1", None, "ended", Cause.OUTGOING_CALL_BARRED,
                              out[0].reason)]  # type: ignore[union-attr]
    assert "may not leave" in out[0].reason  # type: ignore[union-attr]


def test_busy_and_no_answer() -> None:
    drv = driver()
    drv.send(__import__("firmware.core.events", fromlist=["Seize"]).Seize("fxs3"))
    _, out = originate(drv, "103")
    assert events(out) == [Originated("orig1", "t1", None, "ended", Cause.USER_BUSY,
                                      "extension 103 is dialling")]
    _, out = originate(drv, "ext:104", ring_s=20)
    out = drv.advance(20)
    assert Release("fxs4", Cause.NO_ANSWER) in out
    assert events(out)[0].cause is Cause.NO_ANSWER
    assert events(out)[0].reason == "no answer in 20 s"


def test_hangup_before_answer_stops_the_ringing() -> None:
    drv = driver()
    originate(drv, "ext:102")
    out = drv.pbx.hangup("orig1", drv.now)
    assert Release("fxs2", Cause.NORMAL_CLEARING) in out
    assert events(out)[0].state == "ended"
    assert drv.pbx.calls() == []


def test_callback_group_then_the_visitor_then_a_bridge() -> None:
    drv = driver(Group("sales", "600", MEMBERS, strategy="ringall"))
    office, out = originate(drv, "group:sales")
    assert [o.leg for o in out if isinstance(o, Setup)] == ["fxs2", "fxs3", "fxs4"]
    assert Setup("fxs2", "600", OFFICE) in out  # the caller as given, no group prefix
    out = drv.send(Answer("fxs3"))
    assert Release("fxs2", Cause.NON_SELECTED_USER_CLEARING) in out
    assert events(out) == [Originated(office, "t1", "fxs3", "answered")]
    # The app plays "call-back request from NUMBER" to fxs3, then dials the visitor.
    drv.send(PlayDone("fxs3"))
    visitor, out = originate(drv, "95557777")
    leg = next(o.leg for o in out if isinstance(o, Setup))
    out = drv.pbx.join(office, visitor, drv.now)
    assert out == [Tone("fxs3", "ringback")]
    out = drv.send(Answer(leg))
    assert Tone("fxs3", None) in out and Bridge("fxs3", leg) in out
    assert not events(out)
    out = drv.send(Release(leg))
    assert Tone("fxs3", "busy") in out
    assert events(out)[0].state == "ended"
    record = drv.pbx.records[-1]
    assert record.caller_leg == "fxs3" and record.disposition is Disposition.ANSWERED


def test_join_of_two_answered_calls_bridges_at_once() -> None:
    drv = driver()
    a, _ = originate(drv, "ext:102")
    b, _ = originate(drv, "ext:103")
    drv.send(Answer("fxs2"))
    drv.send(Answer("fxs3"))
    assert drv.pbx.join(a, b, drv.now) == [Bridge("fxs2", "fxs3")]
    assert drv.pbx.leg_state("fxs2") == "connected"
    _ = Play
