"""Office hours as a pure function of (schedule, unix time); destinations' syntax."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from firmware.core.errors import ConfigError
from firmware.pbx.destinations import Destination, parse_destination
from firmware.pbx.schedules import (
    Schedule,
    Switch,
    is_open,
    parse_date,
    parse_hours,
    parse_weekdays,
)


def at(text: str, zone: str = "UTC") -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


OFFICE = Schedule("office", parse_weekdays(("mon-fri",)), parse_hours("09:00-13:00,14:00-18:00"),
                  frozenset({parse_date("2026-12-25")}), "Europe/Berlin")


@pytest.mark.parametrize(("local", "open_"), [
    ("2026-12-07 09:00", True),   # Monday, first minute
    ("2026-12-07 08:59", False),
    ("2026-12-07 13:00", False),  # lunch: the first range ends
    ("2026-12-07 13:59", False),
    ("2026-12-07 14:00", True),
    ("2026-12-07 17:59", True),
    ("2026-12-07 18:00", False),
    ("2026-12-12 10:00", False),  # Saturday
    ("2026-12-25 10:00", False),  # a holiday (a Friday)
    ("2026-12-24 10:00", True),
])
def test_weekdays_split_hours_and_holidays(local: str, open_: bool) -> None:
    assert is_open(OFFICE, at(local, "Europe/Berlin")) is open_


def test_the_timezone_is_the_offices() -> None:
    # 08:30 UTC is 09:30 in Berlin in winter: open there, closed for a UTC office.
    assert is_open(OFFICE, at("2026-12-07 08:30"))
    utc = Schedule("utc", OFFICE.weekdays, OFFICE.hours, timezone="UTC")
    assert not is_open(utc, at("2026-12-07 08:30"))


def test_daylight_saving_time_keeps_the_wall_clock() -> None:
    # Berlin moves to summer time on 2026-03-29 (Sunday): Monday 09:00 local is 07:00 UTC.
    assert not is_open(OFFICE, at("2026-03-27 07:30"))  # Friday before: 08:30 local
    assert is_open(OFFICE, at("2026-03-30 07:30"))  # Monday after: 09:30 local
    assert not is_open(OFFICE, at("2026-03-30 06:59"))  # 08:59 local
    night = Schedule("night", frozenset(range(7)), parse_hours("02:00-03:00"),
                     timezone="Europe/Berlin")
    # 02:00-03:00 does not exist on the day the clocks go forward.
    assert not any(is_open(night, at("2026-03-29 00:00") + m * 60) for m in range(0, 180))


def test_switch_picks_by_the_schedule() -> None:
    switch = Switch(Destination("group", "sales"), Destination("announce", "closed"), "office")
    schedules = {"office": OFFICE}
    assert switch.pick(schedules, at("2026-12-07 10:00", "Europe/Berlin")).kind == "group"
    assert switch.pick(schedules, at("2026-12-07 20:00", "Europe/Berlin")).kind == "announce"


@pytest.mark.parametrize(("text", "message"), [
    ("09:00", "not a range"),
    ("09:00-08:00", "ends before it starts"),
    ("09:00-25:00", "not a time of day"),
    ("9h-17h", "not a time"),
])
def test_bad_hours(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_hours(text)


def test_bad_weekdays_dates_and_zones() -> None:
    with pytest.raises(ConfigError, match="unknown weekday 'mo'"):
        parse_weekdays(("mo",))
    with pytest.raises(ConfigError, match="not a date"):
        parse_date("25.12.2026")
    with pytest.raises(ConfigError, match="unknown timezone 'Mars/Olympus'"):
        Schedule("x", timezone="Mars/Olympus")
    assert parse_weekdays(("sat", "mon-wed")) == frozenset({0, 1, 2, 5})


@pytest.mark.parametrize("text", ["ext:101", "group:sales", "menu:main", "announce:closed",
                                  "voicemail:101", "dial:+4930123", "dial:9555123", "hangup"])
def test_destinations_round_trip(text: str) -> None:
    assert str(parse_destination(text)) == text


@pytest.mark.parametrize(("text", "message"), [
    ("sales", "not a destination"),
    ("grop:sales", "unknown kind 'grop'"),
    ("group:", "nothing after 'group:'"),
    ("ext:10a", "'a' in the number"),
    ("dial:12+3", "'\\+' may only start"),
    ("menu:main menu", "' ' in the menu name"),
    ("hangup:now", "unknown kind 'hangup'"),
])
def test_destination_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_destination(text)


def test_announce_prompt_reference() -> None:
    assert parse_destination("announce:closed").prompt == "builtin:closed"
    assert parse_destination("announce:file:closed.wav").prompt == "file:closed.wav"
    assert parse_destination("announce:builtin:goodbye").prompt == "builtin:goodbye"
