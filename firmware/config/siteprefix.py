"""Site prefixes: which short numbers belong to which office, and when two claims collide.

A site's ``prefix`` is a fixed-length digit-map pattern (the syntax of the dial plan's
digit maps, without ``.`` and ``T``): ``1xx`` is 100 to 199, ``2[0-4]x`` is 200 to 249,
``1xx|19xx`` two alternatives of different lengths. Fixed length keeps every question
exact and cheap: a number belongs to a site when it has an alternative's length and each
digit is in that position's set; two alternatives overlap when they have the same length
and every position's sets meet.

A general digit map (an outbound route's ``9x.``) is compared by turning it into a regular
expression and asking whether any number of the site's prefix matches it (a prefix names at
most ``MAX_NUMBERS`` numbers, so this is a short loop). Pure: no I/O, no imports of ours
beyond core.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from firmware.core.errors import ConfigError

DIGITS = frozenset("0123456789")
KEYS = "0123456789*#ABCD"
MAX_NUMBERS = 100_000
"""A prefix may name at most this many numbers (five free digits)."""

Position = frozenset[str]


@dataclass(frozen=True)
class SitePrefix:
    """A parsed prefix: alternatives, each a tuple of allowed symbols per position."""

    text: str
    alternatives: tuple[tuple[Position, ...], ...]

    def matches(self, number: str) -> bool:
        return any(len(alt) == len(number) and all(c in pos for c, pos in zip(number, alt,
                                                                              strict=True))
                   for alt in self.alternatives)

    def overlaps(self, other: SitePrefix) -> str | None:
        """A number both prefixes claim (the smallest of the first overlap), or None."""
        for mine in self.alternatives:
            for theirs in other.alternatives:
                if len(mine) != len(theirs):
                    continue
                common = [a & b for a, b in zip(mine, theirs, strict=True)]
                if all(common):
                    return "".join(min(p, key=KEYS.index) for p in common)
        return None

    def numbers(self) -> list[str]:
        """Every number of the prefix, in keypad order (bounded by MAX_NUMBERS)."""
        out: list[str] = []
        for alt in self.alternatives:
            for combo in itertools.product(*(sorted(p, key=KEYS.index) for p in alt)):
                out.append("".join(combo))
        return out

    def regex(self) -> str:
        """A POSIX extended regular expression of the whole number (for Kamailio's =~)."""
        parts = ["".join(_class(p) for p in alt) for alt in self.alternatives]
        body = parts[0] if len(parts) == 1 else "(" + "|".join(parts) + ")"
        return f"^{body}$"


def _class(position: Position) -> str:
    if position == DIGITS:
        return "[0-9]"
    if len(position) == 1:
        (only,) = position
        return re.escape(only) if only in "*#" else only
    return "[" + "".join(sorted(position, key=KEYS.index)).replace("#", "\\#") + "]"


def parse_prefix(text: str) -> SitePrefix:
    """``text`` as a SitePrefix; ConfigError saying what is wrong and how to write it."""
    usage = ('write digits, x (any digit) and [1-5] ranges, fixed length, alternatives'
             ' joined by |, e.g. "1xx" or "2[0-4]x"')
    value = text.strip()
    if not value:
        raise ConfigError(f"prefix is empty; {usage}")
    alternatives = []
    for alt in value.split("|"):
        alt = alt.strip()
        if not alt:
            raise ConfigError(f"prefix {text!r} has an empty alternative; {usage}")
        alternatives.append(_positions(alt, text, usage))
    parsed = SitePrefix(value, tuple(alternatives))
    count = sum(_size(alt) for alt in parsed.alternatives)
    if count > MAX_NUMBERS:
        raise ConfigError(f"prefix {text!r} names {count} numbers, more than {MAX_NUMBERS};"
                          " give fewer free digits")
    return parsed


def _size(alt: tuple[Position, ...]) -> int:
    n = 1
    for pos in alt:
        n *= len(pos)
    return n


def _positions(alt: str, text: str, usage: str) -> tuple[Position, ...]:
    out: list[Position] = []
    i = 0
    while i < len(alt):
        c = alt[i]
        if c in "xX":
            out.append(DIGITS)
        elif c.upper() in KEYS:
            out.append(frozenset(c.upper()))
        elif c == "[":
            end = alt.find("]", i)
            if end < 0:
                raise ConfigError(f"prefix {text!r}: '[' is never closed; {usage}")
            out.append(_range(alt[i + 1:end], text, usage))
            i = end
        elif c in ".T":
            raise ConfigError(f"prefix {text!r}: {c!r} makes the length open; a site prefix"
                              f" has a fixed length; {usage}")
        else:
            raise ConfigError(f"prefix {text!r}: {c!r} is not allowed; {usage}")
        i += 1
    return tuple(out)


def _range(inside: str, text: str, usage: str) -> Position:
    chars: set[str] = set()
    i = 0
    while i < len(inside):
        c = inside[i].upper()
        if c not in KEYS:
            raise ConfigError(f"prefix {text!r}: {inside[i]!r} in [{inside}]; {usage}")
        if i + 2 < len(inside) and inside[i + 1] == "-":
            hi = inside[i + 2]
            if not (c.isdigit() and hi.isdigit() and c <= hi):
                raise ConfigError(f"prefix {text!r}: range {c}-{hi} in [{inside}]; {usage}")
            chars.update(str(d) for d in range(int(c), int(hi) + 1))
            i += 3
            continue
        chars.add(c)
        i += 1
    if not chars:
        raise ConfigError(f"prefix {text!r}: empty []; {usage}")
    return frozenset(chars)


def digit_map_regex(pattern: str) -> re.Pattern[str] | None:
    """A dial plan digit map (``9x.``, ``[2-9]xxxxxx|011x.``) as a compiled regex of whole
    numbers; None when the text is not a digit map this reading understands."""
    out: list[str] = []
    i = 0
    text = pattern.strip().strip("()")
    try:
        while i < len(text):
            c = text[i]
            if c in "xX":
                out.append("[0-9]")
            elif c == "[":
                end = text.index("]", i)
                out.append("[" + text[i + 1:end].replace("#", "\\#") + "]")
                i = end
            elif c == ".":
                if out and out[-1] not in ("|", "*"):
                    out.append("*")
            elif c in "Tt ":
                pass
            elif c == "|":
                out.append("|")
            elif c.upper() in KEYS:
                out.append(re.escape(c.upper()))
            else:
                return None
            i += 1
        return re.compile("(?:" + "".join(out) + ")")
    except (ValueError, re.error):
        return None


def route_overlap(prefix: SitePrefix, pattern: str) -> str | None:
    """A number of ``prefix`` that the digit map ``pattern`` also matches, or None."""
    regex = digit_map_regex(pattern)
    if regex is None:
        return None
    return next((n for n in prefix.numbers() if regex.fullmatch(n)), None)
