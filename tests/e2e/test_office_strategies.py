"""Each sequential strategy's order on the simulated board: two sipp calls one after the
other into the group; the first is answered by the first member rung, and the member the
second call rings first shows the strategy (ringall is in test_office_group.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers
from tests.e2e.test_office_group import call, office, ringing

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("strategy", "second_first"), [
    ("linear", 2),        # always from the first member
    ("circular", 3),      # each call starts one member further
    ("roundrobin", 3),    # after the member who answered last (102)
    ("leastrecent", 3),   # 102 answered most recently; 103 and 104 never did
])
def test_the_second_call_starts_where_the_strategy_says(
        daemon_factory: Callable[..., Daemon], peers: Peers, strategy: str,
        second_first: int) -> None:
    box = office(daemon_factory, strategy=strategy, ring_s=30.0)
    first = call(peers, box, "5557001", hold_ms=500)
    box.wait_for("member 102 to ring first", lambda: ringing(box) == {2}, timeout=15)
    box.phone(2, "offhook")
    assert first.wait(20) == 0, first.describe()
    box.phone(2, "onhook")
    box.wait_for("the first call to end", lambda: not box.call("status")["calls"])
    second = call(peers, box, "5557002", hold_ms=500)
    box.wait_for(f"member 10{second_first} to ring first",
                 lambda: ringing(box) == {second_first}, timeout=15)
    box.phone(second_first, "offhook")
    assert second.wait(20) == 0, second.describe()
