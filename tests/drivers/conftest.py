"""Fixtures for the line-board backends: gpiozero's MockFactory, swapped in and always put
back, and a GPIO board built from the shipped Ag1171 profile."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from board_helpers import Signals
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from drivers.gpio import GpioBoard
from drivers.profile import BoardProfile, load_board_profile


@pytest.fixture(params=[MockPWMPin, MockPin], ids=["pwm", "nopwm"])
def pin_factory(request: pytest.FixtureRequest) -> Iterator[MockFactory]:
    """gpiozero's own mock pins, with PWM (hardware ring wave) and without (software)."""
    saved = Device.pin_factory
    factory = MockFactory(pin_class=request.param)
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def pwm_factory() -> Iterator[MockFactory]:
    saved = Device.pin_factory
    factory = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


@pytest.fixture
def gpio_profile() -> BoardProfile:
    return load_board_profile("ag1171-gpio-2p")


@pytest.fixture
def signals() -> Signals:
    return Signals()


@pytest.fixture
def board_factory(gpio_profile: BoardProfile, signals: Signals
                  ) -> Iterator[Callable[..., GpioBoard]]:
    """Builds started GPIO boards on a given pin factory and closes them afterwards."""
    boards: list[GpioBoard] = []

    def make(factory: MockFactory, clock: Callable[[], float] = time.monotonic) -> GpioBoard:
        board = GpioBoard(gpio_profile, pin_factory=factory, clock=clock)
        board.start(signals)
        boards.append(board)
        return board

    yield make
    for board in boards:
        board.close()
