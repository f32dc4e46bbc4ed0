"""A small office for the routing core tests, and an exchange driven by a FakeClock."""

from __future__ import annotations

from firmware.core.clock import FakeClock
from firmware.core.events import CallEvent, Digit, LegId
from firmware.pbx.calls import PbxOutput
from firmware.pbx.digitmap import DigitMap
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
from firmware.pbx.tollguard import Permission

ALICE = Extension("101", "fxs1", "Alice")
# Bob may call abroad (the office's international scenarios dial from his port).
BOB = Extension("102", "fxs2", "Bob", outbound_caller_id="5550102",
                permission=Permission.INTERNATIONAL)
CAROL = Extension("103", "fxs3", "Carol")

TIMERS = Timers(first_digit_s=15, interdigit_s=4, no_answer_s=60, busy_tone_s=30, howler_s=60)


def office_plan(**changes: object) -> DialPlan:
    """Three handsets, one SIP trunk, one FXO line; ``changes`` replace DialPlan fields."""
    fields: dict[str, object] = {
        "extensions": (ALICE, BOB, CAROL),
        "trunks": (Trunk("itsp"),),
        "outbound": (
            # 9 for a local line: 9 5551234 goes out as 5551234.
            OutboundRoute("9", "itsp", strip=1),
            # International: 00 49 30... goes out as +4930...
            OutboundRoute(DigitMap.parse("00xx.T"), "itsp", strip=2, prepend="+"),
        ),
        "inbound": (InboundRoute("5550100", "101"), InboundRoute("*", "102")),
        "lines": (LineRoute("fxo1", "103"),),
        "timers": TIMERS,
    }
    fields.update(changes)
    return DialPlan(**fields)  # type: ignore[arg-type]


class Driver:
    """An Exchange and a FakeClock: send events at the clock's time, move time, poll."""

    def __init__(self, plan: DialPlan) -> None:
        self.clock = FakeClock()
        self.pbx = Exchange(plan)

    @property
    def now(self) -> float:
        return self.clock.now()

    def send(self, event: CallEvent) -> list[PbxOutput]:
        return self.pbx.handle(event, self.clock.now())

    def dial(self, leg: LegId, digits: str) -> list[PbxOutput]:
        out: list[PbxOutput] = []
        for digit in digits:
            out += self.send(Digit(leg, digit))
        return out

    def advance(self, seconds: float) -> list[PbxOutput]:
        return self.pbx.poll(self.clock.advance(seconds))
