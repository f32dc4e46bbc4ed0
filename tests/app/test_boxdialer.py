"""The box's dialer over the real exchange (unit test, no pjsua2): free channels per way
out (FXO lines, a trunk's max_calls, the SIP call slots), and a campaign that never takes
the last channel nor goes past the SIP call limit, however high its --parallel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.app.boxdialer import BoxDialer
from firmware.app.dialer import PLENTY
from firmware.app.informer import Informer
from firmware.config.schema import InformConfig
from firmware.core.events import Release, Setup
from firmware.pbx.calls import Originated
from firmware.pbx.exchange import Exchange
from firmware.pbx.informer import Settings
from firmware.pbx.plan import DialPlan, Extension, LineRoute, OutboundRoute, Trunk

MAX_SIP = 4


class FakeBox:
    """The Box's queue as the dialer uses it: outputs are kept; Setups to SIP legs are
    the SIP calls (the adapter would place them)."""

    def __init__(self, plan: DialPlan) -> None:
        self.exchange = Exchange(plan)
        self.on_originated: Callable[[Originated], None] | None = None
        self.sip_legs: set[str] = set()
        self.outs: list[Any] = []

    def send_down(self, outs: list[Any]) -> None:
        for out in outs:
            self.outs.append(out)
            if isinstance(out, Originated) and self.on_originated is not None:
                self.on_originated(out)
            elif isinstance(out, Setup) and not self.exchange.plan.is_line(out.leg):
                self.sip_legs.add(out.leg)
            elif isinstance(out, Release):
                self.sip_legs.discard(out.leg)


PLAN = DialPlan(
    extensions=(Extension("101", "fxs1", "Reception"),),
    trunks=(Trunk("itsp"), Trunk("small", max_calls=2)),
    outbound=(OutboundRoute("9", "itsp", strip=1), OutboundRoute("8", "small", strip=1),
              OutboundRoute("7", ("fxo1", "fxo2"), strip=1)),
    lines=(LineRoute("fxo1", "101"), LineRoute("fxo2", "101")))


def dialer_for(box: FakeBox, loop: asyncio.AbstractEventLoop) -> BoxDialer:
    return BoxDialer(box, loop, lambda: len(box.sip_legs), MAX_SIP)


def test_free_channels_of_each_way_out() -> None:
    loop = asyncio.new_event_loop()
    try:
        box = FakeBox(PLAN)
        dialer = dialer_for(box, loop)
        assert dialer.free_channels("101") == PLENTY  # an extension's own line
        assert dialer.free_channels("95551234") == MAX_SIP  # no trunk limit: the SIP slots
        assert dialer.free_channels("85551234") == 2  # the trunk's max_calls
        assert dialer.free_channels("75551234") == 2  # two idle PSTN lines
        box.sip_legs.update({"x1", "x2", "x3"})  # people's SIP calls
        dialer.hangup("nothing")  # (forgets the counts, as any call of ours does)
        assert dialer.free_channels("95551234") == 1
        assert dialer.free_channels("85551234") == 1
    finally:
        loop.close()


def test_a_campaign_never_takes_the_last_sip_slot(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        box = FakeBox(PLAN)
        dialer = dialer_for(box, loop)
        informer = Informer(tmp_path, dialer, lambda: InformConfig(reserve=1))
        numbers = ",".join(f"9555{i:04d}" for i in range(8))
        informer.begin("many", numbers, Settings(message=("builtin:notice",), parallel=8))
        informer.tick()
        assert len(box.sip_legs) == MAX_SIP - 1  # 3 of the 4 SIP calls; one for people
        assert informer.status("many")["calling"] == 3
        box.sip_legs.add("people")  # someone calls out meanwhile: 4 of 4 slots in use
        dialer.hangup("orig1")  # a campaign call ends: its slot is the last free one...
        informer.tick()
        assert len(box.sip_legs) == MAX_SIP - 1
        assert informer.status("many")["calling"] == 2  # ...and it is left to people
        box.sip_legs.discard("people")
        dialer.hangup("nothing")
        informer.tick()
        assert informer.status("many")["calling"] == 3
    finally:
        loop.close()
