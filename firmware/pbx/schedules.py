"""Office hours: whether a schedule is open at a given instant, as a pure function.

A :class:`Schedule` is open on its ``weekdays`` (0 = Monday ... 6 = Sunday), within one of
its ``hours`` ranges (minutes after local midnight, start inclusive, end exclusive), in its
``timezone`` (IANA name, ``zoneinfo``), except on its ``holidays`` (local dates), which are
closed all day. The local time is the wall clock of the zone at that instant, so a range
follows daylight saving time: 09:00-18:00 is 09:00-18:00 on the office's clock on both
sides of a change. A range may not cross midnight (write two: ``22:00-24:00`` and
``00:00-06:00`` on the next day's weekday); ``24:00`` ends a range at midnight.

A :class:`Switch` is a route's or a menu choice's pair of destinations: ``to`` while the
schedule is open, ``closed_to`` otherwise. The instant is unix time (UTC seconds), given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.core.errors import ConfigError
from firmware.pbx.destinations import Destination

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Schedule:
    name: str
    weekdays: frozenset[int] = frozenset(range(5))
    hours: tuple[tuple[int, int], ...] = ((0, 24 * 60),)
    holidays: frozenset[dt.date] = frozenset()
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        zone(self.timezone, f"schedule {self.name}")
        for start, end in self.hours:
            if not 0 <= start < end <= 24 * 60:
                raise ConfigError(f"schedule {self.name}: hours {start}-{end} minutes; a range "
                                  "starts before it ends, within one day")
        if any(d not in range(7) for d in self.weekdays):
            raise ConfigError(f"schedule {self.name}: weekdays are 0 (Monday) to 6")


def zone(name: str, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{what}: unknown timezone {name!r}; use an IANA name such as "
                          "'Europe/Berlin' or 'UTC'") from None


def is_open(schedule: Schedule, unix_time: float) -> bool:
    """Whether ``schedule`` is open at ``unix_time``."""
    local = dt.datetime.fromtimestamp(unix_time, zone(schedule.timezone, schedule.name))
    if local.date() in schedule.holidays or local.weekday() not in schedule.weekdays:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in schedule.hours)


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


@dataclass(frozen=True)
class Switch:
    """``to`` while ``schedule`` (a name) is open, else ``closed_to``; no schedule: ``to``."""

    to: Destination
    closed_to: Destination | None = None
    schedule: str = ""

    def pick(self, schedules: dict[str, Schedule], unix_time: float) -> Destination:
        if not self.schedule or self.closed_to is None:
            return self.to
        found = schedules.get(self.schedule)
        if found is None or is_open(found, unix_time):
            return self.to
        return self.closed_to
