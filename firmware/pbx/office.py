"""The office's plan data: hunt groups and voice menus (checked when built).

Hunt group strategies (the order members are rung in; see ``hunt`` for the calls):

==============  ===========================================================================
ringall         every free member rings at once; the first to answer takes the call and the
                others stop at once (released with NON_SELECTED_USER_CLEARING, "answered
                elsewhere")
linear          one member at a time, in the order given, always from the first
circular        one at a time; each new call starts one member further than the last call
roundrobin      one at a time, starting after the member who answered the group's last call
leastrecent     one at a time, the member who answered a group call longest ago (or never)
                first; ties in the order given
==============  ===========================================================================

Sequential strategies ring each member ``ring_s``. A busy member is passed at once with
``skip_busy`` (else the caller waits out that member's ``ring_s``). Without a queue the
hunt goes round the members until ``total_s`` (0: once round; ringall rings ``total_s``,
or ``ring_s`` when 0), then to ``overflow`` (none: the caller is told no answer; when every
member was busy: busy). With ``queue``, a caller who finds every member busy waits, in
order of arrival, hearing ``builtin:please_hold`` (after the position, with
``announce_position``) then ``builtin:music`` looped, while free members are rung for the
head of the queue; ``max_wait_s`` (0: no limit) counts the caller's whole wait from
arrival and ends in ``overflow``; a caller beyond ``max_callers`` (0: no limit) waiting
goes to ``overflow`` at once. With ``announce_position`` and ``announce_every_s`` (0: on
arrival only), a waiting caller hears their place again every ``announce_every_s``.

Menus: see ``ivr``. ``choices`` maps a key (one or more keypad symbols) to a
:class:`~firmware.pbx.schedules.Switch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from firmware.core.destinations import HANGUP, Destination
from firmware.core.errors import ConfigError
from firmware.pbx.digitmap import SYMBOLS
from firmware.pbx.schedules import Switch

Strategy = Literal["ringall", "linear", "circular", "roundrobin", "leastrecent"]
STRATEGIES: tuple[str, ...] = ("ringall", "linear", "circular", "roundrobin", "leastrecent")


@dataclass(frozen=True)
class Group:
    name: str
    number: str = ""  # dialable internally ("" = only by destination)
    members: tuple[str, ...] = ()  # extension numbers, in order
    strategy: Strategy = "ringall"
    ring_s: float = 15.0
    total_s: float = 60.0
    overflow: Destination | None = None
    skip_busy: bool = True
    queue: bool = False
    max_wait_s: float = 300.0
    max_callers: int = 0
    announce_position: bool = False
    announce_every_s: float = 0.0

    def __post_init__(self) -> None:
        what = f"group {self.name}"
        if not self.members:
            raise ConfigError(f"{what}: list at least one member extension")
        if len(set(self.members)) != len(self.members):
            raise ConfigError(f"{what}: members {list(self.members)} name one twice")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"{what}: strategy {self.strategy!r}; use one of "
                              f"{', '.join(STRATEGIES)}")
        if self.ring_s <= 0 or min(self.total_s, self.max_wait_s, self.max_callers,
                                   self.announce_every_s) < 0:
            raise ConfigError(f"{what}: ring_s must be positive; total_s, max_wait_s, "
                              "max_callers and announce_every_s 0 or more")

    @property
    def label(self) -> str:
        """The name shown on a member's phone: "Sales" for group sales."""
        return self.name[:1].upper() + self.name[1:]


@dataclass(frozen=True)
class Menu:
    name: str
    prompt: str  # a prompt reference: builtin:NAME, file:NAME, say:LANG:TEXT
    number: str = ""
    language: str = ""
    choices: Mapping[str, Switch] = field(default_factory=dict)
    dial_extensions: bool = True
    timeout_s: float = 5.0
    repeats: int = 2
    on_timeout: Destination = HANGUP
    on_invalid: Destination = HANGUP

    def __post_init__(self) -> None:
        what = f"menu {self.name}"
        if not self.prompt:
            raise ConfigError(f"{what}: the prompt is empty")
        for key in self.choices:
            if not key or any(c not in SYMBOLS for c in key):
                raise ConfigError(f"{what}: choice key {key!r}; use keypad symbols "
                                  "0-9 * # A-D")
        if self.timeout_s <= 0 or self.repeats < 0:
            raise ConfigError(f"{what}: timeout_s must be positive and repeats 0 or more")

    def __hash__(self) -> int:
        return hash((self.name, self.prompt, self.number))


@dataclass
class GroupMemory:
    """What a group remembers between calls: where circular starts next, who answered
    last (roundrobin), and when each member last answered (leastrecent)."""

    next_start: int = 0
    last_answered: int = -1
    answered_at: dict[str, float] = field(default_factory=dict)


def hunt_order(group: Group, memory: GroupMemory) -> list[str]:
    """The members in the order a new call (or a new round) rings them."""
    members = list(group.members)
    n = len(members)
    if group.strategy == "circular":
        start = memory.next_start % n
        memory.next_start = (start + 1) % n
        return members[start:] + members[:start]
    if group.strategy == "roundrobin":
        start = (memory.last_answered + 1) % n
        return members[start:] + members[:start]
    if group.strategy == "leastrecent":
        return sorted(members, key=lambda m: (memory.answered_at.get(m, float("-inf")),
                                              members.index(m)))
    return members
