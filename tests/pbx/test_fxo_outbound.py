"""An outbound route may name a PSTN line ("fxo1"): the FXO port is a trunk of one channel."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import Answer, Bridge, Party, Release, Seize, Setup, Tone
from firmware.pbx.plan import OutboundRoute
from tests.pbx.office import ALICE, BOB, CAROL, Driver, office_plan


def fxo_driver() -> Driver:
    return Driver(office_plan(extensions=(ALICE, BOB, CAROL),
                              outbound=(OutboundRoute("8", "fxo1", strip=1),)))


def test_route_to_a_line_sets_up_the_line_itself() -> None:
    drv = fxo_driver()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "85551234#")
    assert out[-1] == Setup("fxo1", "5551234", Party(None, "Alice"))
    assert drv.send(Answer("fxo1")) == [Tone("fxs1", None), Bridge("fxs1", "fxo1")]


def test_a_busy_line_gives_congestion() -> None:
    drv = fxo_driver()
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "85551234#")
    drv.send(Seize("fxs2"))
    out = drv.dial("fxs2", "8555#")
    assert Tone("fxs2", "congestion") in out
    assert not any(isinstance(o, Setup) for o in out)


def test_the_line_failing_releases_with_congestion() -> None:
    drv = fxo_driver()
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "85551234#")
    out = drv.send(Release("fxo1", Cause.NO_CIRCUIT_AVAILABLE))
    assert Tone("fxs1", "congestion") in out
