"""The exchange's bookkeeping: garbage in changes nothing, status, leg ids, deadlines."""

from __future__ import annotations

import logging

import pytest

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    CallEvent,
    Digit,
    Flash,
    Party,
    Release,
    Seize,
    Setup,
    Tone,
    Unbridge,
)
from firmware.pbx.calls import CallInfo
from firmware.pbx.exchange import Exchange
from firmware.pbx.features import LineFeatures
from firmware.pbx.plan import Extension

from .office import ALICE, BOB, CAROL, Driver, office_plan
from .scenarios import DAVE, alice_rings_bob, alice_talks_to_bob, run

LEGS = ("fxs1", "fxs2", "fxs3", "fxo1", "sip5", "out1")

# Events no correct leg sends in the situation, with the leg the warning must name.
GARBAGE_ANY_TIME: list[CallEvent] = [
    Answer("fxs3"),  # an idle line answering nothing
    Alerting("sip42"),
    Release("sip99"),
    Digit("fxs3", "1"),
    Flash("fxs3"),
    Seize("fxs9"),  # no line of the plan
    Seize("fxo1"),  # an FXO line does not seize towards the exchange
    Seize("sip5"),
    Setup("fxs3", "101", Party()),  # a handset seizes, it does not set up
    Tone("fxs1", "busy"),  # tones go down only
    Digit("fxs1", "Z"),
    Digit("fxs1", "12"),
]
GARBAGE_IN_CALL: list[CallEvent] = [
    Seize("fxs1"),
    Seize("fxs2"),
    Answer("fxs1"),  # the caller cannot answer
    Answer("fxs2"),  # a second answer
    Alerting("fxs1"),
    Alerting("fxs2"),
    Setup("fxs2", "101", Party()),
]


def snapshot(drv: Driver) -> tuple[list[CallInfo], list[str], float | None]:
    return drv.pbx.calls(), [drv.pbx.leg_state(leg) for leg in LEGS], drv.pbx.next_deadline


@pytest.mark.parametrize("event", GARBAGE_ANY_TIME, ids=repr)
def test_garbage_on_an_idle_exchange(
    drv: Driver, event: CallEvent, caplog: pytest.LogCaptureFixture
) -> None:
    before = snapshot(drv)
    with caplog.at_level(logging.WARNING, logger="firmware.pbx"):
        assert drv.send(event) == []
    assert snapshot(drv) == before
    assert any(event.leg in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


@pytest.mark.parametrize("event", GARBAGE_ANY_TIME + GARBAGE_IN_CALL, ids=repr)
def test_garbage_during_a_call_leaves_it_intact(
    drv: Driver, event: CallEvent, caplog: pytest.LogCaptureFixture
) -> None:
    run(drv, alice_talks_to_bob())
    before = snapshot(drv)
    with caplog.at_level(logging.WARNING, logger="firmware.pbx"):
        assert drv.send(event) == []
    assert snapshot(drv) == before
    assert any(event.leg in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert drv.send(Release("fxs1")) == [Unbridge("fxs1", "fxs2"), Tone("fxs2", "busy")]


@pytest.mark.parametrize("event", [Answer("fxs1"), Alerting("fxs1"), Seize("fxs1")], ids=repr)
def test_garbage_while_ringing_leaves_the_call_ringing(drv: Driver, event: CallEvent) -> None:
    run(drv, alice_rings_bob())
    before = snapshot(drv)
    assert drv.send(event) == []
    assert snapshot(drv) == before


def test_a_second_setup_from_a_leg_in_a_call_is_ignored(drv: Driver) -> None:
    drv.send(Setup("sip5", "5550100", DAVE))
    before = snapshot(drv)
    assert drv.send(Setup("sip5", "5559999", DAVE)) == []
    assert snapshot(drv) == before


def test_a_rung_extension_is_busy_for_a_second_caller(drv: Driver) -> None:
    drv.send(Setup("sip5", "5550100", DAVE))
    assert drv.send(Setup("sip6", "5550100", DAVE)) == [Release("sip6", Cause.USER_BUSY)]


def test_status_follows_the_call(drv: Driver) -> None:
    t0 = drv.now
    assert [drv.pbx.leg_state(leg) for leg in ("fxs1", "fxo1", "sip5")] == [
        "idle",
        "idle",
        "unknown",
    ]
    drv.send(Seize("fxs1"))
    drv.clock.advance(1)
    drv.dial("fxs1", "10")
    assert drv.pbx.calls() == [CallInfo(1, "fxs1", None, "dialling", "10", t0)]
    assert drv.pbx.leg_state("fxs1") == "dialling"
    drv.clock.advance(1)
    drv.send(Digit("fxs1", "2"))
    assert drv.pbx.calls() == [CallInfo(1, "fxs1", "fxs2", "ringing", "102", t0 + 2)]
    assert (drv.pbx.leg_state("fxs1"), drv.pbx.leg_state("fxs2")) == ("calling", "ringing")
    drv.clock.advance(1)
    drv.send(Answer("fxs2"))
    (info,) = drv.pbx.calls()
    assert (info.state, info.since, info.legs) == ("connected", t0 + 3, ("fxs1", "fxs2"))
    assert drv.pbx.leg_state("fxs2") == "connected"
    drv.send(Release("fxs1"))
    (info,) = drv.pbx.calls()
    assert info.state == "ended"
    assert [drv.pbx.leg_state(leg) for leg in ("fxs1", "fxs2")] == ["idle", "off-hook"]


def test_outbound_call_is_proceeding_until_alerting(drv: Driver) -> None:
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "955#")
    (info,) = drv.pbx.calls()
    assert (info.state, info.callee) == ("proceeding", "out1")
    assert drv.pbx.leg_state("out1") == "ringing"
    drv.send(Alerting("out1"))
    assert drv.pbx.calls()[0].state == "ringing"


def test_new_leg_ids_never_clash() -> None:
    plan = office_plan(extensions=(ALICE, BOB, CAROL, Extension("104", "out1", "Odd")))
    drv = Driver(plan)
    drv.send(Setup("out2", "5550100", DAVE))  # the SIP adapter picked out2 for a call in
    assert drv.pbx.new_leg_id() == "out3"  # out1 is a line, out2 is busy
    assert drv.pbx.new_leg_id("sip") == "sip1"
    drv.send(Seize("fxs2"))
    assert drv.dial("fxs2", "95#")[-1] == Setup("out4", "5", Party("5550102", "Bob"), trunk="itsp")
    assert drv.pbx.new_leg_id() == "out5"


def test_next_deadline_follows_the_running_timer(drv: Driver) -> None:
    t0 = drv.now
    assert drv.pbx.next_deadline is None
    drv.send(Seize("fxs1"))
    assert drv.pbx.next_deadline == t0 + 15  # first digit
    drv.clock.advance(2)
    drv.dial("fxs1", "10")
    assert drv.pbx.next_deadline == t0 + 6  # interdigit
    drv.send(Digit("fxs1", "2"))
    assert drv.pbx.next_deadline == t0 + 62  # no answer
    drv.send(Answer("fxs2"))
    assert drv.pbx.next_deadline is None
    drv.clock.advance(10)
    drv.send(Release("fxs2"))
    assert drv.pbx.next_deadline == t0 + 42  # busy tone, then howler


def test_a_timer_due_fires_before_the_next_event(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "10")
    drv.clock.advance(5)  # the loop missed the interdigit deadline
    assert drv.send(Digit("fxs1", "2")) == [Tone("fxs1", "congestion")]
    assert drv.pbx.leg_state("fxs2") == "idle"


def test_a_late_poll_fires_every_due_timer_in_deadline_order(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    drv.clock.advance(5)
    drv.send(Seize("fxs2"))
    assert drv.advance(1000) == [
        Tone("fxs1", "congestion"),
        Tone("fxs2", "congestion"),
        Tone("fxs1", "howler"),
        Tone("fxs2", "howler"),
        Tone("fxs1", None),
        Tone("fxs2", None),
    ]
    assert drv.pbx.next_deadline is None


def test_calls_run_side_by_side(drv: Driver) -> None:
    drv.pbx.set_features({"101": LineFeatures(call_waiting=False)})  # busy, not waiting
    run(drv, alice_talks_to_bob())
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "95#")
    assert drv.send(Setup("sip5", "5550100", DAVE)) == [Release("sip5", Cause.USER_BUSY)]
    assert drv.send(Answer("out1")) != []
    assert [(i.caller, i.callee, i.state) for i in drv.pbx.calls()] == [
        ("fxs1", "fxs2", "connected"),
        ("fxs3", "out1", "connected"),
    ]
    assert drv.send(Digit("fxs3", "4")) == [Digit("out1", "4")]
    assert drv.send(Digit("fxs1", "4")) == []


def test_the_exchange_is_driven_by_the_times_given() -> None:
    pbx = Exchange(office_plan())
    assert pbx.handle(Seize("fxs1"), 0.0) == [Tone("fxs1", "dial")]
    assert pbx.poll(14.99) == []
    assert pbx.poll(15.0) == [Tone("fxs1", "congestion")]
    assert pbx.plan.extension("101") == ALICE
