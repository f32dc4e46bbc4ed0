"""Call records: every scenario leaves the records it should, with the right disposition."""

from __future__ import annotations

import pytest

from firmware.core.causes import Cause
from firmware.core.events import Answer, Digit, Release, Seize
from firmware.pbx.cdr import CallRecord, CallRecords, Disposition, disposition_for
from firmware.pbx.exchange import Exchange

from .office import Driver, office_plan
from .scenarios import SCENARIOS, alice_rings_bob, run

ANSWERED, NO_ANSWER, BUSY = Disposition.ANSWERED, Disposition.NO_ANSWER, Disposition.BUSY
FAILED, CONGESTION = Disposition.FAILED, Disposition.CONGESTION
ABANDONED = Disposition.ABANDONED
NORMAL = Cause.NORMAL_CLEARING

# scenario: (disposition, cause, reason, caller leg, called number, callee leg, trunk) each
EXPECTED: dict[str, list[tuple[Disposition, Cause, str, str, str, str | None, str | None]]] = {
    "internal call, caller hangs up first": [
        (ANSWERED, NORMAL, "caller hung up", "fxs1", "102", "fxs2", None)
    ],
    "internal call, callee hangs up first": [
        (ANSWERED, NORMAL, "callee hung up", "fxs1", "102", "fxs2", None)
    ],
    "seize of the rung line answers it": [
        (ANSWERED, NORMAL, "callee hung up", "fxs1", "102", "fxs2", None)
    ],
    # Bob's own off-hook without digits is no call attempt: one record only.
    "callee busy": [
        (BUSY, Cause.USER_BUSY, "extension 102 is dialling", "fxs1", "102", None, None)
    ],
    "calling one's own extension is busy": [
        (BUSY, Cause.USER_BUSY, "called own extension", "fxs1", "101", None, None)
    ],
    "number not in the digit map gives congestion at once": [
        (
            CONGESTION,
            Cause.UNALLOCATED_NUMBER,
            "'107' is not in the digit map",
            "fxs1",
            "107",
            None,
            None,
        )
    ],
    "interdigit timeout dials a partial-complete number": [
        (ABANDONED, NORMAL, "caller hung up before answer", "fxs1", "95551", "out1", "itsp")
    ],
    "interdigit timeout on a partial number gives congestion": [
        (CONGESTION, Cause.INVALID_NUMBER_FORMAT, "incomplete number '9'", "fxs1", "9", None, None)
    ],
    "hash dials at once and is not sent": [
        (ABANDONED, NORMAL, "caller hung up before answer", "fxs1", "95", "out1", "itsp")
    ],
    "first-digit timeout: congestion, howler, silence": [],
    "outbound call: strip, prepend, caller id, digits out after answer": [
        (ANSWERED, NORMAL, "callee hung up", "fxs2", "004930123", "out1", "itsp")
    ],
    "outbound early media: bridged before answer, bridged once": [
        (ANSWERED, NORMAL, "caller hung up", "fxs1", "95551234", "out1", "itsp")
    ],
    "outbound: far end busy": [
        (BUSY, Cause.USER_BUSY, "callee released: USER_BUSY", "fxs1", "95551234", "out1", "itsp")
    ],
    "outbound: failure after early media gives congestion": [
        (
            FAILED,
            Cause.TEMPORARY_FAILURE,
            "callee released: TEMPORARY_FAILURE",
            "fxs1",
            "95551234",
            "out1",
            "itsp",
        )
    ],
    "caller hangs up while the callee rings": [
        (ABANDONED, NORMAL, "caller hung up before answer", "fxs1", "102", "fxs2", None)
    ],
    "no answer: the callee is released, the caller hears congestion": [
        (NO_ANSWER, Cause.NO_ANSWER, "no answer in 60 s", "fxs1", "102", "fxs2", None)
    ],
    "flash mid-call holds the partner, flash again takes it back": [
        (ANSWERED, NORMAL, "callee hung up", "fxs1", "102", "fxs2", None)
    ],
    "flash while dialling starts over": [
        (ABANDONED, NORMAL, "caller hung up before answer", "fxs1", "102", "fxs2", None)
    ],
    "flash while dialling re-arms the first-digit timer": [],
    "flash on busy tone gives fresh dial tone": [
        (ANSWERED, NORMAL, "callee hung up", "fxs1", "102", "fxs2", None)
    ],
    "flash on busy tone, then a new call": [
        (ANSWERED, NORMAL, "callee hung up", "fxs1", "102", "fxs2", None),
        (ABANDONED, NORMAL, "caller hung up before answer", "fxs1", "103", "fxs3", None),
    ],
    "SIP call in to an idle extension, callee hangs up": [
        (ANSWERED, NORMAL, "callee hung up", "sip7", "5550100", "fxs1", None)
    ],
    "SIP call in, SIP caller hangs up": [
        (ANSWERED, NORMAL, "caller hung up", "sip7", "5559999", "fxs2", None)
    ],
    "SIP call in to a busy extension": [
        (BUSY, Cause.USER_BUSY, "extension 101 is dialling", "sip7", "5550100", None, None)
    ],
    "SIP call in, caller gives up while it rings": [
        (ABANDONED, NORMAL, "caller hung up before answer", "sip7", "5550100", "fxs1", None)
    ],
    "SIP call in, no answer": [
        (NO_ANSWER, Cause.NO_ANSWER, "no answer in 60 s", "sip7", "5550100", "fxs1", None)
    ],
    "FXO line rings its extension, digits stay in the audio": [
        (ANSWERED, NORMAL, "caller hung up", "fxo1", "103", "fxs3", None)
    ],
    "FXO line: the PSTN caller gives up while the extension rings": [
        (ABANDONED, NORMAL, "caller hung up before answer", "fxo1", "103", "fxs3", None)
    ],
}


def test_every_scenario_has_expected_records() -> None:
    assert EXPECTED.keys() == SCENARIOS.keys()


@pytest.mark.parametrize("name", SCENARIOS.keys())
def test_scenario_records(drv: Driver, name: str) -> None:
    run(drv, SCENARIOS[name])
    got = [
        (r.disposition, r.cause, r.reason, r.caller_leg, r.called_number, r.callee_leg, r.trunk)
        for r in drv.pbx.records
    ]
    assert got == EXPECTED[name]
    assert drv.pbx.take_records() == drv.pbx.records
    assert drv.pbx.take_records() == []


def test_record_times_are_the_times_given(drv: Driver) -> None:
    start = drv.now
    run(drv, alice_rings_bob())
    drv.clock.advance(7)
    drv.send(Answer("fxs2"))
    drv.clock.advance(65)
    drv.send(Release("fxs2"))
    (record,) = drv.pbx.records
    assert record == CallRecord(
        call_id=1,
        caller_leg="fxs1",
        caller_number="101",
        called_number="102",
        callee_leg="fxs2",
        start=start,
        answer=start + 7,
        end=start + 72,
        disposition=ANSWERED,
        cause=NORMAL,
        reason="callee hung up",
        caller_name="Alice",
        caller_extension="101",
        called_name="Bob",
        callee_extension="102",
        direction="internal",
        hangup_side="callee",
        legs=(("fxs1", "caller", None, None, "101"), ("fxs2", "callee", None, "answered", "102")),
    )
    assert (record.duration, record.billsec) == (72, 65)


def test_a_timer_records_its_own_deadline(drv: Driver) -> None:
    start = drv.now
    run(drv, alice_rings_bob())
    drv.advance(500)  # the loop polls late
    (record,) = drv.pbx.records
    assert record.end == start + 60
    assert record.billsec == 0


def test_hanging_up_half_way_through_dialling_is_a_failed_call(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "10")
    drv.send(Release("fxs1"))
    (record,) = drv.pbx.take_records()
    assert (record.disposition, record.called_number, record.callee_leg) == (FAILED, "10", None)
    assert record.reason == "caller hung up after dialling '10'"


def test_records_are_bounded_and_taken_once() -> None:
    pbx = Exchange(office_plan(), record_limit=2)
    for now in (1.0, 2.0, 3.0):
        pbx.handle(Seize("fxs1"), now)
        for digit in "101":  # one's own number: busy, one record each
            pbx.handle(Digit("fxs1", digit), now)
        pbx.handle(Release("fxs1"), now)
    assert [r.start for r in pbx.records] == [2.0, 3.0]
    assert [r.start for r in pbx.take_records()] == [2.0, 3.0]
    assert pbx.take_records() == []
    assert [r.start for r in pbx.records] == [2.0, 3.0]  # taking does not forget


def test_a_record_store_keeps_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least one"):
        CallRecords(limit=0)


@pytest.mark.parametrize(
    ("cause", "disposition"),
    [
        (Cause.USER_BUSY, BUSY),
        (Cause.NO_ANSWER, NO_ANSWER),
        (Cause.NO_USER_RESPONDING, NO_ANSWER),
        (Cause.UNALLOCATED_NUMBER, CONGESTION),
        (Cause.SWITCHING_EQUIPMENT_CONGESTION, CONGESTION),
        (Cause.NO_CIRCUIT_AVAILABLE, CONGESTION),
        (Cause.CALL_REJECTED, FAILED),
        (Cause.NORMAL_CLEARING, FAILED),
    ],
)
def test_disposition_of_a_far_end_failure(cause: Cause, disposition: Disposition) -> None:
    assert disposition_for(cause) is disposition


# scenario: (direction, caller extension, callee extension, who hung up) of its one record
PARTIES: dict[str, tuple[str, str | None, str | None, str]] = {
    "internal call, caller hangs up first": ("internal", "101", "102", "caller"),
    "internal call, callee hangs up first": ("internal", "101", "102", "callee"),
    "callee busy": ("internal", "101", "102", "box"),
    "calling one's own extension is busy": ("internal", "101", "101", "box"),
    "number not in the digit map gives congestion at once": ("internal", "101", None, "box"),
    "outbound: far end busy": ("outbound", "101", None, "callee"),
    "caller hangs up while the callee rings": ("internal", "101", "102", "caller"),
    "no answer: the callee is released, the caller hears congestion": (
        "internal", "101", "102", "box"),
    "SIP call in to an idle extension, callee hangs up": ("inbound", None, "101", "callee"),
    "SIP call in to a busy extension": ("inbound", None, "101", "box"),
    "SIP call in, caller gives up while it rings": ("inbound", None, "101", "caller"),
    "FXO line rings its extension, digits stay in the audio": ("inbound", None, "103",
                                                                "caller"),
}


@pytest.mark.parametrize("name", PARTIES.keys())
def test_records_say_which_way_who_and_who_hung_up(drv: Driver, name: str) -> None:
    run(drv, SCENARIOS[name])
    (r,) = drv.pbx.records
    assert (r.direction, r.caller_extension, r.callee_extension, r.hangup_side) == PARTIES[name]
    assert r.legs[0] == (r.caller_leg, "caller", None, None, r.caller_extension)
    if r.callee_leg is not None:
        assert r.legs[-1][:2] == (r.callee_leg, "callee")


def test_an_outbound_record_names_its_route_and_its_trunk(drv: Driver) -> None:
    run(drv, SCENARIOS["outbound: far end busy"])
    (r,) = drv.pbx.records
    assert (r.trunk, r.route, r.caller_name) == ("itsp", "9", "Alice")  # the route "9"
    assert r.legs[-1] == ("out1", "callee", "itsp", None, None)
