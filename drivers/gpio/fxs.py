"""An FXS port on an Ag1171 / KS0835F-class SLIC wired straight to GPIO.

Pins: SHK (input, the hook switch as the SLIC senses loop current), RM (output, ringing
mode), F/R (output, forward/reverse: line polarity, or the ring wave while RM is high),
optional PD (output, power down).

Rules:

* Every SHK edge goes to the sink raw, ``HookEdge(debounced=False)`` with the edge's
  monotonic instant; the line layer debounces and tells pulses, flashes and hook changes.
* Ring trip: an off-hook edge while the port is ringing (in a burst or between bursts)
  stops the ring in the edge callback itself, before the edge is delivered.
* ``start_ringing`` on a port that is off-hook does nothing (it would trip at once).
* A polarity change while ringing takes effect when the ring stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from drivers.base import FxsPort, HookEdge, SignalSink
from drivers.gpio.audio import AudioEndpoint, SilentAudio
from drivers.gpio.lines import Clock, ForwardReverseLine, InputLine, OutputLine
from drivers.gpio.ringer import Ringer
from drivers.profile import FxsPortProfile

log = logging.getLogger(__name__)


class GpioFxsPort(FxsPort):
    def __init__(self, profile: FxsPortProfile, *, factory: object | None, clock: Clock,
                 audio: AudioEndpoint | None = None) -> None:
        self.index = profile.index
        self.profile = profile
        self.name = f"fxs{profile.index}"
        self._audio: AudioEndpoint = audio if audio is not None else SilentAudio()
        self._sink: SignalSink | None = None
        self._lock = threading.Lock()
        self._reversed = False
        self._closed = False
        self.trips = 0
        pins, low = profile.pins, profile.active_low
        opened: list[InputLine | OutputLine | ForwardReverseLine] = []
        try:
            self._pd: OutputLine | None = None
            if "pd" in pins:
                self._pd = OutputLine(pins["pd"], name=f"{self.name}.pd",
                                      active_low="pd" in low, factory=factory)
                opened.append(self._pd)
            self._rm = OutputLine(pins["rm"], name=f"{self.name}.rm",
                                  active_low="rm" in low, factory=factory)
            opened.append(self._rm)
            self._fr = ForwardReverseLine(pins["fr"], name=f"{self.name}.fr",
                                          active_low="fr" in low, factory=factory,
                                          want_pwm=profile.ring_drive == "pwm", forward=True)
            opened.append(self._fr)
            self._ringer = Ringer(self.name, self._rm, self._fr, clock=clock)
            self._shk = InputLine(pins["shk"], name=f"{self.name}.shk",
                                  active_low="shk" in low, factory=factory, clock=clock,
                                  on_edge=self._hook_edge)
            opened.append(self._shk)
        except Exception:
            for line in reversed(opened):
                line.close()
            raise
        self._opened = opened

    # --- signals ---------------------------------------------------------------------
    def attach(self, sink: SignalSink) -> None:
        self._sink = sink

    def _hook_edge(self, offhook: bool, at: float) -> None:
        if offhook and self._ringer.stop():
            self.trips += 1
            log.info("%s: ring trip", self.name)
        sink = self._sink
        if sink is not None:
            sink(HookEdge(self.index, offhook, at, debounced=False))

    # --- FxsPort ---------------------------------------------------------------------
    def read_frame(self) -> bytes:
        return self._audio.read_frame()

    def write_frame(self, frame: bytes) -> None:
        self._audio.write_frame(frame)

    def start_ringing(self, cadence_ms: Sequence[int], frequency_hz: float) -> None:
        if self._closed:
            return
        if self._shk.active:
            log.info("%s: not ringing an off-hook handset", self.name)
            return
        self._ringer.start(cadence_ms, frequency_hz)
        # The handset may have lifted between the check and the first burst: trip now.
        if self._shk.active and self._ringer.stop():
            self.trips += 1

    def stop_ringing(self) -> None:
        self._ringer.stop()

    def set_polarity(self, reversed_: bool) -> None:
        with self._lock:
            self._reversed = reversed_
            self._ringer.set_level(not reversed_)

    @property
    def offhook(self) -> bool:
        return self._shk.active

    @property
    def ringing(self) -> bool:
        return self._ringer.ringing

    @property
    def reversed(self) -> bool:
        return self._reversed

    def power_down(self, down: bool) -> None:
        """Remove (or restore) loop battery through PD, where the board wires it."""
        if self._pd is not None:
            self._pd.set(down)

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "backend": "gpio",
            "offhook": self.offhook,
            "ringing": self.ringing,
            "ring_burst": self._ringer.burst_on,
            "polarity": "reversed" if self._reversed else "forward",
            "ring_drive": "pwm" if self._fr.hardware_square else "software",
            "ring_trips": self.trips,
            "pins": dict(self.profile.pins),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._ringer.stop()
        self._ringer.join()
        self.power_down(True)
        self._sink = None
        for line in reversed(self._opened):
            line.close()
