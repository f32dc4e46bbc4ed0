"""The direct-GPIO line board: SLIC FXS ports and DAA FXO ports on the Pi's own pins.

The pin factory is injectable, as in gpiozero: ``None`` uses gpiozero's default (lgpio on
a Pi, or ``GPIOZERO_PIN_FACTORY``); tests pass ``MockFactory(pin_class=MockPWMPin)``.
Audio is injected per port (``{("fxs", 1): AlsaAudio(...), ...}``); a port without an
endpoint hears silence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from drivers.base import Board, PortKind, SignalSink
from drivers.errors import BoardProfileError
from drivers.gpio.audio import AudioEndpoint
from drivers.gpio.fxo import GpioFxoPort
from drivers.gpio.fxs import GpioFxsPort
from drivers.gpio.lines import Clock
from drivers.profile import BoardProfile

log = logging.getLogger(__name__)


class GpioBoard(Board):
    def __init__(self, profile: BoardProfile, *, pin_factory: object | None = None,
                 audio: Mapping[tuple[PortKind, int], AudioEndpoint] | None = None,
                 clock: Clock = time.monotonic) -> None:
        """Build the profile's ``backend = "gpio"`` ports (other backends are skipped)."""
        self.name = profile.name
        self.profile = profile
        audio = audio or {}
        fxs_profiles = [p for p in profile.fxs if p.backend == "gpio"]
        fxo_profiles = [p for p in profile.fxo if p.backend == "gpio"]
        if not fxs_profiles and not fxo_profiles:
            raise BoardProfileError(f"{profile.path}: no port has backend = \"gpio\"")
        self.gpio_fxs: list[GpioFxsPort] = []
        self.gpio_fxo: list[GpioFxoPort] = []
        try:
            for p in fxs_profiles:
                self.gpio_fxs.append(GpioFxsPort(p, factory=pin_factory, clock=clock,
                                                 audio=audio.get(("fxs", p.index))))
            for q in fxo_profiles:
                self.gpio_fxo.append(GpioFxoPort(q, factory=pin_factory, clock=clock,
                                                 audio=audio.get(("fxo", q.index))))
        except Exception:
            self._close_ports()
            raise
        self.fxs = self.gpio_fxs
        self.fxo = self.gpio_fxo
        self._closed = False

    def start(self, sink: SignalSink) -> None:
        for p in self.gpio_fxs:
            p.attach(sink)
        for q in self.gpio_fxo:
            q.attach(sink)

    def _close_ports(self) -> None:
        for p in self.gpio_fxs:
            p.close()
        for q in self.gpio_fxo:
            q.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_ports()
