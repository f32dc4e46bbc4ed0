"""The pure routing core: dial plan, digit maps, call control between legs, call records.

Sans-IO: events and the current time go in (:meth:`Exchange.handle`, :meth:`Exchange.poll`),
events for the legs and the media switch come out, with ``Exchange.next_deadline``.
Imports only ``firmware.core``.

- ``digitmap``: ATA-style digit maps (when has the caller dialled enough?)
- ``plan``: the dial plan model and its checks; where a number goes
- ``exchange``: the Exchange, its legs and timers; ``states``/``actions``: what a call does
- ``calls``: the per-call record and status snapshots; ``cdr``: call detail records
- ``tollguard``: who may use a trunk (origin, permission classes, limits, spending guard)
  and which failures make a route try its next trunk
"""

from firmware.pbx.calls import CallInfo, LegState, PbxOutput
from firmware.pbx.cdr import CallRecord, Disposition
from firmware.pbx.digitmap import DigitMap, Match, Outcome
from firmware.pbx.exchange import Exchange
from firmware.pbx.plan import (
    DialPlan,
    Extension,
    InboundRoute,
    LineRoute,
    OutboundRoute,
    Timers,
    Trunk,
)
from firmware.pbx.tollguard import NumberingPlan, Origin, Permission, TollGuard

__all__ = [
    "CallInfo",
    "CallRecord",
    "DialPlan",
    "DigitMap",
    "Disposition",
    "Exchange",
    "Extension",
    "InboundRoute",
    "LegState",
    "LineRoute",
    "Match",
    "NumberingPlan",
    "Origin",
    "OutboundRoute",
    "Outcome",
    "PbxOutput",
    "Permission",
    "Timers",
    "TollGuard",
    "Trunk",
]
