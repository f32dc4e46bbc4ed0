"""A simulated FXS port with a virtual handset plugged in.

The handset's verbs (``lift``, ``hang_up``, ``flash``, ``dial_pulses``, ``speak``) produce
exactly what a real handset puts on the line: hook edges with their instants, and audio.
What the line sends back (tones, voice, caller ID while on-hook) is recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from drivers.base import FxsPort, HookEdge, SignalSink
from drivers.errors import DriverError
from drivers.sim.audio import Outbox, Recorder
from drivers.sim.cas import CasResponder, ack_pcm
from drivers.sim.hybrid import SimHybrid, hybrid_from_env
from drivers.sim.timeline import Timeline

# Rotary dial defaults: 10 pulses/s, 60/40 break/make (North America), ~700 ms between digits.
PULSE_BREAK_MS = 60.0
PULSE_MAKE_MS = 40.0
PULSE_INTERDIGIT_MS = 700.0
# A typical handset's recall (flash) button opens the loop for about 300 ms.
FLASH_MS = 300.0


class SimFxsPort(FxsPort):
    def __init__(self, index: int) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._sink: SignalSink | None = None
        self._timeline = Timeline(f"fxs{index}")
        self._offhook = False  # the switch as the handset will leave it after scheduled edges
        self._line_offhook = False  # the switch as the line sees it now
        self._ringing = False
        self._ring_started = 0.0
        self._cadence: tuple[int, ...] = ()
        self._ring_hz = 0.0
        self._reversed = False
        self._episode_start: float | None = None  # first alert while on-hook
        self._episode_end: float | None = None
        self.mic = Outbox()
        self.earpiece = Recorder()
        self.rings_total = 0
        self.last_hook_edge: float | None = None  # timing hook: instant of the last edge
        # A 2-wire hybrid returning echo of what the line plays (off unless asked for).
        self.hybrid: SimHybrid | None = hybrid_from_env()
        # A type II caller ID phone: it acknowledges a CAS heard off-hook (drivers/sim/cas.py).
        self.cas = CasResponder()
        self.cas_at: float | None = None  # when it last did

    # --- the backend interface -------------------------------------------------------
    def attach(self, sink: SignalSink) -> None:
        self._sink = sink

    def read_frame(self) -> bytes:
        # On-hook, the handset's microphone is disconnected from the line.
        frame = self.mic.next_frame()
        if not self._line_offhook:
            return bytes(len(frame))
        hybrid = self.hybrid
        return frame if hybrid is None else hybrid.returned(frame)

    def write_frame(self, frame: bytes) -> None:
        self.earpiece.add(frame)
        if self._line_offhook and self.cas.feed(frame):
            self.mic.queue(ack_pcm())
            self.cas_at = time.monotonic()
        hybrid = self.hybrid
        if hybrid is not None:
            hybrid.sent(frame)

    def set_hybrid(self, tail_ms: int | None, erl_db: float = 10.0, seed: int = 1) -> None:
        """Simulate a 2-wire hybrid's echo (drivers/sim/hybrid.py); None: no echo."""
        self.hybrid = None if tail_ms is None else SimHybrid(tail_ms, erl_db, seed)

    def start_ringing(self, cadence_ms: Sequence[int], frequency_hz: float) -> None:
        if not cadence_ms or any(step < 0 for step in cadence_ms) or cadence_ms[0] <= 0:
            raise DriverError(f"fxs{self.index}: bad ring cadence {list(cadence_ms)}")
        with self._lock:
            if self._line_offhook:
                return  # ringing an off-hook phone would trip at once
            self._ringing = True
            self._ring_started = time.monotonic()
            self._cadence = tuple(cadence_ms)
            self._ring_hz = frequency_hz
            self.rings_total += 1
            self._begin_episode()

    def stop_ringing(self) -> None:
        with self._lock:
            self._ringing = False

    def set_polarity(self, reversed_: bool) -> None:
        with self._lock:
            if reversed_ and not self._reversed and not self._line_offhook:
                self._begin_episode()
            self._reversed = reversed_

    @property
    def offhook(self) -> bool:
        return self._line_offhook

    @property
    def ringing(self) -> bool:
        return self._ringing

    @property
    def lifted(self) -> bool:
        """Whether the handset is (or is about to be, once scheduled edges fall) off-hook."""
        return self._offhook

    def describe(self) -> dict[str, object]:
        return {
            "kind": "fxs",
            "index": self.index,
            "hook": "off" if self._line_offhook else "on",
            "ringing": self._ringing,
            "ring_burst_now": self.ring_burst_now(),
            "ring_hz": self._ring_hz,
            "ring_cadence_ms": list(self._cadence),
            "polarity": "reversed" if self._reversed else "normal",
            **({"hybrid": self.hybrid.describe()} if self.hybrid is not None else {}),
        }

    def ring_burst_now(self) -> bool:
        """Whether the bell sounds at this instant (ringing and inside an 'on' step)."""
        with self._lock:
            if not self._ringing:
                return False
            period = sum(self._cadence)
            t = (time.monotonic() - self._ring_started) * 1000.0
            t = t % period if period else t
            on = True
            for step in self._cadence:
                if t < step:
                    return on
                t -= step
                on = not on
            return False

    # --- the handset's verbs -----------------------------------------------------------
    def lift(self) -> None:
        self._schedule_hook(True, self._next_free())

    def hang_up(self) -> None:
        self._schedule_hook(False, self._next_free())

    def flash(self, ms: float = FLASH_MS) -> None:
        if not self._offhook:
            raise DriverError(f"fxs{self.index}: the handset is on-hook; lift it before a flash")
        t = self._next_free()
        self._schedule_hook(False, t)
        self._schedule_hook(True, t + ms / 1000.0)

    def dial_pulses(
        self,
        digits: str,
        break_ms: float = PULSE_BREAK_MS,
        make_ms: float = PULSE_MAKE_MS,
        interdigit_ms: float = PULSE_INTERDIGIT_MS,
    ) -> float:
        """Dial with the hook switch as a rotary dial does; returns when the last edge falls."""
        if not self._offhook:
            raise DriverError(f"fxs{self.index}: the handset is on-hook; lift it before dialing")
        bad = [d for d in digits if not d.isdigit()]
        if bad:
            raise DriverError(f"a rotary dial has only 0-9, not {''.join(bad)!r}")
        t = self._next_free() + interdigit_ms / 1000.0
        for d in digits:
            for _ in range(int(d) or 10):
                self._schedule_hook(False, t)
                t += break_ms / 1000.0
                self._schedule_hook(True, t)
                t += make_ms / 1000.0
            t += interdigit_ms / 1000.0
        return t

    def speak(self, pcm: bytes) -> float:
        """Send s16le 8 kHz audio into the line; returns its length in seconds queued."""
        return self.mic.queue(pcm)

    def onhook_audio(self) -> bytes:
        """What the handset heard on-hook during the last alerting (caller ID, MWI)."""
        with self._lock:
            start, end = self._episode_start, self._episode_end
        if start is None:
            return b""
        audio = self.earpiece.since(start)
        if end is not None:
            audio = audio[: max(0, int((end - start) * 8000)) * 2]
        return audio

    def close(self) -> None:
        self._timeline.close()

    # --- internals -----------------------------------------------------------------------
    def _begin_episode(self) -> None:
        if self._episode_start is None or self._episode_end is not None:
            self._episode_start = time.monotonic()
            self._episode_end = None

    def _next_free(self) -> float:
        return max(time.monotonic(), self._timeline.busy_until() + 0.001)

    def _schedule_hook(self, offhook: bool, when: float) -> None:
        self._offhook = offhook
        self._timeline.at(when, lambda at: self._apply_hook(offhook, at))

    def _apply_hook(self, offhook: bool, at: float) -> None:
        with self._lock:
            if offhook == self._line_offhook:
                return
            self._line_offhook = offhook
            self.last_hook_edge = at
            if offhook:
                # Ring trip: the bell stops the instant the handset lifts.
                self._ringing = False
                if self._episode_start is not None and self._episode_end is None:
                    self._episode_end = at
            else:
                self.mic.clear()
        if self._sink is not None:
            self._sink(HookEdge(self.index, offhook, at))
