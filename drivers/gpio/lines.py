"""GPIO lines over gpiozero: inputs that report raw edges with their instants, outputs.

Inputs use :class:`gpiozero.InputDevice` (not ``DigitalInputDevice``) and hook the pin's
``when_changed`` directly, because that callback carries the factory's tick of the edge:
converted to ``time.monotonic()`` it gives the instant the edge happened, not the instant
Python got round to it. No ``bounce_time``: the line layer debounces with the standard's
windows, and mock pins ignore it anyway.

Each line is active high unless the profile lists it as active low. An active-low input is
pulled up (an optocoupler's open collector), an active-high one pulled down, so a
disconnected input reads inactive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from gpiozero import DigitalOutputDevice, InputDevice, PWMOutputDevice
from gpiozero.exc import PinPWMError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
EdgeCallback = Callable[[bool, float], None]  # (active, monotonic instant)


class InputLine:
    def __init__(self, pin: int, *, name: str, active_low: bool, factory: object | None,
                 clock: Clock, on_edge: EdgeCallback) -> None:
        self.name = name
        self.bcm = pin
        self._active_low = active_low
        self._clock = clock
        self._on_edge = on_edge
        self._dev = InputDevice(pin, pull_up=active_low, pin_factory=factory)
        self._pin = self._dev.pin
        self._factory = self._pin.factory
        self._pin.edges = "both"
        self._pin.when_changed = self._changed  # gpiozero keeps a weak reference

    @property
    def active(self) -> bool:
        return bool(self._pin.state) != self._active_low

    def _changed(self, ticks: object, state: object) -> None:
        now = self._clock()
        try:
            age = float(self._factory.ticks_diff(self._factory.ticks(), ticks))
        except (TypeError, ValueError):
            age = 0.0
        # A late callback is fine; an edge from the future is a clock mix-up: clamp.
        at = now - age if 0.0 <= age < 1.0 else now
        self._on_edge(bool(state) != self._active_low, at)

    def close(self) -> None:
        self._pin.when_changed = None
        self._dev.close()


class OutputLine:
    def __init__(self, pin: int, *, name: str, active_low: bool, factory: object | None,
                 initial: bool = False) -> None:
        self.name = name
        self.bcm = pin
        self._dev = DigitalOutputDevice(pin, active_high=not active_low,
                                        initial_value=initial, pin_factory=factory)

    def set(self, on: bool) -> None:
        self._dev.value = on

    @property
    def value(self) -> bool:
        return bool(self._dev.value)

    def close(self) -> None:
        self._dev.close()


class ForwardReverseLine:
    """A SLIC's F/R input: a static level for the line polarity, a square wave to ring.

    With a PWM-capable pin factory the square wave is the factory's PWM at 50 % duty
    (pigpio's DMA timing, lgpio's C thread; ``MockPWMPin`` in tests); otherwise
    :attr:`hardware_square` is False and the ringer toggles the level from a thread.
    """

    def __init__(self, pin: int, *, name: str, active_low: bool, factory: object | None,
                 want_pwm: bool, forward: bool) -> None:
        self.name = name
        self.bcm = pin
        self._active_low = active_low
        self._pwm: PWMOutputDevice | None = None
        self._out: DigitalOutputDevice | None = None
        self._hz: float | None = None
        if want_pwm:
            try:
                self._pwm = PWMOutputDevice(pin, active_high=not active_low,
                                            initial_value=float(forward), frequency=25,
                                            pin_factory=factory)
            except PinPWMError as exc:
                log.warning("%s: BCM %d has no PWM with this pin factory (%s); "
                            "ringing falls back to a software toggle", name, pin,
                            type(exc).__name__)
        if self._pwm is None:
            self._out = DigitalOutputDevice(pin, active_high=not active_low,
                                            initial_value=forward, pin_factory=factory)

    @property
    def hardware_square(self) -> bool:
        return self._pwm is not None

    def static(self, level: bool) -> None:
        if self._pwm is not None:
            self._pwm.value = 1.0 if level else 0.0
        else:
            assert self._out is not None
            self._out.value = level

    def square(self, hz: float) -> None:
        assert self._pwm is not None, "square() needs a PWM pin"
        if self._hz != hz:
            self._pwm.frequency = hz
            self._hz = hz
        self._pwm.value = 0.5

    def close(self) -> None:
        if self._pwm is not None:
            self._pwm.close()
        if self._out is not None:
            self._out.close()
