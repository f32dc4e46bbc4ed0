"""An office for the hunt group, menu and originate tests: five handsets, groups, menus."""

from __future__ import annotations

from firmware.core.events import Answer, Party, Setup
from firmware.pbx.calls import PbxOutput
from firmware.pbx.destinations import parse_destination
from firmware.pbx.office import Group, Menu
from firmware.pbx.plan import DialPlan, Extension, InboundRoute, LineRoute, OutboundRoute, Trunk
from firmware.pbx.schedules import Schedule, Switch, parse_hours

from .office import TIMERS, Driver

EXTS = tuple(Extension(f"10{i}", f"fxs{i}", f"Ext {i}") for i in range(1, 6))
MEMBERS = ("102", "103", "104")
CALLER = Party("5557777", "Dave")


def d(text: str) -> object:
    return parse_destination(text)


def office_plan(*groups: Group, menus: tuple[Menu, ...] = (),
                inbound_to: str = "group:sales", **changes: object) -> DialPlan:
    fields: dict[str, object] = {
        "extensions": EXTS,
        "trunks": (Trunk("itsp"),),
        "outbound": (OutboundRoute("9", "itsp", strip=1),),
        "inbound": (InboundRoute("*", switch=Switch(parse_destination(inbound_to))),),
        "lines": (LineRoute("fxo1", switch=Switch(parse_destination(inbound_to))),),
        "timers": TIMERS,
        "groups": groups or (Group("sales", "600", MEMBERS),),
        "menus": menus,
        "schedules": (Schedule("office", hours=parse_hours("09:00-17:00"),
                               timezone="UTC"),),
    }
    fields.update(changes)
    return DialPlan(**fields)  # type: ignore[arg-type]


def driver(*groups: Group, **kw: object) -> Driver:
    return Driver(office_plan(*groups, **kw))  # type: ignore[arg-type]


def setups(out: list[PbxOutput]) -> list[str]:
    """The legs rung (Setup sent to) in ``out``, in order."""
    return [o.leg for o in out if isinstance(o, Setup)]


def call_in(drv: Driver, leg: str = "sip1", called: str = "5550100") -> list[PbxOutput]:
    return drv.send(Setup(leg, called, CALLER))


def answer(drv: Driver, leg: str) -> list[PbxOutput]:
    return drv.send(Answer(leg))
