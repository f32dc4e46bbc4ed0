"""Digit maps: parse errors with their column, and the match outcome table."""

from __future__ import annotations

import pytest

from firmware.core.errors import ConfigError
from firmware.pbx.digitmap import DigitMap, Match, Outcome

C, PC, P, NO = Outcome.COMPLETE, Outcome.PARTIAL_COMPLETE, Outcome.PARTIAL, Outcome.NO_MATCH

MATCHES = [
    # map, digits, outcome, number to dial (None: the digits themselves)
    ("xxx", "12", P, None),
    ("xxx", "123", C, None),
    ("xxx", "1234", NO, None),
    ("XXX", "123", C, None),
    ("xxx", "12*", NO, None),
    ("[1-5]xx", "5", P, None),
    ("[1-5]xx", "6", NO, None),
    ("[135]x", "3", P, None),
    ("[135]x", "2", NO, None),
    ("[1-3#*]", "*", C, None),
    ("[1-3#*]", "2", C, None),
    ("[1-3#*]", "4", NO, None),
    ("[1-3#*]", "#", C, "#"),  # '#' is in the map: a digit, not the terminator
    # '.' repeats zero or more times, so a longer number is always possible.
    ("9x.", "9", PC, None),
    ("9x.", "91234", PC, None),
    ("9x.", "8", NO, None),
    ("9xx.", "9", P, None),
    ("1x.2", "12", PC, None),
    ("1x.2", "1552", PC, None),
    ("1x.2", "15", P, None),
    # T: complete only at the interdigit timeout.
    ("xxxT", "12", P, None),
    ("xxxT", "123", PC, None),
    ("xxxt", "123", PC, None),
    ("xxxT", "1234", NO, None),
    # Alternatives: the longest possible match decides.
    ("101|102", "101", C, None),
    ("101|102", "10", P, None),
    ("(101|1xxx)", "101", PC, None),
    ("(101|1xxx)", "1012", C, None),
    ("xxx|123T", "123", C, None),  # T cannot delay what nothing could extend
    ("( 1xx | 2xx )", "234", C, None),
    ("*xx|#xx", "*72", C, None),
    ("B1|d2", "D2", C, None),
    ("[ABCD]", "C", C, None),
    # '#' from the caller ends dialling when the map does not use it.
    ("9x.", "9123#", C, "9123"),
    ("xxxT", "123#", C, "123"),
    ("xxxT", "12#", NO, "12"),
    ("xxx|xxxxx", "1234#", NO, "1234"),
    ("x.", "#", NO, ""),
    ("*7[2-3]#", "*72", P, None),
    ("*7[2-3]#", "*72#", C, "*72#"),
    ("*7[2-3]#|*xx", "*72#", C, "*72#"),
    ("*7[2-3]#|*xx", "*74#", C, "*74"),
]


@pytest.mark.parametrize(("text", "digits", "outcome", "number"), MATCHES)
def test_match(text: str, digits: str, outcome: Outcome, number: str | None) -> None:
    expected = Match(outcome, digits if number is None else number)
    assert DigitMap.parse(text).match(digits) == expected


ERRORS = [
    # map, column, words the message must contain
    ("", 1, "cannot be empty"),
    ("()", 2, "cannot be empty"),
    ("1||2", 3, "cannot be empty"),
    ("12|", 4, "cannot be empty"),
    ("(12", 4, "')' closing the '(' of column 1"),
    ("  (1|2", 7, "')' closing the '(' of column 3"),
    ("12)", 3, "end of the map"),
    ("(1)2", 4, "end of the map"),
    ("(1|(2))", 4, "a digit 0-9"),
    ("[5-1]", 4, "range 5-1 is reversed"),
    ("[12", 4, "']' closing the '[' of column 1"),
    ("[]", 2, "the set is empty"),
    ("[a-5]", 2, "a digit starting the range"),
    ("[1-]", 4, "a digit 0-9 ending the range"),
    ("[1 2]", 3, "or ']'"),
    (".1", 1, "before '.'"),
    ("1..", 3, "one '.' only"),
    ("x|.", 3, "before '.'"),
    ("T", 1, "before 'T'"),
    ("1T2", 3, "T must end it"),
    ("1e", 2, "a digit 0-9, '*', '#', A-D, 'x', '[' or 'T'"),
    ("1+2", 2, "a digit 0-9"),
]


@pytest.mark.parametrize(("text", "column", "words"), ERRORS)
def test_parse_error_names_column_and_expectation(text: str, column: int, words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        DigitMap.parse(text)
    message = str(raised.value)
    assert f"column {column}:" in message
    assert words in message
    assert repr(text) in message


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="column 2"):
        DigitMap.parse("1?")


def test_fullmatch_ignores_the_timer() -> None:
    dm = DigitMap.parse("9xx.|xxxT")
    assert dm.fullmatch("95") and dm.fullmatch("123")
    assert not dm.fullmatch("9") and not dm.fullmatch("12")


def test_union_keeps_every_alternative_in_order() -> None:
    dm = DigitMap.union([DigitMap.parse("101"), DigitMap.parse("(9xx.|00xx.T)")])
    assert str(dm) == "(101|9xx.|00xx.T)"
    assert DigitMap.parse(str(dm)) == dm
    assert dm.match("101").outcome is C
    assert dm.match("00").outcome is P
    assert dm.match("001").outcome is PC


def test_empty_union_matches_nothing() -> None:
    assert DigitMap.union([]).match("1") == Match(NO, "1")
