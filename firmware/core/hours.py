"""Office hours' text forms, shared by the configuration's checks and the exchange
(``firmware.pbx.schedules``): ``"09:00-13:00,14:00-18:00"``, weekdays such as
``"mon-fri"``, dates ``YYYY-MM-DD`` and IANA time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.core.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{what}: unknown timezone {name!r}; use an IANA name such as "
                          "'Europe/Berlin' or 'UTC'") from None


def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """``"09:00-13:00,14:00-18:00"`` as minute ranges; ConfigError naming the bad part."""
    ranges: list[tuple[int, int]] = []
    for part in (p.strip() for p in text.split(",")):
        start, sep, end = part.partition("-")
        if not sep:
            raise ConfigError(f"{part!r} is not a range; write HH:MM-HH:MM such as 09:00-18:00")
        first, last = _minute(start.strip(), part), _minute(end.strip(), part)
        if first >= last:
            raise ConfigError(f"{part!r}: the range ends before it starts; a range may not "
                              "cross midnight (write two, and use 24:00 for midnight)")
        ranges.append((first, last))
    return tuple(sorted(ranges))


def _minute(text: str, part: str) -> int:
    hh, sep, mm = text.partition(":")
    if not (sep and hh.isdigit() and mm.isdigit() and len(mm) == 2 and len(hh) <= 2):
        raise ConfigError(f"{part!r}: {text!r} is not a time; write HH:MM")
    hour, minute = int(hh), int(mm)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise ConfigError(f"{part!r}: {text!r} is not a time of day (00:00 to 24:00)")
    return hour * 60 + minute


def parse_weekdays(items: tuple[str, ...]) -> frozenset[int]:
    """``("mon", "tue")`` or ``("mon-fri",)`` as weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for item in items:
        first, sep, last = item.strip().lower().partition("-")
        a = _weekday(first, item)
        b = _weekday(last, item) if sep else a
        if b < a:
            raise ConfigError(f"{item!r}: a weekday range runs forward, such as mon-fri")
        days.update(range(a, b + 1))
    return frozenset(days)


def _weekday(text: str, item: str) -> int:
    key = text[:3]
    if key not in WEEKDAYS or len(text) < 3:
        raise ConfigError(f"{item!r}: unknown weekday {text!r}; use {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(key)


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{text!r} is not a date; write YYYY-MM-DD such as 2026-12-25") \
            from None
