"""A simulated FXO port plugged into a virtual PSTN line.

The virtual line rings with a cadence (ring bursts as the board's ring detector reports
them), plays audio into the line (caller ID between rings, the far party's voice), records
what the box sends (dialled digits, voice), and hangs up by dropping loop current (or
drops it for a moment: ``loop_break``). Whatever stops the ringing (the caller hanging up,
the box seizing the line) ends a burst in progress with its off edge, as a real ring
detector sees the ring signal stop; edges are emitted under the lock, so a burst's on
and off never reach the box in the wrong order.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence

from drivers.base import FxoPort, LoopCurrent, RingBurst, SignalSink
from drivers.errors import DriverError
from drivers.sim.audio import Outbox, Recorder
from drivers.sim.timeline import Timeline


class SimFxoPort(FxoPort):
    def __init__(self, index: int) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._sink: SignalSink | None = None
        self._timeline = Timeline(f"fxo{index}")
        self._seized = False
        self._ringing = False
        self._ring_generation = 0
        self._burst_on = False  # a ring burst is on the line now
        self._seized_at: float | None = None
        self.line_audio = Outbox()  # what the PSTN sends to the box
        self.heard = Recorder()  # what the box sends to the PSTN

    def attach(self, sink: SignalSink) -> None:
        self._sink = sink

    def read_frame(self) -> bytes:
        return self.line_audio.next_frame()

    def write_frame(self, frame: bytes) -> None:
        if self._seized:
            self.heard.add(frame)

    def seize(self) -> None:
        with self._lock:
            if self._seized:
                return
            self._seized = True
            self._seized_at = time.monotonic()
            self._stop_ringing_locked()  # answering stops the exchange's ringing
        self._emit(LoopCurrent(self.index, True, time.monotonic()))

    def release(self) -> None:
        with self._lock:
            self._seized = False
        self.line_audio.clear()

    @property
    def seized(self) -> bool:
        return self._seized

    @property
    def ringing(self) -> bool:
        return self._ringing

    def describe(self) -> dict[str, object]:
        return {
            "kind": "fxo",
            "index": self.index,
            "seized": self._seized,
            "ringing": self._ringing,
            "ring_burst_on": self._burst_on,
        }

    # --- the virtual PSTN's verbs ----------------------------------------------------------
    def ring(
        self, cadence_ms: Sequence[int], cid_pcm: bytes = b"", cid_delay_ms: float = 600.0,
        bursts: int = 10,
    ) -> None:
        """Ring the box like an exchange: ``bursts`` bursts of the cadence; caller ID audio
        ``cid_delay_ms`` after the first burst ends (Bell 202 placement)."""
        if len(cadence_ms) < 2 or cadence_ms[0] <= 0:
            raise DriverError(f"fxo{self.index}: bad ring cadence {list(cadence_ms)}")
        with self._lock:
            if self._seized:
                raise DriverError(f"fxo{self.index}: the line is in a call; hang up first")
            self._stop_ringing_locked()  # a new call's ringing replaces any before it
            self._ringing = True
            gen = self._ring_generation
        t = time.monotonic() + 0.05
        steps = list(cadence_ms)
        first_end = t + steps[0] / 1000.0
        if cid_pcm:
            self._timeline.at(first_end + cid_delay_ms / 1000.0,
                              lambda _at: self._play_if(gen, cid_pcm))
        for _ in range(bursts):
            for i in range(0, len(steps) - 1, 2):
                on, off = steps[i], steps[i + 1]
                self._timeline.at(t, functools.partial(self._burst, gen, True))
                t += on / 1000.0
                self._timeline.at(t, functools.partial(self._burst, gen, False))
                t += off / 1000.0
        self._timeline.at(t, lambda _at: self._stop_if(gen))

    def hang_up(self) -> None:
        """The far party hangs up: ringing stops, or loop current drops during a call."""
        with self._lock:
            self._stop_ringing_locked()
            seized = self._seized
        self._timeline.cancel_all()
        if seized:
            self._emit(LoopCurrent(self.index, False, time.monotonic()))

    def loop_break(self, ms: float) -> None:
        """Loop current drops for ``ms`` during a call and comes back, as an exchange's
        open-loop pulse does (TELEPHONY.md: 300 to 500 ms means the far end hung up)."""
        if not self._seized:
            raise DriverError(f"fxo{self.index}: no loop current to drop; seize the line first")
        t = time.monotonic()
        self._timeline.at(t, functools.partial(self._loop_if_seized, False))
        self._timeline.at(t + ms / 1000.0, functools.partial(self._loop_if_seized, True))

    def speak(self, pcm: bytes) -> float:
        return self.line_audio.queue(pcm)

    def sent_audio(self) -> bytes:
        """Everything the box sent since it last seized the line (dialled digits, voice)."""
        at = self._seized_at
        return self.heard.since(at) if at is not None else b""

    def close(self) -> None:
        self._timeline.close()

    def _stop_ringing_locked(self) -> None:
        self._ring_generation += 1  # the bursts still scheduled are void
        self._ringing = False
        if self._burst_on:
            self._burst_on = False
            self._emit(RingBurst(self.index, False, time.monotonic()))

    def _burst(self, gen: int, on: bool, at: float) -> None:
        with self._lock:
            if gen == self._ring_generation:
                self._burst_on = on
                self._emit(RingBurst(self.index, on, at))

    def _play_if(self, gen: int, pcm: bytes) -> None:
        if gen == self._ring_generation:
            self.line_audio.queue(pcm)

    def _loop_if_seized(self, present: bool, at: float) -> None:
        if self._seized:  # a released line carries no loop current to report
            self._emit(LoopCurrent(self.index, present, at))

    def _stop_if(self, gen: int) -> None:
        with self._lock:
            if gen == self._ring_generation:
                self._ringing = False

    def _emit(self, signal: RingBurst | LoopCurrent) -> None:
        if self._sink is not None:
            self._sink(signal)
