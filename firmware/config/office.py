"""Rules for the office tables: ``[[group]]``, ``[[menu]]``, ``[[schedule]]``, and the
``to``/``closed_to``/``schedule`` keys of ``[[inbound]]`` and ``[[fxo]]``.

- A destination (``firmware.core.destinations``) parses, and names an extension, group or
  menu that exists (``inbound[2].to: no group named 'sales'``).
- A route gives ``extension`` or ``to``, not both; ``closed_to`` and ``schedule`` come
  together, and the schedule exists.
- A group's ``announce_every_s`` is 0 or from 15 s (600 is the schema's bound).
- Group and menu names are unique and typeable; their numbers are digits and clash with
  no extension, group or menu number; a group's members are extensions, each once.
- A menu's choices are ``KEY=DESTINATION`` (or ``KEY=TO|CLOSED_TO@SCHEDULE``) with keypad
  keys, each key once. In the file, ``choices`` may also be a table,
  ``{ "1" = "group:sales", "0" = { to = "ext:101", closed_to = "announce:closed",
  schedule = "office" } }``: :func:`choice_pairs` turns it into the list form when the file
  is read, so the rest of the box (paths, web forms, the renderer) sees a list of strings.
- A schedule's weekdays, hours, holidays and time zone parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

from firmware.config.problems import Issue, KeyPath, did_you_mean
from firmware.config.schema import Config, FxoPort, GroupConfig, InboundRoute, MenuConfig
from firmware.config.sites import other_site_number
from firmware.core.destinations import SYMBOLS, parse_choice, parse_destination
from firmware.core.errors import ConfigError
from firmware.core.hours import parse_date, parse_hours, parse_weekdays, zone

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
NUMBER_RE = re.compile(r"[0-9*#]{1,20}")
_CHOICE_KEYS = frozenset({"to", "closed_to", "schedule"})
# A caller told their place more often than this would hear more prompt than music: the
# position and its digits take several seconds.
MIN_ANNOUNCE_EVERY_S = 15.0
T = TypeVar("T")


def choice_pairs(value: Mapping[str, object], path: KeyPath,
                 issues: list[Issue]) -> list[object] | None:
    """A ``choices`` table as the list of one-line choices; None (and issues) if it
    cannot be one."""
    items: list[object] = []
    for key, item in value.items():
        if isinstance(item, str):
            items.append(f"{key}={item}")
            continue
        if not isinstance(item, dict):
            issues.append(Issue((*path, key), 'must be a destination in quotes or a table'
                                ' { to = "...", closed_to = "...", schedule = "..." }'))
            return None
        unknown = sorted(set(item) - _CHOICE_KEYS)
        to = item.get("to")
        if unknown or not isinstance(to, str):
            what = f"unknown key '{unknown[0]}'" if unknown else "to is missing"
            issues.append(Issue((*path, key), f"{what}; a choice table has to, closed_to"
                                " and schedule"))
            return None
        closed, schedule = item.get("closed_to", ""), item.get("schedule", "")
        if closed or schedule:
            items.append(f"{key}={to}|{closed}@{schedule}")
        else:
            items.append(f"{key}={to}")
    return items


def check_office(config: Config) -> list[Issue]:
    issues: list[Issue] = []
    groups = [g.name for g in config.group]
    menus = [m.name for m in config.menu]
    schedules = [s.name for s in config.schedule]
    names = _Names(config.extensions, groups, menus, schedules)
    _numbers(config, issues)
    for i, group in enumerate(config.group):
        at: KeyPath = ("group", i)
        _name(group.name, (*at, "name"), issues)
        seen: set[str] = set()
        if not group.members:
            issues.append(Issue((*at, "members"), 'list at least one extension, e.g. ["101"]'))
        for j, member in enumerate(group.members):
            if member not in config.extensions and not other_site_number(config, member):
                issues.append(Issue((*at, "members", j), _no("extension", member,
                                                             config.extensions)))
            elif member in seen:
                issues.append(Issue((*at, "members", j), f"'{member}' is listed twice"))
            seen.add(member)
        if group.overflow:
            names.destination(group.overflow, (*at, "overflow"), issues)
        if 0 < group.announce_every_s < MIN_ANNOUNCE_EVERY_S:
            issues.append(Issue((*at, "announce_every_s"), "must be 0 (on arrival only) or"
                                f" between {MIN_ANNOUNCE_EVERY_S:g} and 600, got"
                                f" {group.announce_every_s:g}"))
    _unique(issues, "group", groups)
    for i, menu in enumerate(config.menu):
        at = ("menu", i)
        _name(menu.name, (*at, "name"), issues)
        if not menu.prompt.strip():
            issues.append(Issue((*at, "prompt"), "must name a prompt such as"
                                " builtin:NAME, file:NAME.wav or say:en:TEXT"))
        keys: set[str] = set()
        for j, text in enumerate(menu.choices):
            names.choice(text, (*at, "choices", j), keys, issues)
        names.destination(menu.on_timeout, (*at, "on_timeout"), issues)
        names.destination(menu.on_invalid, (*at, "on_invalid"), issues)
    _unique(issues, "menu", menus)
    for i, sched in enumerate(config.schedule):
        at = ("schedule", i)
        _name(sched.name, (*at, "name"), issues)
        _try(parse_weekdays, sched.weekdays, (*at, "weekdays"), issues)
        _try(parse_hours, sched.hours, (*at, "hours"), issues)
        for j, day in enumerate(sched.holidays):
            _try(parse_date, day, (*at, "holidays", j), issues)
        _try(_zone, sched.timezone, (*at, "timezone"), issues)
    _unique(issues, "schedule", schedules)
    routes: list[tuple[KeyPath, InboundRoute | FxoPort]] = [
        *((("inbound", i), r) for i, r in enumerate(config.inbound)),
        *((("fxo", i), p) for i, p in enumerate(config.fxo))]
    for at, route in routes:
        names.route(route.extension, route.to, route.closed_to, route.schedule, at, issues)
    return issues


class _Names:
    def __init__(self, extensions: Collection[str], groups: Collection[str],
                 menus: Collection[str], schedules: Collection[str]) -> None:
        self.known = {"ext": extensions, "voicemail": extensions, "group": groups,
                      "menu": menus}
        self.schedules = schedules

    def destination(self, text: str, at: KeyPath, issues: list[Issue]) -> None:
        try:
            dest = parse_destination(text)
        except ConfigError as exc:
            issues.append(Issue(at, str(exc)))
            return
        known = self.known.get(dest.kind)
        if known is not None and dest.target not in known:
            word = "extension" if dest.kind in ("ext", "voicemail") else dest.kind
            issues.append(Issue(at, _no(word, dest.target, known)))

    def schedule(self, name: str, at: KeyPath, issues: list[Issue]) -> None:
        if name not in self.schedules:
            issues.append(Issue(at, _no("schedule", name, self.schedules)))

    def choice(self, text: str, at: KeyPath, keys: set[str], issues: list[Issue]) -> None:
        try:
            key, to, closed, schedule = parse_choice(text)
        except ConfigError as exc:
            issues.append(Issue(at, str(exc)))
            return
        if any(c not in SYMBOLS for c in key):
            issues.append(Issue(at, f"key '{key}' must be keypad symbols: 0-9, *, #, A-D"))
        elif key in keys:
            issues.append(Issue(at, f"key '{key}' is given twice"))
        keys.add(key)
        self.destination(to, at, issues)
        if closed:
            self.destination(closed, at, issues)
            self.schedule(schedule, at, issues)

    def route(self, extension: str, to: str, closed: str, schedule: str, at: KeyPath,
              issues: list[Issue]) -> None:
        if extension and to:
            issues.append(Issue((*at, "to"), f"set extension ('{extension}') or to, not both"))
        elif not extension and not to:
            issues.append(Issue((*at, "extension"), 'missing; add extension = "101", or'
                                ' to = "group:sales" (a destination)'))
        if to:
            self.destination(to, (*at, "to"), issues)
        if closed:
            self.destination(closed, (*at, "closed_to"), issues)
        if bool(closed) != bool(schedule):
            missing = "schedule" if closed else "closed_to"
            issues.append(Issue((*at, missing), "closed_to and schedule come together:"
                                " schedule says when closed_to takes the call"))
        if schedule:
            self.schedule(schedule, (*at, "schedule"), issues)


def _numbers(config: Config, issues: list[Issue]) -> None:
    taken = {e: "an extension" for e in config.extensions}
    items: list[tuple[str, int, GroupConfig | MenuConfig]] = [
        *(("group", i, g) for i, g in enumerate(config.group)),
        *(("menu", i, m) for i, m in enumerate(config.menu))]
    for kind, i, item in items:
        if not item.number:
            continue
        at: KeyPath = (kind, i, "number")
        if not NUMBER_RE.fullmatch(item.number):
            issues.append(Issue(at, f"must be digits, * or # (up to 20), got"
                                f" '{item.number}'"))
        elif item.number in taken:
            issues.append(Issue(at, f"{item.number} is already {taken[item.number]}'s"
                                " number; give each its own"))
        else:
            taken[item.number] = f"{kind} {item.name}"


def _name(value: str, at: KeyPath, issues: list[Issue]) -> None:
    if not NAME_RE.fullmatch(value):
        issues.append(Issue(at, f"must be letters, digits, '_', '.' or '-' (at most 32),"
                            f" got '{value}'"))


def _unique(issues: list[Issue], table: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            issues.append(Issue((table, i, "name"), f"'{name}' is already used by another"
                                f" [[{table}]]; give each its own name"))
        seen.add(name)


def _no(word: str, name: str, known: Collection[str]) -> str:
    hint = did_you_mean(name, known) or (f"known: {', '.join(known)}" if known
                                          else f"none defined yet; add a [[{_table(word)}]]")
    return f"no {word} named '{name}'; {hint}"


def _table(word: str) -> str:
    return {"extension": "fxs"}.get(word, word)


def _zone(name: str) -> object:
    return zone(name, "timezone")


def _try(parse: Callable[[T], object], value: T, at: KeyPath, issues: list[Issue]) -> None:
    try:
        parse(value)
    except ConfigError as exc:
        issues.append(Issue(at, str(exc)))
