"""Digit maps, as analog telephone adapters use them (Cisco SPA, Grandstream, MGCP RFC 3435).

A digit map tells the exchange when a caller has dialled enough to place the call, so an
analog handset (which has no "send" key) does not wait for a timeout on every number.

Syntax (case-insensitive for ``x`` and ``T``; whitespace between elements is ignored)::

    map          ::= "(" alternatives ")" | alternatives
    alternatives ::= alternative ("|" alternative)*
    alternative  ::= element+ ["T"]
    element      ::= symbol ["."]
    symbol       ::= 0-9 | * | # | A-D | "x" | "[" set "]"
    set          ::= (digit ["-" digit] | * | # | A-D)+

- ``x`` is any digit 0-9; ``[1-5]``, ``[135]``, ``[1-3#*]`` are ranges and sets.
- ``.`` repeats the element before it zero or more times (RFC 3435): ``9x.`` matches ``9``.
- ``T`` at the end of an alternative: it is complete only when the interdigit timer expires.

Matching the digits dialled so far gives one outcome:

==================  ==========================================================
COMPLETE            a match, and no longer match is possible: dial at once
PARTIAL_COMPLETE    a match, but a longer one is possible (or the match has T):
                    dial when the interdigit timer expires
PARTIAL             a prefix of some alternative: keep collecting
NO_MATCH            no alternative can match: the number is wrong
==================  ==========================================================

``#`` typed by the caller ends dialling at once when the map does not use it: the digits
before it are the number (COMPLETE if they match an alternative, NO_MATCH otherwise). When
an alternative contains ``#`` literally and the digits still match it, ``#`` is an ordinary
digit of the number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NoReturn

from firmware.core.errors import ConfigError

DIGITS = "0123456789"
# Every symbol a handset can send: DTMF 0-9 * # and the fourth-column keys A-D.
SYMBOLS = DIGITS + "*#ABCD"
TERMINATOR = "#"


class Outcome(enum.Enum):
    COMPLETE = "complete"
    PARTIAL_COMPLETE = "partial-complete"
    PARTIAL = "partial"
    NO_MATCH = "no-match"


@dataclass(frozen=True)
class Match:
    """The outcome for the digits dialled so far, and the number to dial (``#`` removed
    when it terminated dialling)."""

    outcome: Outcome
    number: str

    @property
    def matched(self) -> bool:
        """True when ``number`` could be dialled now (COMPLETE or PARTIAL_COMPLETE)."""
        return self.outcome in (Outcome.COMPLETE, Outcome.PARTIAL_COMPLETE)


@dataclass(frozen=True)
class _Element:
    symbols: frozenset[str]
    repeat: bool


@dataclass(frozen=True)
class _Alternative:
    elements: tuple[_Element, ...]
    timer: bool
    text: str

    def positions(self, digits: str) -> frozenset[int]:
        """The element indexes the matcher may stand at after ``digits`` (an NFA run:
        a repeated element can be skipped or consumed again)."""
        current = self._closure({0})
        for digit in digits:
            following: set[int] = set()
            for i in current:
                if i < len(self.elements) and digit in self.elements[i].symbols:
                    following.add(i if self.elements[i].repeat else i + 1)
            current = self._closure(following)
            if not current:
                break
        return current

    def _closure(self, positions: set[int]) -> frozenset[int]:
        result = set(positions)
        stack = list(positions)
        while stack:
            i = stack.pop()
            if i < len(self.elements) and self.elements[i].repeat and i + 1 not in result:
                result.add(i + 1)
                stack.append(i + 1)
        return frozenset(result)


@dataclass(frozen=True)
class DigitMap:
    """A parsed digit map. Build it with :meth:`parse` (or :meth:`union` of several)."""

    text: str
    _alternatives: tuple[_Alternative, ...]

    @classmethod
    def parse(cls, text: str) -> DigitMap:
        """Parse ``text``; a ConfigError names the column and what was expected there."""
        return cls(text, _Parser(text).parse())

    @classmethod
    def union(cls, maps: Iterable[DigitMap]) -> DigitMap:
        """One map holding every alternative of ``maps``, in order (may be empty)."""
        alternatives = tuple(alt for m in maps for alt in m._alternatives)
        return cls("(" + "|".join(alt.text for alt in alternatives) + ")", alternatives)

    def __str__(self) -> str:
        return self.text

    def fullmatch(self, number: str) -> bool:
        """True when ``number`` matches an alternative exactly (timer or not)."""
        return any(len(alt.elements) in alt.positions(number) for alt in self._alternatives)

    def match(self, digits: str) -> Match:
        outcome = self._outcome(digits)
        if outcome is not Outcome.NO_MATCH or not digits.endswith(TERMINATOR):
            return Match(outcome, digits)
        number = digits[: -len(TERMINATOR)]
        if number and self.fullmatch(number):
            return Match(Outcome.COMPLETE, number)
        return Match(Outcome.NO_MATCH, number)

    def _outcome(self, digits: str) -> Outcome:
        full_untimed = full_timed = can_extend = False
        for alt in self._alternatives:
            positions = alt.positions(digits)
            end = len(alt.elements)
            if end in positions:
                if alt.timer:
                    full_timed = True
                else:
                    full_untimed = True
            # Standing before an element (or on a repeated one) means more digits can match.
            if any(i < end for i in positions):
                can_extend = True
        if full_untimed and not can_extend:
            return Outcome.COMPLETE
        if full_untimed or full_timed:
            return Outcome.PARTIAL_COMPLETE
        if can_extend:
            return Outcome.PARTIAL
        return Outcome.NO_MATCH


class _Parser:
    """Recursive descent over the grammar in the module docstring; columns are 1-based."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> tuple[_Alternative, ...]:
        self._skip_space()
        opening = self.pos
        parenthesised = self._peek() == "("
        if parenthesised:
            self.pos += 1
        alternatives = [self._alternative()]
        while self._peek() == "|":
            self.pos += 1
            alternatives.append(self._alternative())
        if parenthesised:
            if self._peek() != ")":
                self._fail(f"'|' or ')' closing the '(' of column {opening + 1}")
            self.pos += 1
            self._skip_space()
        if self.pos < len(self.text):
            expected = "end of the map" if parenthesised else "'|' or end of the map"
            self._fail(expected)
        return tuple(alternatives)

    def _alternative(self) -> _Alternative:
        self._skip_space()
        start = self.pos
        elements: list[_Element] = []
        timer = False
        while (c := self._peek()) not in ("", "|", ")"):
            if c in "Tt":
                if not elements:
                    self._fail("a digit, 'x' or '[' before 'T'")
                self.pos += 1
                timer = True
                self._skip_space()
                if self._peek() not in ("", "|", ")"):
                    self._fail("'|' or end of the alternative after 'T' (T must end it)")
                break
            if c == ".":
                self._fail("a digit, 'x' or '[' before '.' (it repeats the element before it)")
            symbols = self._symbol()
            self._skip_space()
            repeat = self._peek() == "."
            if repeat:
                self.pos += 1
                self._skip_space()
                if self._peek() == ".":
                    self._fail("one '.' only (it already repeats zero or more times)")
            elements.append(_Element(symbols, repeat))
        if not elements:
            self._fail("a digit, 'x' or '[' (an alternative cannot be empty)")
        return _Alternative(tuple(elements), timer, self.text[start : self.pos].strip())

    def _symbol(self) -> frozenset[str]:
        c = self._peek()
        if c in "xX":
            self.pos += 1
            return frozenset(DIGITS)
        if c == "[":
            return self._set()
        if c.upper() in SYMBOLS:
            self.pos += 1
            return frozenset(c.upper())
        self._fail("a digit 0-9, '*', '#', A-D, 'x', '[' or 'T'")

    def _set(self) -> frozenset[str]:
        opening = self.pos
        self.pos += 1
        symbols: set[str] = set()
        while (c := self._peek()) != "]":
            if c == "":
                self._fail(f"']' closing the '[' of column {opening + 1}")
            if c.upper() not in SYMBOLS:
                self._fail("a digit 0-9, '*', '#', A-D, a range such as 1-5, or ']'")
            is_range = self.text.startswith("-", self.pos + 1)
            if is_range and c not in DIGITS:
                self._fail("a digit starting the range (ranges are of digits 0-9)")
            self.pos += 1
            if is_range:
                self.pos += 1
                last = self._peek()
                if last == "" or last not in DIGITS:
                    self._fail("a digit 0-9 ending the range")
                if last < c:
                    self._fail(f"a digit not below {c} (range {c}-{last} is reversed)")
                self.pos += 1
                symbols.update(DIGITS[DIGITS.index(c) : DIGITS.index(last) + 1])
            else:
                symbols.add(c.upper())
        if not symbols:
            self._fail("a digit, '*', '#', A-D or a range inside '[]' (the set is empty)")
        self.pos += 1
        return frozenset(symbols)

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip_space(self) -> None:
        while self._peek().isspace():
            self.pos += 1

    def _fail(self, expected: str) -> NoReturn:
        found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end"
        raise ConfigError(
            f"digit map {self.text!r}, column {self.pos + 1}: expected {expected}, found {found}"
        )
