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

from firmware.core.errors import ConfigError
from firmware.core.hours import WEEKDAYS, parse_date, parse_hours, parse_weekdays, zone
from firmware.pbx.destinations import Destination

__all__ = ["WEEKDAYS", "Schedule", "Switch", "is_open", "parse_date", "parse_hours",
           "parse_weekdays", "zone"]


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


def is_open(schedule: Schedule, unix_time: float) -> bool:
    """Whether ``schedule`` is open at ``unix_time``."""
    local = dt.datetime.fromtimestamp(unix_time, zone(schedule.timezone, schedule.name))
    if local.date() in schedule.holidays or local.weekday() not in schedule.weekdays:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in schedule.hours)


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
