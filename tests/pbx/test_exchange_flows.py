"""Call flows through the exchange, as exact output sequences (see scenarios.py)."""

from __future__ import annotations

import pytest

from firmware.core.causes import Cause
from firmware.core.events import Party, Release, Seize, Setup, Tone
from firmware.pbx.digitmap import DigitMap

from .office import Driver, office_plan
from .scenarios import SCENARIOS, Step, run


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario(drv: Driver, steps: list[Step]) -> None:
    run(drv, steps)
    assert drv.pbx.calls() == []
    assert drv.pbx.next_deadline is None
    for leg in ("fxs1", "fxs2", "fxs3", "fxo1"):
        assert drv.pbx.leg_state(leg) == "idle"


def test_unknown_number_that_fits_the_map_gives_congestion() -> None:
    drv = Driver(office_plan(digit_map=DigitMap.parse("1xx")))
    assert drv.send(Seize("fxs1")) == [Tone("fxs1", "dial")]
    assert drv.dial("fxs1", "104") == [Tone("fxs1", None), Tone("fxs1", "congestion")]
    assert drv.pbx.leg_state("fxs1") == "off-hook"


def test_sip_call_in_to_an_unknown_number() -> None:
    drv = Driver(office_plan(inbound=()))
    setup = Setup("sip7", "5550100", Party("5551234", "Dave"))
    assert drv.send(setup) == [Release("sip7", Cause.UNALLOCATED_NUMBER)]
    assert drv.pbx.calls() == []
