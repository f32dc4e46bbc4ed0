"""Drive a sans-IO line machine through a timed script, the way the application does.

Times in a script are milliseconds after ``START``; steps run in time order. Before each
input the driver polls every deadline that falls strictly before it (an input at the same
instant goes first, as an edge delivered on time would); after the last input it polls up
to ``until_ms``. Each output is
logged with the millisecond at which the machine gave it. After every poll the machine's
next deadline must lie after ``now``, or an application loop would spin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from firmware.core.clock import FakeClock
from firmware.lines.timing import elapsed_ms

START = 1000.0


def t(ms: float) -> float:
    """The instant ``ms`` milliseconds after START."""
    return START + ms / 1000.0


class Machine(Protocol):
    @property
    def next_deadline(self) -> float | None: ...

    def poll(self, now: float) -> Sequence[Any]: ...


Step = tuple[float, Callable[[float], Sequence[Any]]]
Log = list[tuple[float, Any]]


def drive(machine: Machine, script: Sequence[Step], until_ms: float) -> Log:
    clock = FakeClock(START)
    log: Log = []

    def record(outputs: Sequence[Any]) -> None:
        log.extend((elapsed_ms(START, clock.now()), o) for o in outputs)

    def move_to(at: float) -> None:
        if at > clock.now():
            clock.advance(at - clock.now())

    def run_timers(limit: float, strict: bool) -> None:
        for _ in range(10_000):
            deadline = machine.next_deadline
            if deadline is None:
                return
            gap = elapsed_ms(deadline, limit)
            if gap < 0 or (strict and gap == 0):
                return
            move_to(deadline)
            record(machine.poll(clock.now()))
            after = machine.next_deadline
            assert after is None or elapsed_ms(clock.now(), after) > 0, (
                f"poll at {clock.now()} left the deadline at {after}")
        raise AssertionError("the machine keeps asking for polls")

    for ms, step in sorted(script, key=lambda s: s[0]):  # stable: same-instant order kept
        run_timers(t(ms), strict=True)
        move_to(t(ms))
        record(step(clock.now()))
    run_timers(t(until_ms), strict=False)
    return log
