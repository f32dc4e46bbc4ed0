"""The dial plan: validation errors name the item; resolution order; the default map."""

from __future__ import annotations

import pytest

from firmware.core.errors import ConfigError
from firmware.pbx.digitmap import DigitMap, Outcome
from firmware.pbx.plan import (
    DialPlan,
    Extension,
    InboundRoute,
    LineRoute,
    OutboundRoute,
    Timers,
    ToExtension,
    ToTrunk,
    Trunk,
)

from .office import ALICE, BOB, CAROL, office_plan

INVALID = [
    # what is wrong, how it is built, words the error must contain
    (
        "duplicate number",
        lambda: office_plan(extensions=(ALICE, Extension("101", "fxs4", "Dan"))),
        "extension 101 on fxs4: number 101 is already the extension on fxs1",
    ),
    (
        "two extensions on one line",
        lambda: office_plan(extensions=(ALICE, Extension("104", "fxs1", "Dan"))),
        "extension 104: line fxs1 already carries extension 101",
    ),
    (
        "route to an unknown trunk",
        lambda: office_plan(outbound=(OutboundRoute("0", "pstn"),)),
        "outbound route '0': trunk 'pstn' does not exist (trunks: itsp, fxo1)",
    ),
    (
        "trunk defined twice",
        lambda: office_plan(trunks=(Trunk("itsp"), Trunk("itsp"))),
        "trunk 'itsp' is defined twice",
    ),
    (
        "inbound route to an unknown extension",
        lambda: office_plan(inbound=(InboundRoute("5550100", "199"),)),
        "inbound route '5550100': extension '199' does not exist",
    ),
    (
        "DID routed twice",
        lambda: office_plan(inbound=(InboundRoute("*", "101"), InboundRoute("*", "102"))),
        "inbound route '*': DID '*' is routed twice",
    ),
    (
        "line route to an unknown extension",
        lambda: office_plan(lines=(LineRoute("fxo1", "104"),)),
        "line route 'fxo1': extension '104' does not exist",
    ),
    (
        "line route on an FXS line",
        lambda: office_plan(lines=(LineRoute("fxs2", "101"),)),
        "line route fxs2: fxs2 is the FXS line of extension 102",
    ),
    (
        "line routed twice",
        lambda: office_plan(lines=(LineRoute("fxo1", "101"), LineRoute("fxo1", "102"))),
        "line route 'fxo1': line 'fxo1' is routed twice",
    ),
    ("letters in a number", lambda: Extension("1o1", "fxs1", "Alice"), "'1o1' has 'o'"),
    ("empty number", lambda: Extension("", "fxs1", "Alice"), "the number is empty"),
    ("no line", lambda: Extension("101", "", "Alice"), "extension 101: the line"),
    ("negative strip", lambda: OutboundRoute("9", "itsp", strip=-1), "strip is -1"),
    ("bad prefix", lambda: OutboundRoute("9x", "itsp"), "prefix: '9x' has 'x'"),
    ("bad prepend", lambda: OutboundRoute("9", "itsp", prepend="0-"), "prepend: '0-' has '-'"),
    ("zero timer", lambda: Timers(interdigit_s=0), "timers.interdigit_s: 0"),
    ("negative timer", lambda: Timers(howler_s=-1), "timers.howler_s: -1"),
]


@pytest.mark.parametrize(
    ("build", "words"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_plan_names_the_item(build: object, words: str) -> None:
    assert callable(build)
    with pytest.raises(ConfigError) as raised:
        build()
    assert words in str(raised.value)


def test_office_plan_is_valid_and_indexes_its_legs() -> None:
    plan = office_plan()
    assert plan.extension("102") == BOB
    assert plan.extension_on("fxs3") == CAROL
    assert plan.extension("104") is None
    assert [plan.is_fxs(leg) for leg in ("fxs1", "fxo1", "sip1")] == [True, False, False]
    assert [plan.is_fxo(leg) for leg in ("fxs1", "fxo1", "sip1")] == [False, True, False]
    assert [plan.is_line(leg) for leg in ("fxs1", "fxo1", "sip1")] == [True, True, False]


def test_default_digit_map_covers_extensions_and_routes() -> None:
    dm = office_plan().dial_map
    assert str(dm) == ("(101|102|103|9xx.|00xx.T"  # then the star codes (features.py)
                       "|*72xx.|*73|*90xx.|*91|*92xx.|*93|*78|*79|*67xx.|*8|**xx.|*70xx.|*98|*98xx.)")
    assert dm.match("101").outcome is Outcome.COMPLETE
    assert dm.match("*73").outcome is Outcome.COMPLETE
    assert dm.match("*72").outcome is Outcome.PARTIAL
    assert dm.match("9").outcome is Outcome.PARTIAL
    assert dm.match("95").outcome is Outcome.PARTIAL_COMPLETE
    assert dm.match("104").outcome is Outcome.NO_MATCH


def test_given_digit_map_is_kept() -> None:
    dm = DigitMap.parse("1xx")
    assert office_plan(digit_map=dm).dial_map is dm


def test_empty_plan_matches_nothing() -> None:
    assert DialPlan().dial_map.match("1").outcome is Outcome.NO_MATCH


def test_lists_are_stored_as_tuples() -> None:
    plan = office_plan(extensions=[ALICE, BOB, CAROL])
    assert plan.extensions == (ALICE, BOB, CAROL)
    assert hash(plan) == hash(office_plan())


RESOLVE = [
    ("102", ToExtension(BOB)),
    ("95551234", "5551234"),
    ("004930123", "+4930123"),
    ("104", None),
    ("9", None),  # the prefix alone is not a number
]


@pytest.mark.parametrize(("number", "expected"), RESOLVE)
def test_resolve(number: str, expected: object) -> None:
    result = office_plan().resolve(number)
    if isinstance(expected, str):
        assert isinstance(result, ToTrunk)
        assert (result.route.trunk, result.number) == ("itsp", expected)
    else:
        assert result == expected


def test_extension_wins_over_route_and_first_route_wins() -> None:
    plan = office_plan(
        trunks=(Trunk("a"), Trunk("b")),
        outbound=(OutboundRoute("1", "a"), OutboundRoute("", "b", prepend="7")),
    )
    assert plan.resolve("101") == ToExtension(ALICE)
    first = plan.resolve("1234")
    assert isinstance(first, ToTrunk) and first.route.trunk == "a"
    catch_all = plan.resolve("555")
    assert isinstance(catch_all, ToTrunk) and (catch_all.route.trunk, catch_all.number) == (
        "b",
        "7555",
    )


def test_inbound_target() -> None:
    plan = office_plan()
    assert plan.inbound_target("sip3", "5550100") == ALICE  # exact DID first
    assert plan.inbound_target("sip3", "5550199") == BOB  # then '*'
    assert plan.inbound_target("fxo1", "") == CAROL  # an FXO line follows its route
    assert office_plan(inbound=()).inbound_target("sip3", "5550100") is None
