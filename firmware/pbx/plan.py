"""The dial plan: extensions, trunks, routes and timers, as frozen dataclasses.

The app builds a :class:`DialPlan` from the configuration file; this module does not read
TOML. A plan is checked when it is built, and every mistake raises a ConfigError that names
the item (an extension, a route, a trunk), so the config loader can add the file and line.

Rules the plan keeps:

- Extension numbers and route prefixes use only the symbols a handset sends (0-9 * # A-D);
  an extension number is unique, and so is the line (``fxs1``) each extension sits on.
- Routes name only trunks and extensions that exist; a DID and an FXO line route once.
- The leg names given here are the box's *line* legs: the extension legs are FXS ports,
  the line-route legs are FXO ports. Any other leg id is a SIP leg.
- One digit map serves the whole box. When none is given, it is built from the extension
  numbers (each a literal alternative) and the outbound routes (a prefix ``9`` becomes
  ``9xx.``: the prefix and at least one digit, dialled at the interdigit timeout or ``#``).

Resolving a number: an extension number wins over an outbound route; routes are tried in
the order given, the first match wins. Inbound calls match the DID exactly first, then the
``*`` route, if any; an inbound route rings an extension and nothing else (a call from
outside leaves again only through a route that says so and through
``firmware.pbx.tollguard``).

A route names one trunk or a list (``trunks``): the list is its failover order; a name may
be an FXO line ("fxo1"). Who may use a trunk (permission classes, limits, the spending
guard) is data here (``Extension.permission``, ``Trunk.max_calls``,
``DialPlan.numbering``...) and decided by ``tollguard``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from firmware.core.errors import ConfigError
from firmware.pbx.destinations import Destination
from firmware.pbx.digitmap import SYMBOLS, DigitMap
from firmware.pbx.features import FeatureCodes, LineFeatures
from firmware.pbx.office import Group, Menu
from firmware.pbx.recpolicy import RecordingPolicy
from firmware.pbx.schedules import Schedule, Switch
from firmware.pbx.sitelinks import SiteLinks
from firmware.pbx.tollguard import DEFAULT_PERMISSION, NumberingPlan, Origin, Permission

ANY_DID = "*"


def _check_symbols(
    what: str, value: str, *, allow_empty: bool = False, allowed: str = SYMBOLS
) -> None:
    if not value and not allow_empty:
        raise ConfigError(f"{what}: the number is empty")
    bad = [c for c in value if c not in allowed]
    if bad:
        raise ConfigError(f"{what}: {value!r} has {bad[0]!r}; use only {_describe(allowed)}")


def _describe(allowed: str) -> str:
    extra = "" if allowed == SYMBOLS else ", " + ", ".join(sorted(set(allowed) - set(SYMBOLS)))
    return f"0-9, *, #, A-D{extra} (what a keypad sends)"


@dataclass(frozen=True)
class Extension:
    """A handset on an FXS line. ``outbound_caller_id`` is the number shown to the
    outside world when it calls through a trunk (None: the trunk's own number)."""

    number: str
    leg: str
    name: str
    outbound_caller_id: str | None = None
    permission: Permission = DEFAULT_PERMISSION
    max_outbound_calls: int = 0  # 0: no limit
    # An IP phone registered to the box ([[sip_user]]), not a handset on an FXS port: its
    # leg is the SIP leg of its calls ("phone110"), one call at a time like a handset.
    phone: bool = False

    def __post_init__(self) -> None:
        _check_symbols(f"extension {self.number!r}", self.number)
        if not self.leg:
            raise ConfigError(f"extension {self.number}: the line (leg) is empty")
        if self.max_outbound_calls < 0:
            raise ConfigError(f"extension {self.number}: max_outbound_calls "
                              f"{self.max_outbound_calls}; 0 (no limit) or more")

    def origin(self) -> Origin:
        """This handset as the origin of a call out (its port's permission and limit)."""
        return Origin("port", self.leg, self.permission, self.max_outbound_calls)


@dataclass(frozen=True)
class Trunk:
    """A way out of the box; its SIP account details live with the SIP configuration."""

    name: str
    max_calls: int = 0  # calls at once through it; 0: no limit

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("trunk: the name is empty")
        if self.max_calls < 0:
            raise ConfigError(f"trunk {self.name}: max_calls {self.max_calls}; 0 (no limit) "
                              "or more")


@dataclass(frozen=True)
class OutboundRoute:
    """Numbers matching ``pattern`` (a DigitMap, or a prefix string) go out through
    ``trunk`` (one name, or the failover order as a tuple), sent as
    ``prepend + number[strip:]``."""

    pattern: DigitMap | str
    trunk: str | tuple[str, ...]
    strip: int = 0
    prepend: str = ""
    digit_map: DigitMap = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        what = f"outbound route {str(self.pattern)!r}"
        if not self.trunks or not all(self.trunks):
            raise ConfigError(f"{what}: name at least one trunk, and no empty name")
        if len(set(self.trunks)) != len(self.trunks):
            raise ConfigError(f"{what}: trunks {list(self.trunks)} name one twice")
        if self.strip < 0:
            raise ConfigError(f"{what}: strip is {self.strip}; it counts digits, 0 or more")
        # A trunk takes E.164 numbers too, so the prepended part may carry '+'.
        _check_symbols(f"{what} prepend", self.prepend, allow_empty=True, allowed=SYMBOLS + "+")
        pattern = self.pattern
        if isinstance(pattern, str):
            _check_symbols(f"{what} prefix", pattern, allow_empty=True)
            # The prefix and at least one more digit; '#' or the interdigit timer ends it.
            pattern = DigitMap.parse(pattern + "xx.")
        object.__setattr__(self, "digit_map", pattern)

    @property
    def trunks(self) -> tuple[str, ...]:
        """The trunks to try, in order."""
        return (self.trunk,) if isinstance(self.trunk, str) else tuple(self.trunk)

    def translate(self, number: str) -> str:
        return self.prepend + number[self.strip :]


@dataclass(frozen=True)
class InboundRoute:
    """Calls arriving for ``did`` (``*``: any number) ring ``extension``, or go where
    ``switch`` says (a destination, by office hours)."""

    did: str
    extension: str = ""
    switch: Switch | None = None


@dataclass(frozen=True)
class LineRoute:
    """A call ringing in on the FXO line ``leg`` rings ``extension``, or goes where
    ``switch`` says."""

    leg: str
    extension: str = ""
    switch: Switch | None = None


@dataclass(frozen=True)
class Timers:
    """Seconds. ``busy_tone_s`` is how long any final progress tone (busy after the far end
    hung up, congestion after a failure) plays to an off-hook handset before the howler
    (receiver-off-hook tone); the howler plays ``howler_s``, then the line is silent."""

    first_digit_s: float = 15.0
    interdigit_s: float = 4.0
    no_answer_s: float = 60.0
    busy_tone_s: float = 30.0
    howler_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("first_digit_s", "interdigit_s", "no_answer_s", "busy_tone_s", "howler_s"):
            value = getattr(self, name)
            if not value > 0:
                raise ConfigError(f"timers.{name}: {value!r}; it must be a positive number")


@dataclass(frozen=True)
class ToExtension:
    extension: Extension


@dataclass(frozen=True)
class ToTrunk:
    route: OutboundRoute
    number: str  # as it is sent: after strip and prepend


@dataclass(frozen=True)
class ToGroup:
    group: Group


@dataclass(frozen=True)
class ToMenu:
    menu: Menu


@dataclass(frozen=True)
class DialPlan:
    extensions: tuple[Extension, ...] = ()
    trunks: tuple[Trunk, ...] = ()
    outbound: tuple[OutboundRoute, ...] = ()
    inbound: tuple[InboundRoute, ...] = ()
    lines: tuple[LineRoute, ...] = ()
    timers: Timers = field(default_factory=Timers)
    digit_map: DigitMap | None = None
    numbering: NumberingPlan = field(default_factory=NumberingPlan)
    max_international_minutes_per_hour: float = 0.0  # 0: no limit
    sites: SiteLinks = field(default_factory=SiteLinks)  # other offices (sitelinks.py)
    groups: tuple[Group, ...] = ()
    menus: tuple[Menu, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    recording: RecordingPolicy = field(default_factory=RecordingPolicy)  # firmware/pbx/recpolicy.py
    # Star codes and each extension's configured forwarding / do-not-disturb (features.py).
    feature_codes: FeatureCodes = field(default_factory=FeatureCodes)
    forwarding: tuple[tuple[str, LineFeatures], ...] = ()
    _by_number: dict[str, Extension] = field(init=False, repr=False, compare=False)
    _by_leg: dict[str, Extension] = field(init=False, repr=False, compare=False)
    _by_did: dict[str, Extension] = field(init=False, repr=False, compare=False)
    _by_line: dict[str, Extension] = field(init=False, repr=False, compare=False)
    _did_routes: dict[str, InboundRoute] = field(init=False, repr=False, compare=False)
    _line_routes: dict[str, LineRoute] = field(init=False, repr=False, compare=False)
    _groups: dict[str, Group] = field(init=False, repr=False, compare=False)
    _menus: dict[str, Menu] = field(init=False, repr=False, compare=False)
    _schedules: dict[str, Schedule] = field(init=False, repr=False, compare=False)
    _office_numbers: dict[str, Group | Menu] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable from the loader, keep tuples (hashable, immutable).
        for name in ("extensions", "trunks", "outbound", "inbound", "lines", "groups",
                     "menus", "schedules"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        by_number, by_leg = self._index_extensions()
        object.__setattr__(self, "_by_number", by_number)
        object.__setattr__(self, "_by_leg", by_leg)
        self._index_office()
        self._check_routes()
        object.__setattr__(self, "_by_did", self._index_routes(self.inbound, "DID"))
        object.__setattr__(self, "_by_line", self._index_routes(self.lines, "line"))
        object.__setattr__(self, "_did_routes", {r.did: r for r in self.inbound})
        object.__setattr__(self, "_line_routes", {r.leg: r for r in self.lines})
        if self.digit_map is None:
            maps = [DigitMap.parse(e.number) for e in self.extensions]
            maps += [DigitMap.parse(n) for n in self._office_numbers]
            maps += [route.digit_map for route in self.outbound]
            maps += [DigitMap.parse(p) for p in self.feature_codes.patterns()]
            object.__setattr__(self, "digit_map", DigitMap.union(maps))

    def _index_extensions(self) -> tuple[dict[str, Extension], dict[str, Extension]]:
        by_number: dict[str, Extension] = {}
        by_leg: dict[str, Extension] = {}
        for ext in self.extensions:
            if ext.number in by_number:
                raise ConfigError(
                    f"extension {ext.number} on {ext.leg}: number {ext.number} is already "
                    f"the extension on {by_number[ext.number].leg}; give each a unique number"
                )
            if ext.leg in by_leg:
                raise ConfigError(
                    f"extension {ext.number}: line {ext.leg} already carries extension "
                    f"{by_leg[ext.leg].number}; one extension per FXS line"
                )
            by_number[ext.number] = ext
            by_leg[ext.leg] = ext
        return by_number, by_leg

    def _check_routes(self) -> None:
        names = [t.name for t in self.trunks]
        for name in names:
            if names.count(name) > 1:
                raise ConfigError(f"trunk {name!r} is defined twice")
        # An FXO line is a trunk of one channel: routes may name its leg ("fxo1").
        names = names + [line.leg for line in self.lines]
        for route in self.outbound:
            for trunk in route.trunks:
                if trunk not in names:
                    known = ", ".join(names) or "none defined"
                    raise ConfigError(
                        f"outbound route {str(route.pattern)!r}: trunk {trunk!r} "
                        f"does not exist (trunks: {known})"
                    )
        for line in self.lines:
            if line.leg in self._by_leg:
                raise ConfigError(
                    f"line route {line.leg}: {line.leg} is the FXS line of extension "
                    f"{self._by_leg[line.leg].number}, not an FXO line"
                )

    def _index_office(self) -> None:
        """Groups, menus and schedules by name; group and menu numbers, which share the
        extensions' numbering; every destination they name must exist."""
        groups: dict[str, Group] = {}
        menus: dict[str, Menu] = {}
        numbers: dict[str, Group | Menu] = {}
        for kind, items, index in (("group", self.groups, groups), ("menu", self.menus, menus)):
            for item in items:
                if item.name in index:
                    raise ConfigError(f"{kind} {item.name!r} is defined twice")
                index[item.name] = item  # type: ignore[assignment]
                if not item.number:
                    continue
                _check_symbols(f"{kind} {item.name} number", item.number)
                if item.number in self._by_number or item.number in numbers:
                    raise ConfigError(f"{kind} {item.name}: number {item.number} is already "
                                      "an extension, group or menu number")
                numbers[item.number] = item
        schedules = {s.name: s for s in self.schedules}
        if len(schedules) != len(self.schedules):
            raise ConfigError("a schedule name is defined twice")
        object.__setattr__(self, "_groups", groups)
        object.__setattr__(self, "_menus", menus)
        object.__setattr__(self, "_schedules", schedules)
        object.__setattr__(self, "_office_numbers", numbers)
        for group in self.groups:
            for member in group.members:
                if member not in self._by_number and self.sites.link_for(member) is None:
                    raise ConfigError(f"group {group.name}: member {member!r} is no extension")
            if group.overflow is not None:
                self.check_destination(f"group {group.name} overflow", group.overflow)
        for menu in self.menus:
            for key, switch in menu.choices.items():
                self.check_switch(f"menu {menu.name} choice {key}", switch)
            self.check_destination(f"menu {menu.name} on_timeout", menu.on_timeout)
            self.check_destination(f"menu {menu.name} on_invalid", menu.on_invalid)

    def check_destination(self, what: str, dest: Destination) -> None:
        """ConfigError when ``dest`` names an extension, group or menu the plan lacks."""
        known: dict[str, Iterable[str]] = {
            "ext": self._by_number, "voicemail": self._by_number, "group": self._groups,
            "menu": self._menus}
        names = known.get(dest.kind)
        if names is not None and dest.target not in names:
            word = {"ext": "extension", "voicemail": "extension"}.get(dest.kind, dest.kind)
            raise ConfigError(f"{what}: no {word} named {dest.target!r}")

    def check_switch(self, what: str, switch: Switch) -> None:
        self.check_destination(what, switch.to)
        if switch.closed_to is not None:
            self.check_destination(f"{what} closed_to", switch.closed_to)
        if switch.schedule and switch.schedule not in self._schedules:
            raise ConfigError(f"{what}: no schedule named {switch.schedule!r}")

    def _index_routes(
        self, routes: Iterable[InboundRoute | LineRoute], kind: str
    ) -> dict[str, Extension]:
        index: dict[str, Extension] = {}
        seen: set[str] = set()
        for route in routes:
            key = route.did if isinstance(route, InboundRoute) else route.leg
            what = f"{'inbound' if kind == 'DID' else 'line'} route {key!r}"
            if key in seen:
                raise ConfigError(f"{what}: {kind} {key!r} is routed twice")
            seen.add(key)
            if route.switch is not None:
                self.check_switch(what, route.switch)
                continue
            if route.extension not in self._by_number:
                raise ConfigError(f"{what}: extension {route.extension!r} does not exist")
            index[key] = self._by_number[route.extension]
        return index

    def group(self, name: str) -> Group | None:
        return self._groups.get(name)

    def menu(self, name: str) -> Menu | None:
        return self._menus.get(name)

    def internal_numbers(self) -> list[str]:
        """Every number dialable inside: extensions, group and menu numbers."""
        return [*self._by_number, *self._office_numbers]

    @property
    def schedule_map(self) -> dict[str, Schedule]:
        return self._schedules

    def inbound_switch(self, leg: str, called: str) -> Switch | None:
        """Where a call arriving on ``leg`` for ``called`` goes, as a destination switch
        (an extension route is ``ext:N``); None when no route takes it."""
        route: InboundRoute | LineRoute | None
        if leg in self._line_routes:
            route = self._line_routes[leg]
        else:
            route = self._did_routes.get(called) or self._did_routes.get(ANY_DID)
        if route is None:
            return None
        if route.switch is not None:
            return route.switch
        return Switch(Destination("ext", route.extension))

    @property
    def dial_map(self) -> DigitMap:
        """The box's digit map (given, or built from the extensions and routes)."""
        assert self.digit_map is not None  # set in __post_init__
        return self.digit_map

    def extension(self, number: str) -> Extension | None:
        return self._by_number.get(number)

    def extension_on(self, leg: str) -> Extension | None:
        """The extension whose FXS line is ``leg``."""
        return self._by_leg.get(leg)

    def is_fxs(self, leg: str) -> bool:
        ext = self._by_leg.get(leg)
        return ext is not None and not ext.phone

    def feature_defaults(self, extension: str) -> LineFeatures:
        """A fresh copy of ``extension``'s configured forwarding and do-not-disturb."""
        for number, features in self.forwarding:
            if number == extension:
                return LineFeatures(**features.as_dict())  # type: ignore[arg-type]
        return LineFeatures()

    def is_phone(self, leg: str) -> bool:
        """True for the leg of an IP phone extension (``Extension.phone``)."""
        ext = self._by_leg.get(leg)
        return ext is not None and ext.phone

    def is_fxo(self, leg: str) -> bool:
        return leg in self._line_routes

    def is_line(self, leg: str) -> bool:
        """True for the box's analog ports (FXS and FXO); other legs are SIP, an IP
        phone's (``is_phone``) among them."""
        return self.is_fxs(leg) or leg in self._line_routes

    def trunk(self, name: str) -> Trunk | None:
        """The SIP trunk called ``name`` (None for an FXO line or an unknown name)."""
        return next((t for t in self.trunks if t.name == name), None)

    def resolve(self, number: str) -> ToExtension | ToGroup | ToMenu | ToTrunk | None:
        """Where a dialled number goes; None when nowhere."""
        ext = self._by_number.get(number)
        if ext is not None:
            return ToExtension(ext)
        office = self._office_numbers.get(number)
        if isinstance(office, Group):
            return ToGroup(office)
        if isinstance(office, Menu):
            return ToMenu(office)
        for route in self.outbound:
            if route.digit_map.fullmatch(number):
                return ToTrunk(route, route.translate(number))
        return None

    def inbound_target(self, leg: str, called: str) -> Extension | None:
        """The extension a call arriving on ``leg`` for ``called`` rings; None when none.
        An FXO line follows its line route; a SIP call its DID (exact, then ``*``)."""
        if leg in self._by_line:
            return self._by_line[leg]
        if leg in self._line_routes:
            return None
        route = self._did_routes.get(called) or self._did_routes.get(ANY_DID)
        return self._by_did.get(route.did) if route is not None else None
