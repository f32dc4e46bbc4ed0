"""Who may use a trunk: the one decision every call that would leave the box goes through.

:meth:`TollGuard.decide` answers "may this call, from this origin, leave through trunk T
with this number?" for every way out (a dialled route today; menus, forwarding, groups and
an inbound route with a ``dial`` destination when they come must call it too). Its rules:

1. Origin. A call that came in from a trunk or a PSTN line (an :class:`Origin` of kind
   ``trunk`` or ``line``) never leaves through a trunk or line unless the route that
   carries it grants it a permission (``Origin.permission``); by default it has none
   (``None``), so nothing an outside caller does (a DID that looks like an outside number,
   a ``*`` DID, digits sent after answer) can reach a trunk. A port (a handset) has the
   permission class its configuration gives (default ``national``).
2. Class. The number *as the trunk gets it* (after the route's strip and prepend) is
   classed with the country's :class:`NumberingPlan`: emergency numbers always pass;
   otherwise ``internal < local < national < international < premium``, and a class
   allows itself and the classes below it. Refused: cause OUTGOING_CALL_BARRED.
3. Limits. A port may have at most ``max_outbound_calls`` calls out at once (0: no limit;
   the seam for groups and for ports that hold more than one call): refused with
   OUTGOING_CALL_BARRED. A trunk carries at most ``max_calls`` (0: no limit): that trunk is
   *full* (NO_CIRCUIT_AVAILABLE) and the route tries its next trunk.
4. Spending. International and premium calls share a budget of conversation minutes in any
   rolling hour (``max_international_minutes_per_hour``, 0: no limit), counting the calls
   still in progress. Once it is used up, new international and premium calls are refused
   (OUTGOING_CALL_BARRED) until the window lets minutes go; calls in progress go on.
   The change both ways is logged once, and :meth:`TollGuard.status` shows it.

Failover (which causes make a route try its next trunk) is here too, as
:func:`tries_next_trunk`: causes that say *the way* failed (RFC 3398 maps 503, 408, 500,
502, 504 and 488 to them) try the next trunk; causes about *the callee* (busy, no answer,
rejected, unallocated, invalid number) end the call, since any trunk reaches the same
callee. Nothing here reads a clock: ``now`` is given.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from firmware.core.causes import Cause
from firmware.core.errors import ConfigError

logger = logging.getLogger(__name__)

WINDOW_S = 3600.0
"""The spending guard's rolling window."""


class Permission(enum.IntEnum):
    """Number classes, cheapest first; a port's permission allows its class and those below."""

    INTERNAL = 0
    LOCAL = 1
    NATIONAL = 2
    INTERNATIONAL = 3
    PREMIUM = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Permission:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(p.label for p in cls)
            raise ConfigError(f"permission {text!r}: use one of {names}") from None


DEFAULT_PERMISSION = Permission.NATIONAL
COSTLY = (Permission.INTERNATIONAL, Permission.PREMIUM)
"""The classes the spending guard counts and stops."""


@dataclass(frozen=True)
class NumberingPlan:
    """A country's prefixes (firmware/dsp/countries/*.toml ``[numbers]``), for classing."""

    country_code: str = ""
    trunk_prefix: str = ""
    international: tuple[str, ...] = ()
    premium: tuple[str, ...] = ()
    national: tuple[str, ...] = ()
    emergency: tuple[str, ...] = ()

    def national_form(self, number: str) -> str:
        """A number in E.164 form (``+CC...``) as dialled in the country: the own country
        code becomes the trunk prefix, any other becomes the international prefix."""
        if not number.startswith("+"):
            return number
        rest = number[1:]
        if self.country_code and rest.startswith(self.country_code):
            return self.trunk_prefix + rest[len(self.country_code):]
        return (self.international[0] if self.international else "00") + rest

    def classify(self, number: str) -> tuple[Permission, bool]:
        """The class of ``number`` (as sent to the trunk) and whether it is an emergency
        number. Premium prefixes are tried first (a premium range may sit inside the
        national one), then international, national; anything else is local."""
        if number.startswith("+") and not (
            self.country_code and number[1:].startswith(self.country_code)
        ):
            return Permission.INTERNATIONAL, False
        dialled = self.national_form(number)
        if dialled in self.emergency:
            return Permission.LOCAL, True
        for klass, prefixes in (
            (Permission.PREMIUM, self.premium),
            (Permission.INTERNATIONAL, self.international),
            (Permission.NATIONAL, self.national),
        ):
            if any(dialled.startswith(p) for p in prefixes):
                return klass, False
        return Permission.LOCAL, False


# Groups (hunt/ring groups, when they come) are the seam for a per-group class and limit:
# a call a group member makes carries an Origin built from the group's settings, so the
# decision below stays the one place that says who may leave.
# "app": a call the box places itself (the auto-informer, the call-back: firmware/pbx/
# originate.py), with the permission its feature's configuration gives.
OriginKind = Literal["port", "trunk", "line", "app"]


@dataclass(frozen=True)
class Origin:
    """Where a call came from: a handset's port (``fxs1``), a SIP trunk, or a PSTN line.
    ``permission`` is the farthest class it may dial out to (None: not out at all)."""

    kind: OriginKind
    name: str
    permission: Permission | None
    max_outbound_calls: int = 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    cause: Cause = Cause.NORMAL_CLEARING
    reason: str = ""
    klass: Permission | None = None
    next_trunk: bool = False  # refused by this trunk only: try the route's next one


@dataclass(frozen=True)
class OutboundCall:
    """A call out in progress, as the exchange reports it to the guard."""

    origin: str
    trunk: str
    klass: Permission | None
    answered: float | None


@dataclass
class SpendingGuard:
    """Minutes of answered international and premium calls in the last ``WINDOW_S``."""

    finished: list[tuple[float, float]] = field(default_factory=list)
    blocked: bool = False

    def add(self, answered: float, ended: float) -> None:
        self.finished.append((answered, ended))

    def used_minutes(self, now: float, running: Iterable[float]) -> float:
        start = now - WINDOW_S
        self.finished = [(a, e) for a, e in self.finished if e > start]
        seconds = sum(e - max(a, start) for a, e in self.finished)
        seconds += sum(now - max(a, start) for a in running if a <= now)
        return seconds / 60.0

    def update(self, now: float, running: Iterable[float], limit: float) -> float:
        """The minutes used; logs when the guard starts or stops refusing calls."""
        used = self.used_minutes(now, running)
        blocked = limit > 0 and used >= limit
        if blocked != self.blocked:
            self.blocked = blocked
            if blocked:
                logger.warning(
                    "spending guard: %.1f international/premium minutes in the last hour "
                    "reached the limit of %g; new international and premium calls are "
                    "refused until the hour's window frees minutes", used, limit)
            else:
                logger.warning(
                    "spending guard lifted: %.1f of %g international/premium minutes used "
                    "in the last hour", used, limit)
        return used


# Causes that say the way out failed, not the callee (Q.850 classes "network" and
# "resource unavailable"; RFC 3398 8.2.6.1 maps 500/503 -> 41/34, 502 -> 38, 408/504 -> 102,
# 488 -> 58), and the ones the box itself uses for a trunk it cannot use.
_NEXT_TRUNK_CAUSES = frozenset({
    Cause.NO_CIRCUIT_AVAILABLE,
    Cause.NETWORK_OUT_OF_ORDER,
    Cause.TEMPORARY_FAILURE,
    Cause.SWITCHING_EQUIPMENT_CONGESTION,
    Cause.BEARER_NOT_AVAILABLE,
    Cause.RECOVERY_ON_TIMER_EXPIRY,
    Cause.INTERWORKING,
})


def _costly_running(calls: list[OutboundCall]) -> list[float]:
    """When each answered international or premium call in progress was answered."""
    return [c.answered for c in calls if c.klass in COSTLY and c.answered is not None]


def tries_next_trunk(cause: Cause) -> bool:
    """Whether a trunk's failure with ``cause`` (before answer) moves to the next trunk."""
    return cause in _NEXT_TRUNK_CAUSES


class TollGuard:
    """The decision and the spending memory; the limits come from the plan each time."""

    def __init__(self) -> None:
        self.spending = SpendingGuard()

    def decide_number(
        self,
        origin: Origin,
        number: str,
        numbering: NumberingPlan,
        calls: list[OutboundCall],
        minutes_per_hour: float,
        now: float,
    ) -> Decision:
        """Rules 1, 2, the port limit and rule 4: whether ``origin`` may call ``number``
        out at all (through any trunk)."""
        if origin.permission is None:
            reason = (f"denied: calls from {origin.kind} {origin.name} may not leave through "
                      "a trunk (inbound routes ring extensions only)")
            return Decision(False, Cause.OUTGOING_CALL_BARRED, reason)
        klass, emergency = numbering.classify(number)
        if emergency:
            return Decision(True, klass=klass, reason=f"{number} is an emergency number")
        if klass > origin.permission:
            reason = (f"denied: class {klass.label} needs permission {klass.label}, "
                      f"{origin.kind} {origin.name} has {origin.permission.label}")
            return Decision(False, Cause.OUTGOING_CALL_BARRED, reason, klass)
        mine = sum(1 for c in calls if c.origin == origin.name)
        if origin.max_outbound_calls and mine >= origin.max_outbound_calls:
            reason = (f"denied: {origin.kind} {origin.name} has {mine} calls out, its "
                      f"max_outbound_calls is {origin.max_outbound_calls}")
            return Decision(False, Cause.OUTGOING_CALL_BARRED, reason, klass)
        if klass in COSTLY:
            used = self.spending.update(now, _costly_running(calls), minutes_per_hour)
            if self.spending.blocked:
                reason = (f"denied: spending guard, {used:.1f} of {minutes_per_hour:g} "
                          f"international/premium minutes used in the last hour")
                return Decision(False, Cause.OUTGOING_CALL_BARRED, reason, klass)
        return Decision(True, klass=klass)

    @staticmethod
    def decide_trunk(trunk: str, max_calls: int, calls: list[OutboundCall]) -> Decision:
        """Rule 3 for one trunk: full trunks are skipped (the route tries the next)."""
        busy = sum(1 for c in calls if c.trunk == trunk)
        if max_calls and busy >= max_calls:
            reason = f"trunk {trunk} is full ({busy} calls, max_calls {max_calls})"
            return Decision(False, Cause.NO_CIRCUIT_AVAILABLE, reason, next_trunk=True)
        return Decision(True)

    def status(
        self, calls: list[OutboundCall], minutes_per_hour: float, now: float
    ) -> dict[str, object]:
        used = self.spending.update(now, _costly_running(calls), minutes_per_hour)
        per_trunk: dict[str, int] = {}
        for c in calls:
            per_trunk[c.trunk] = per_trunk.get(c.trunk, 0) + 1
        return {
            "calls_out": per_trunk,
            "international_minutes_last_hour": round(used, 2),
            "max_international_minutes_per_hour": minutes_per_hour,
            "international_blocked": self.spending.blocked,
        }
