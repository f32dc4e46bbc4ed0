"""From the office tables of the configuration to the dial plan's groups, menus,
schedules and destination switches (firmware/pbx/office.py, schedules.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from firmware.config import Config
from firmware.core.errors import ConfigError
from firmware.pbx.destinations import parse_choice, parse_destination
from firmware.pbx.office import Group, Menu
from firmware.pbx.schedules import Schedule, Switch, parse_date, parse_hours, parse_weekdays


def switch(to: str, closed_to: str = "", schedule: str = "") -> Switch | None:
    """A route's ``to``/``closed_to``/``schedule`` keys; None when ``to`` is not set."""
    if not to:
        return None
    return Switch(parse_destination(to),
                  parse_destination(closed_to) if closed_to else None, schedule)


def groups(config: Config) -> tuple[Group, ...]:
    return tuple(
        Group(g.name, g.number, g.members, g.strategy, g.ring_s, g.total_s,
              parse_destination(g.overflow) if g.overflow else None, g.skip_busy, g.queue,
              g.max_wait_s, g.max_callers, g.announce_position, g.announce_every_s)
        for g in config.group)


def menus(config: Config) -> tuple[Menu, ...]:
    out: list[Menu] = []
    for m in config.menu:
        choices: dict[str, Switch] = {}
        for text in m.choices:
            key, to, closed, schedule = parse_choice(text)
            made = switch(to, closed, schedule)
            assert made is not None
            choices[key] = made
        out.append(Menu(m.name, m.prompt, m.number, m.language, choices, m.dial_extensions,
                        m.timeout_s, m.repeats, parse_destination(m.on_timeout),
                        parse_destination(m.on_invalid)))
    return tuple(out)


def schedules(config: Config) -> tuple[Schedule, ...]:
    return tuple(
        Schedule(s.name, parse_weekdays(s.weekdays), parse_hours(s.hours),
                 frozenset(parse_date(d) for d in s.holidays), s.timezone)
        for s in config.schedule)


CLOCK_SHIFT_ENV = "MINIPBX_CLOCK_SHIFT_S"
"""Seconds added to the wall clock the office hours see (tests move the box's day)."""


def wall_clock() -> Callable[[float], float]:
    """The unix time of an exchange instant (``time.monotonic()``), for schedules;
    ``MINIPBX_CLOCK_SHIFT_S`` shifts it (a test's way to be after hours)."""
    text = os.environ.get(CLOCK_SHIFT_ENV, "")
    try:
        shift = float(text) if text else 0.0
    except ValueError:
        raise ConfigError(f"{CLOCK_SHIFT_ENV}={text!r}: seconds, such as -3600") from None

    def wall(now: float) -> float:
        return now + (time.time() - time.monotonic()) + shift

    return wall
