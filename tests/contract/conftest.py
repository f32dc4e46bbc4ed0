"""The contract suite's one fixture: every test body runs once per line-board backend.

Each rig puts its backend in (a simulated board; gpiozero's MockFactory as the pin
factory; an emulated co-processor behind a pty) and always takes it out again, whatever
the test did. ``@pytest.mark.hook_timing(HookTiming(...))`` gives FXS 1 other windows
(its line and its port, as the daemon gives them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from firmware.lines import HookTiming
from tests.contract.rigs import TIMING, Rig, coproc_rig, gpio_rig, sim_rig

RIGS: dict[str, Callable[[HookTiming], AbstractContextManager[Rig]]] = {
    "sim": sim_rig,
    "gpio": gpio_rig,
    "coproc": coproc_rig,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hook_timing(timing): the HookTiming of FXS 1 in the contract rigs")


@pytest.fixture(params=list(RIGS), ids=list(RIGS))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    marker = request.node.get_closest_marker("hook_timing")
    timing = TIMING if marker is None else marker.args[0]
    with RIGS[request.param](timing) as r:
        yield r
        r.app.check()  # what failed on the app thread fails the test that caused it
