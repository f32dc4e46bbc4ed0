"""The contract suite's one fixture: every test body runs once per line-board backend.

Each rig puts its backend in (a simulated board; gpiozero's MockFactory as the pin
factory; an emulated co-processor behind a pty) and always takes it out again, whatever
the test did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from tests.contract.rigs import Rig, coproc_rig, gpio_rig, sim_rig

RIGS: dict[str, Callable[[], AbstractContextManager[Rig]]] = {
    "sim": sim_rig,
    "gpio": gpio_rig,
    "coproc": coproc_rig,
}


@pytest.fixture(params=list(RIGS), ids=list(RIGS))
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    with RIGS[request.param]() as r:
        yield r
        r.app.check()  # what failed on the app thread fails the test that caused it
