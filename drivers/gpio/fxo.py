"""An FXO port on a DAA-class interface wired straight to GPIO.

Pins: ring detect (input, an optocoupler across the line), hook (output, the relay that
closes the loop), optional polarity (input, which way loop voltage points) and optional
loop current (input, an opto in series with the loop).

Rules:

* Ring detect is validated (:mod:`drivers.gpio.ringdetect`): activity shorter than the
  profile's ``ring_min_ms`` (40 ms or more), such as the blip of a polarity reversal, is not
  a ring. Valid bursts go to the sink as ``RingBurst`` with the instants of their edges.
* Polarity is reported as ``PolarityReversal`` when the input settles on a new level. While
  ring activity is being judged, the polarity input is held (ring voltage swings it); if the
  activity turns out not to be a ring, a changed level is reported with its edge's instant.
* Loop current goes out raw as ``LoopCurrent`` on every change; the line layer times a CPC
  disconnect (300 to 500 ms) itself.
"""

from __future__ import annotations

import threading

from drivers.base import FxoPort, LineSignal, LoopCurrent, PolarityReversal, RingBurst, SignalSink
from drivers.gpio.audio import AudioEndpoint, SilentAudio
from drivers.gpio.lines import Clock, InputLine, OutputLine
from drivers.gpio.ringdetect import Burst, RingValidator
from drivers.profile import FxoPortProfile


class GpioFxoPort(FxoPort):
    def __init__(self, profile: FxoPortProfile, *, factory: object | None, clock: Clock,
                 audio: AudioEndpoint | None = None) -> None:
        self.index = profile.index
        self.profile = profile
        self.name = f"fxo{profile.index}"
        self._clock = clock
        self._audio: AudioEndpoint = audio if audio is not None else SilentAudio()
        self._sink: SignalSink | None = None
        self._cond = threading.Condition()
        self._validator = RingValidator(profile.ring_min_ms, profile.ring_gap_ms)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pol_reported = False
        self._pol_pending_at: float | None = None
        self._loop_present = False
        pins, low = profile.pins, profile.active_low
        opened: list[InputLine | OutputLine] = []
        try:
            self._hook = OutputLine(pins["hook"], name=f"{self.name}.hook",
                                    active_low="hook" in low, factory=factory)
            opened.append(self._hook)
            self._polarity: InputLine | None = None
            if "polarity" in pins:
                self._polarity = InputLine(pins["polarity"], name=f"{self.name}.polarity",
                                           active_low="polarity" in low, factory=factory,
                                           clock=clock, on_edge=self._polarity_edge)
                opened.append(self._polarity)
                self._pol_reported = self._polarity.active
            self._loop: InputLine | None = None
            if "loop_current" in pins:
                self._loop = InputLine(pins["loop_current"], name=f"{self.name}.loop_current",
                                       active_low="loop_current" in low, factory=factory,
                                       clock=clock, on_edge=self._loop_edge)
                opened.append(self._loop)
                self._loop_present = self._loop.active
            self._rd = InputLine(pins["ring_detect"], name=f"{self.name}.ring_detect",
                                 active_low="ring_detect" in low, factory=factory,
                                 clock=clock, on_edge=self._ring_edge)
            opened.append(self._rd)
        except Exception:
            for line in reversed(opened):
                line.close()
            raise
        self._opened = opened

    # --- signals ---------------------------------------------------------------------
    def attach(self, sink: SignalSink) -> None:
        with self._cond:
            self._sink = sink
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-ring",
                                                daemon=True)
                self._thread.start()

    def _emit(self, signals: list[LineSignal]) -> None:
        # Called under _cond so that the edge thread and the deadline thread cannot
        # reorder signals; the sink only queues them for the loop.
        sink = self._sink
        if sink is not None:
            for signal in signals:
                sink(signal)

    def _decided(self, bursts: list[Burst], rejected_before: int) -> list[LineSignal]:
        """Turn validator output into signals; settle a held polarity change. Holds _cond."""
        out: list[LineSignal] = []
        for burst in bursts:
            out.append(RingBurst(self.index, burst.on, burst.at))
            if burst.on:
                self._pol_pending_at = None  # the polarity swing was the ring's
            elif self._polarity is not None and self._polarity.active != self._pol_reported:
                self._pol_reported = not self._pol_reported
                out.append(PolarityReversal(self.index, burst.at))
        if self._validator.rejected != rejected_before and self._pol_pending_at is not None:
            if self._polarity is not None and self._polarity.active != self._pol_reported:
                self._pol_reported = not self._pol_reported
                out.append(PolarityReversal(self.index, self._pol_pending_at))
            self._pol_pending_at = None
        return out

    def _ring_edge(self, active: bool, at: float) -> None:
        with self._cond:
            rejected = self._validator.rejected
            self._emit(self._decided(self._validator.edge(active, at), rejected))
            self._cond.notify()

    def _polarity_edge(self, level: bool, at: float) -> None:
        with self._cond:
            if self._validator.deadline is not None or self._validator.ringing:
                if not self._validator.ringing:
                    self._pol_pending_at = at
            elif level != self._pol_reported:
                self._pol_reported = level
                self._emit([PolarityReversal(self.index, at)])

    def _loop_edge(self, present: bool, at: float) -> None:
        with self._cond:
            if present == self._loop_present:
                return
            self._loop_present = present
            self._emit([LoopCurrent(self.index, present, at)])

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                deadline = self._validator.deadline
                now = self._clock()
                if deadline is None or deadline > now:
                    self._cond.wait(None if deadline is None else deadline - now)
                    continue
                rejected = self._validator.rejected
                self._emit(self._decided(self._validator.poll(now), rejected))

    # --- FxoPort ---------------------------------------------------------------------
    def read_frame(self) -> bytes:
        return self._audio.read_frame()

    def write_frame(self, frame: bytes) -> None:
        self._audio.write_frame(frame)

    def seize(self) -> None:
        self._hook.set(True)

    def release(self) -> None:
        self._hook.set(False)

    @property
    def seized(self) -> bool:
        return self._hook.value

    @property
    def ringing(self) -> bool:
        return self._validator.ringing

    @property
    def loop_current(self) -> bool | None:
        return None if self._loop is None else self._loop.active

    def describe(self) -> dict[str, object]:
        return {
            **super().describe(),
            "backend": "gpio",
            "seized": self.seized,
            "ringing": self.ringing,
            "loop_current": self.loop_current,
            "polarity": None if self._polarity is None else
            ("reversed" if self._pol_reported else "normal"),
            "rings_rejected": self._validator.rejected,
            "line_impedance": self.profile.line_impedance,
            "pins": dict(self.profile.pins),
        }

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._sink = None
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(1.0)
        self.release()
        for line in reversed(self._opened):
            line.close()
