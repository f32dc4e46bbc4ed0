"""Who may use a trunk (firmware/pbx/tollguard.py): number classes per country, permission
classes per port, calls from outside never leaving, limits per trunk and port, and the
spending guard's rolling hour, through the exchange driven by a fake clock."""

from __future__ import annotations

import logging

import pytest

from firmware.app.wiring import numbering
from firmware.core.causes import Cause
from firmware.core.events import Answer, Bridge, Digit, Party, Release, Seize, Setup, Tone
from firmware.dsp.profiles import available_profiles, load_profile
from firmware.pbx.cdr import Disposition
from firmware.pbx.plan import Extension, InboundRoute, OutboundRoute, Trunk
from firmware.pbx.tollguard import (
    Origin,
    OutboundCall,
    Permission,
    TollGuard,
)
from tests.pbx.office import ALICE, BOB, CAROL, Driver, office_plan

P = Permission


# Numbers as the trunk gets them, with the class each country's plan gives them.
CLASSES = [
    ("us", "011442079460000", P.INTERNATIONAL), ("us", "19005551234", P.PREMIUM),
    ("us", "9005551234", P.PREMIUM), ("us", "12125551234", P.NATIONAL),
    ("us", "5551234", P.LOCAL), ("us", "+442079460000", P.INTERNATIONAL),
    ("us", "+12125551234", P.NATIONAL), ("us", "+19005551234", P.PREMIUM),
    ("uk", "0033142000000", P.INTERNATIONAL), ("uk", "09012345678", P.PREMIUM),
    ("uk", "118500", P.PREMIUM), ("uk", "02079460000", P.NATIONAL),
    ("uk", "9460000", P.LOCAL), ("uk", "+442079460000", P.NATIONAL),
    ("de", "00442079460000", P.INTERNATIONAL), ("de", "09001234567", P.PREMIUM),
    ("de", "01371234567", P.PREMIUM), ("de", "030123456", P.NATIONAL),
    ("de", "123456", P.LOCAL), ("de", "+4990012345", P.PREMIUM),
    ("fr", "0049301234567", P.INTERNATIONAL), ("fr", "0892123456", P.PREMIUM),
    ("fr", "0142000000", P.NATIONAL),
    ("ru", "81049301234567", P.INTERNATIONAL), ("ru", "88091234567", P.PREMIUM),
    ("ru", "84951234567", P.NATIONAL), ("ru", "1234567", P.LOCAL),
    ("in", "0014155550000", P.INTERNATIONAL), ("in", "1900123456", P.PREMIUM),
    ("in", "01123456789", P.NATIONAL),
    ("jp", "0101415555000", P.INTERNATIONAL), ("jp", "0990123456", P.PREMIUM),
    ("jp", "0312345678", P.NATIONAL), ("jp", "12345678", P.LOCAL),
    ("au", "00114420794600", P.INTERNATIONAL), ("au", "1900123456", P.PREMIUM),
    ("au", "0298765432", P.NATIONAL), ("au", "98765432", P.LOCAL),
    ("et", "0014155550000", P.INTERNATIONAL), ("et", "0111234567", P.NATIONAL),
]


@pytest.mark.parametrize(("country", "number", "klass"), CLASSES)
def test_number_classes_per_country(country: str, number: str, klass: Permission) -> None:
    assert numbering(country).classify(number) == (klass, False)


@pytest.mark.parametrize(("country", "number"), [
    ("us", "911"), ("uk", "999"), ("uk", "112"), ("de", "110"), ("fr", "15"), ("ru", "112"),
    ("in", "112"), ("jp", "119"), ("au", "000"), ("et", "991")])
def test_emergency_numbers_are_known(country: str, number: str) -> None:
    assert numbering(country).classify(number)[1]


def test_every_shipped_country_has_international_and_national_prefixes() -> None:
    for code in available_profiles():
        spec = load_profile(code).numbers
        assert spec.international and spec.national and spec.emergency, code
        assert spec.country_code and spec.source, code


def test_each_class_allows_itself_and_those_below() -> None:
    us = numbering("us")
    numbers = {P.LOCAL: "5551234", P.NATIONAL: "12125551234",
               P.INTERNATIONAL: "011442079460000", P.PREMIUM: "19005551234"}
    for permission in P:
        origin = Origin("port", "fxs1", permission)
        for klass, number in numbers.items():
            allowed = TollGuard().decide_number(origin, number, us, [], 0, 0.0).allowed
            assert allowed == (klass <= permission), (permission, klass)
    internal = Origin("port", "fxs1", P.INTERNAL)
    assert TollGuard().decide_number(internal, "911", us, [], 0, 0.0).allowed


def test_a_call_from_outside_may_not_leave() -> None:
    us = numbering("us")
    for origin in (Origin("trunk", "itsp", None), Origin("line", "fxo1", None)):
        decision = TollGuard().decide_number(origin, "5551234", us, [], 0, 0.0)
        assert not decision.allowed
        assert decision.cause is Cause.OUTGOING_CALL_BARRED
        assert f"calls from {origin.kind} {origin.name} may not leave" in decision.reason
    # Not even to an emergency number: an outside caller dials the emergency service direct.
    assert not TollGuard().decide_number(Origin("trunk", "itsp", None), "911", us, [], 0,
                                         0.0).allowed


def test_port_limit_counts_its_own_calls_out() -> None:
    us, guard = numbering("us"), TollGuard()
    origin = Origin("port", "fxs1", P.NATIONAL, max_outbound_calls=2)
    one = [OutboundCall("fxs1", "itsp", P.LOCAL, None), OutboundCall("fxs2", "itsp", None, None)]
    assert guard.decide_number(origin, "5551234", us, one, 0, 0.0).allowed
    two = [*one, OutboundCall("fxs1", "backup", P.LOCAL, 3.0)]
    decision = guard.decide_number(origin, "5551234", us, two, 0, 0.0)
    assert not decision.allowed
    assert decision.reason == "denied: port fxs1 has 2 calls out, its max_outbound_calls is 2"


def test_trunk_limit_sends_the_call_to_the_next_trunk() -> None:
    calls = [OutboundCall("fxs1", "itsp", P.LOCAL, None)]
    assert TollGuard.decide_trunk("itsp", 0, calls).allowed  # 0: no limit
    assert TollGuard.decide_trunk("itsp", 2, calls).allowed
    full = TollGuard.decide_trunk("itsp", 1, calls)
    assert (full.allowed, full.next_trunk, full.cause) == (False, True,
                                                             Cause.NO_CIRCUIT_AVAILABLE)


# --- through the exchange -------------------------------------------------------------

US = numbering("us")
ROUTES = (
    OutboundRoute("9", "itsp", strip=1),
    # 8 + number goes out with 011 in front: classed as the trunk gets it (international).
    OutboundRoute("8", "itsp", strip=1, prepend="011"),
)


def driver(**changes: object) -> Driver:
    fields: dict[str, object] = {"outbound": ROUTES, "numbering": US}
    fields.update(changes)
    return Driver(office_plan(**fields))


def test_national_port_dialling_abroad_gets_congestion_and_a_denied_record() -> None:
    drv = driver()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "9011442079460000#")
    assert Tone("fxs1", "congestion") in out
    assert not any(isinstance(o, Setup) for o in out)
    [record] = drv.pbx.records
    assert record.disposition is Disposition.DENIED
    assert record.cause is Cause.OUTGOING_CALL_BARRED
    assert record.reason == ("denied: class international needs permission international, "
                             "port fxs1 has national")
    assert record.called_number == "9011442079460000"


def test_the_class_is_of_the_number_after_strip_and_prepend() -> None:
    drv = driver()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "8442079460000#")  # looks local as dialled, 011... as sent
    assert Tone("fxs1", "congestion") in out and not any(isinstance(o, Setup) for o in out)
    drv.send(Seize("fxs2"))  # Bob may call abroad
    out = drv.dial("fxs2", "8442079460000#")
    assert Setup("out1", "011442079460000", Party("5550102", "Bob"), trunk="itsp") in out


def test_premium_refused_even_with_international_permission() -> None:
    drv = driver()
    drv.send(Seize("fxs2"))
    out = drv.dial("fxs2", "919005551234#")
    assert Tone("fxs2", "congestion") in out and not any(isinstance(o, Setup) for o in out)
    assert drv.pbx.records[-1].reason == ("denied: class premium needs permission premium, "
                                          "port fxs2 has international")


def test_internal_port_may_still_call_extensions_and_emergency() -> None:
    alice = Extension("101", "fxs1", "Alice", permission=P.INTERNAL)
    drv = driver(extensions=(alice, BOB, CAROL))
    drv.send(Seize("fxs1"))
    assert Setup("fxs2", "102", Party("101", "Alice")) in drv.dial("fxs1", "102")
    drv.send(Release("fxs1"))
    drv.send(Release("fxs2"))
    drv.send(Seize("fxs1"))
    assert Tone("fxs1", "congestion") in drv.dial("fxs1", "95551234#")
    drv.send(Release("fxs1"))
    drv.send(Seize("fxs1"))
    assert any(isinstance(o, Setup) and o.called == "911" for o in drv.dial("fxs1", "9911#"))


@pytest.mark.parametrize("did", ["9011442079460000", "011442079460000", "95551234", "*"])
def test_an_inbound_call_only_rings_an_extension(did: str) -> None:
    """DIDs that look like outside numbers (or match a route's pattern) ring the ``*``
    route's extension, or nobody: never a trunk."""
    drv = driver()
    out = drv.send(Setup("in1", did, Party("5557777", None)))
    assert [o for o in out if isinstance(o, Setup)] == [Setup("fxs2", did, Party("5557777",
                                                                                   None))]
    drv2 = driver(inbound=(InboundRoute("5550100", "101"),))
    out = drv2.send(Setup("in1", did, Party("5557777", None)))
    assert out == [Release("in1", Cause.UNALLOCATED_NUMBER)]


def test_digits_from_outside_after_answer_dial_nothing() -> None:
    """RFC 4733 digits from a SIP caller, and digits on a PSTN line, during a call reach no
    digit map and place no call."""
    drv = driver()
    drv.send(Setup("in1", "5550100", Party("5557777", None)))
    drv.send(Seize("fxs1"))  # Alice answers
    out = []
    for digit in "9011442079460000#":
        out += drv.send(Digit("in1", digit, source="rfc4733"))
    out += drv.advance(10)
    assert out == []
    drv.send(Setup("fxo1", "", Party("5558888", None)))  # the PSTN line rings Carol
    drv.send(Seize("fxs3"))
    out = []
    for digit in "95551234#":
        out += drv.send(Digit("fxo1", digit))
    out += drv.advance(10)
    assert not any(isinstance(o, Setup) for o in out)
    assert {c.call_id for c in drv.pbx.calls()} == {1, 2}


def test_calls_from_outside_carry_an_origin_without_permission() -> None:
    from firmware.pbx.actions import leave

    drv = driver()
    drv.send(Setup("in1", "5550100", Party("5557777", None)))
    call = drv.pbx._legs["in1"]  # the seam a forwarding or menu feature will use
    assert call.origin == Origin("trunk", "in1", None)
    assert not leave(drv.pbx._board, call, call.origin, ("itsp",), "5551234", drv.now)
    assert not any(isinstance(o, Setup) and o.trunk for o in drv.pbx._drain())


def test_trunk_max_calls_gives_congestion_when_no_other_trunk() -> None:
    drv = driver(trunks=(Trunk("itsp", max_calls=1),))
    drv.send(Seize("fxs1"))
    assert any(isinstance(o, Setup) for o in drv.dial("fxs1", "95551234#"))
    drv.send(Seize("fxs3"))
    out = drv.dial("fxs3", "95551235#")
    assert Tone("fxs3", "congestion") in out and not any(isinstance(o, Setup) for o in out)
    record = drv.pbx.records[-1]
    assert (record.disposition, record.cause) == (Disposition.CONGESTION,
                                                  Cause.NO_CIRCUIT_AVAILABLE)
    assert record.reason == "trunk itsp is full (1 calls, max_calls 1)"
    drv.send(Release("fxs1"))  # the first call ends: the trunk has room again
    drv.send(Release("fxs3"))
    drv.send(Seize("fxs3"))
    assert any(isinstance(o, Setup) for o in drv.dial("fxs3", "95551235#"))


# --- the spending guard ----------------------------------------------------------------

def abroad(drv: Driver, leg: str = "fxs2") -> list[object]:
    drv.send(Seize(leg))
    return list(drv.dial(leg, "9011442079460000#"))


def test_spending_guard_stops_international_calls_and_lifts_with_the_window(
        caplog: pytest.LogCaptureFixture) -> None:
    drv = driver(max_international_minutes_per_hour=10)
    start = drv.now
    assert any(isinstance(o, Setup) for o in abroad(drv))
    drv.advance(1)
    drv.send(Answer("out1"))
    drv.advance(11 * 60)  # 11 minutes talked
    drv.send(Release("out1"))
    drv.send(Release("fxs2"))
    with caplog.at_level(logging.WARNING, logger="firmware.pbx.tollguard"):
        out = abroad(drv)
    assert Tone("fxs2", "congestion") in out and not any(isinstance(o, Setup) for o in out)
    assert drv.pbx.records[-1].reason == ("denied: spending guard, 11.0 of 10 "
                                          "international/premium minutes used in the last hour")
    assert "spending guard: 11.0" in caplog.text
    status = drv.pbx.outbound_status(drv.now)
    assert status["international_blocked"] is True
    # National calls still go out while the guard holds.
    drv.send(Release("fxs2"))
    drv.send(Seize("fxs1"))
    assert any(isinstance(o, Setup) for o in drv.dial("fxs1", "912125551234#"))
    drv.send(Release("fxs1"))
    drv.send(Release("out2"))
    # The call ended at 661 s; at 1 h + 2 min of the start only 9 of its minutes are
    # inside the window: below the limit, the guard lifts by itself.
    drv.advance(start + 3600 + 120 - drv.now)
    with caplog.at_level(logging.WARNING, logger="firmware.pbx.tollguard"):
        assert any(isinstance(o, Setup) for o in abroad(drv))
    assert "spending guard lifted" in caplog.text


def test_spending_guard_counts_calls_still_running() -> None:
    drv = driver(max_international_minutes_per_hour=5, extensions=(
        ALICE, BOB, Extension("103", "fxs3", "Carol", permission=P.PREMIUM)))
    abroad(drv)
    drv.send(Answer("out1"))
    drv.advance(4 * 60)
    assert any(isinstance(o, Setup) for o in abroad(drv, "fxs3"))  # 4 min: room
    drv.send(Release("out2"))
    drv.send(Release("fxs3"))
    drv.advance(60)  # 5 minutes on the first call, still talking
    out = abroad(drv, "fxs3")
    assert not any(isinstance(o, Setup) for o in out)
    assert drv.pbx.outbound_status(drv.now)["international_minutes_last_hour"] == 5.0
    # The call in progress is not cut.
    assert any(c.state == "connected" for c in drv.pbx.calls())


# --- failover ---------------------------------------------------------------------------

def failover_driver(*trunks: Trunk) -> Driver:
    trunks = trunks or (Trunk("itsp"), Trunk("backup"))
    return driver(trunks=trunks, extensions=(ALICE, BOB, CAROL, Extension("104", "fxs4", "Dan")),
                  outbound=(OutboundRoute("9", ("itsp", "backup", "fxo1"), strip=1),))


def test_failover_order_on_network_causes_ends_on_the_pstn_line() -> None:
    drv = failover_driver()
    drv.send(Seize("fxs1"))
    alice = Party(None, "Alice")
    assert drv.dial("fxs1", "95551234#")[-1] == Setup("out1", "5551234", alice, trunk="itsp")
    out = drv.send(Release("out1", Cause.NO_CIRCUIT_AVAILABLE))  # 503
    assert Setup("out2", "5551234", alice, trunk="backup") in out
    assert not any(isinstance(o, Tone) and o.tone for o in out)
    out = drv.send(Release("out2", Cause.RECOVERY_ON_TIMER_EXPIRY))  # 408
    assert Setup("fxo1", "5551234", alice) in out
    assert drv.send(Answer("fxo1")) == [Tone("fxs1", None), Bridge("fxs1", "fxo1")]
    drv.send(Release("fxs1"))
    record = drv.pbx.records[-1]
    assert (record.disposition, record.trunk) == (Disposition.ANSWERED, "fxo1")
    assert drv.pbx.leg_state("out1") == "unknown" and drv.pbx.leg_state("out2") == "unknown"


@pytest.mark.parametrize("cause", [Cause.USER_BUSY, Cause.NO_USER_RESPONDING,
                                   Cause.CALL_REJECTED, Cause.UNALLOCATED_NUMBER])
def test_callee_causes_end_the_call_without_failover(cause: Cause) -> None:
    drv = failover_driver()
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "95551234#")
    out = drv.send(Release("out1", cause))
    assert not any(isinstance(o, Setup) for o in out)
    assert Tone("fxs1", "busy" if cause is Cause.USER_BUSY else "congestion") in out


def test_full_trunk_and_busy_line_are_skipped() -> None:
    drv = failover_driver(Trunk("itsp", max_calls=1), Trunk("backup", max_calls=1))
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "95551234#")  # itsp
    drv.send(Seize("fxs2"))
    assert drv.dial("fxs2", "95551235#")[-1].trunk == "backup"  # type: ignore[union-attr]
    drv.send(Seize("fxs3"))
    assert drv.dial("fxs3", "95551236#")[-1] == Setup("fxo1", "5551236", Party(None, "Carol"))
    drv.send(Seize("fxs4"))
    out = drv.dial("fxs4", "95551237#")
    assert Tone("fxs4", "congestion") in out
    assert drv.pbx.records[-1].reason == ("trunk itsp is full (1 calls, max_calls 1); "
                                          "trunk backup is full (1 calls, max_calls 1); "
                                          "PSTN line fxo1 is ringing")


def test_all_trunks_failing_gives_congestion_and_says_what_each_did() -> None:
    drv = failover_driver()
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "95551234#")
    drv.send(Release("out1", Cause.NETWORK_OUT_OF_ORDER))
    drv.send(Release("out2", Cause.NO_CIRCUIT_AVAILABLE))
    out = drv.send(Release("fxo1", Cause.NO_CIRCUIT_AVAILABLE))
    assert Tone("fxs1", "congestion") in out
    assert drv.pbx.records[-1].reason == (
        "callee released: NO_CIRCUIT_AVAILABLE (after itsp: NETWORK_OUT_OF_ORDER; "
        "backup: NO_CIRCUIT_AVAILABLE)")
