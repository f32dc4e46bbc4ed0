"""Pulse digits and flashes, from mock SHK pin edges through the GPIO FXS backend into the
firmware line layer's hook classifier (firmware/lines/hook.py).

The board runs on a fake clock, so each edge's instant is exactly what the test says it
is (the mock pin's own change time, converted to the board's clock). Every edge is
delivered raw; a 2 ms contact bounce on each make proves the classifier, not the backend,
debounces.
"""

from __future__ import annotations

import pytest
from board_helpers import FakeClock, Signals

from drivers.base import HookEdge
from drivers.gpio import GpioBoard
from drivers.profile import BoardProfile
from firmware.lines.hook import FlashOut, HookClassifier, HookSignal, OffHook, OnHook, PulseDigitOut
from firmware.lines.timing import HookTiming

SHK = 17
BOUNCE_MS = 2.0


class Handset:
    """Drives FXS 1's SHK pin on a fake clock: what a real handset's hook switch does."""

    def __init__(self, factory, clock: FakeClock) -> None:
        self.pin = factory.pin(SHK)
        self.clock = clock

    def make(self, ms: float, bounce: bool = True) -> None:
        """Close the loop, hold it ``ms`` (contact bounce at the start)."""
        self.pin.drive_high()
        if bounce:
            self.clock.advance_ms(BOUNCE_MS / 2)
            self.pin.drive_low()
            self.clock.advance_ms(BOUNCE_MS / 2)
            self.pin.drive_high()
            ms -= BOUNCE_MS
        self.clock.advance_ms(ms)

    def brk(self, ms: float) -> None:
        self.pin.drive_low()
        self.clock.advance_ms(ms)

    def dial(self, digit: int, break_ms: float, make_ms: float) -> None:
        for _ in range(digit or 10):
            self.brk(break_ms)
            self.make(make_ms)
        self.clock.advance_ms(800 - make_ms)  # the dial's rest before the next digit


@pytest.fixture
def rig(pwm_factory, gpio_profile: BoardProfile):
    clock = FakeClock()
    signals = Signals()
    board = GpioBoard(gpio_profile, pin_factory=pwm_factory, clock=clock)
    board.start(signals)
    try:
        yield Handset(pwm_factory, clock), signals, clock
    finally:
        board.close()


def classify(signals: Signals, until: float) -> list[HookSignal]:
    classifier = HookClassifier(HookTiming())
    out: list[HookSignal] = []
    for edge in signals.of(HookEdge):
        assert isinstance(edge, HookEdge) and not edge.debounced and edge.port == 1
        out += classifier.edge(edge.offhook, edge.at, debounced=edge.debounced)
    return out + classifier.poll(until)


def digits(out: list[HookSignal]) -> str:
    return "".join(s.digit for s in out if isinstance(s, PulseDigitOut))


@pytest.mark.parametrize("break_ms, make_ms", [(60, 40), (67, 33)], ids=["60-40", "67-33"])
def test_pulse_digits_at_10pps(rig, break_ms: float, make_ms: float) -> None:
    handset, signals, clock = rig
    handset.make(1000)  # lift
    for d in (3, 0, 7):
        handset.dial(d, break_ms, make_ms)
    out = classify(signals, clock.now)
    assert isinstance(out[0], OffHook)
    assert digits(out) == "307"
    assert not any(isinstance(s, OnHook | FlashOut) for s in out)
    # Raw means raw: the bounces reached the sink too.
    assert len(signals.of(HookEdge)) > 2 * (3 + 10 + 7)


@pytest.mark.parametrize("break_ms, expect", [
    (97, None),        # above the pulse window, below the flash window: a glitch
    (103, "flash"),    # just inside flash_min (100 ms)
    (895, "flash"),    # just inside flash_max (900 ms)
    (910, "onhook"),   # past flash_max: a hang-up, then a new off-hook
], ids=["97ms-glitch", "103ms-flash", "895ms-flash", "910ms-hangup"])
def test_flash_window_edges(rig, break_ms: float, expect: str | None) -> None:
    handset, signals, clock = rig
    handset.make(1000)
    handset.brk(break_ms)
    handset.make(1000)
    out = classify(signals, clock.now)
    kinds = [type(s).__name__ for s in out]
    if expect is None:
        assert kinds == ["OffHook"]
    elif expect == "flash":
        assert kinds == ["OffHook", "FlashOut"]
    else:
        assert kinds == ["OffHook", "OnHook", "OffHook"]
