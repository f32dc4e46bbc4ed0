"""Ringing an Ag1171 / KS0835F-class SLIC: RM high, F/R as a 20/25 Hz square wave.

Rules:

* A cadence is a list of on/off steps in ms, starting with on and repeating from the
  start; the first step must be positive (as the simulated board requires).
* During an on step RM is high and F/R swings at the ring frequency: by the pin factory's
  PWM when the F/R pin has it, else by this module's toggle thread. During an off step RM
  is low and F/R sits at the polarity level, so the SLIC is back in talk mode.
* :meth:`Ringer.stop` acts at once in the caller's thread (RM low, F/R static) and is safe
  from a GPIO edge callback: ring trip must not wait for the cadence thread to wake.
* A stopped ring never touches a pin again: the cadence thread checks its own stop event
  under the lock before every write.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from drivers.errors import DriverError
from drivers.gpio.lines import Clock, ForwardReverseLine, OutputLine

# Ring frequencies met in practice (TELEPHONY.md: 16 to 50 Hz occur).
RING_HZ_MIN = 10.0
RING_HZ_MAX = 60.0


class RingCadenceError(DriverError, ValueError):
    """A ring cadence or frequency the port cannot play."""


def check_cadence(name: str, cadence_ms: Sequence[int], frequency_hz: float) -> tuple[int, ...]:
    steps = tuple(int(s) for s in cadence_ms)
    if not steps or steps[0] <= 0 or any(s < 0 for s in steps):
        raise RingCadenceError(f"{name}: bad ring cadence {list(cadence_ms)} (ms steps, "
                               "on first and positive, none negative)")
    if not RING_HZ_MIN <= frequency_hz <= RING_HZ_MAX:
        raise RingCadenceError(f"{name}: ring frequency {frequency_hz} Hz is outside "
                               f"{RING_HZ_MIN:g} to {RING_HZ_MAX:g} Hz")
    return steps


class Ringer:
    def __init__(self, name: str, rm: OutputLine, fr: ForwardReverseLine, *,
                 clock: Clock) -> None:
        self.name = name
        self._rm = rm
        self._fr = fr
        self._clock = clock
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._level = True  # F/R's static level: True is forward polarity
        self._burst_on = False
        self.bursts = 0

    @property
    def ringing(self) -> bool:
        return self._stop is not None

    @property
    def burst_on(self) -> bool:
        return self._burst_on

    def set_level(self, level: bool) -> None:
        """F/R's static level (polarity); applied at once unless ringing, else after."""
        with self._lock:
            self._level = level
            if self._stop is None:
                self._fr.static(level)

    def start(self, cadence_ms: Sequence[int], frequency_hz: float) -> None:
        steps = check_cadence(self.name, cadence_ms, frequency_hz)
        self.stop()
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop, steps, float(frequency_hz)),
                                  name=f"{self.name}-ring", daemon=True)
        with self._lock:
            self._stop = stop
            self._thread = thread
        thread.start()

    def stop(self) -> bool:
        """Stop ringing now; True if it was ringing."""
        with self._lock:
            stop = self._stop
            if stop is None:
                return False
            stop.set()
            self._stop = None
            self._apply_off()
        return True

    def join(self, timeout: float = 1.0) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # --- the cadence thread ----------------------------------------------------------
    def _apply_off(self) -> None:
        self._rm.set(False)
        self._fr.static(self._level)
        self._burst_on = False

    def _step(self, stop: threading.Event, on: bool, hz: float) -> bool:
        """Apply one step's levels; False if this ring was stopped meanwhile."""
        with self._lock:
            if stop.is_set():
                return False
            if not on:
                self._apply_off()
                return True
            self._rm.set(True)
            if self._fr.hardware_square:
                self._fr.square(hz)
            if not self._burst_on:
                self._burst_on = True
                self.bursts += 1
        return True

    def _run(self, stop: threading.Event, steps: tuple[int, ...], hz: float) -> None:
        t = self._clock()
        i = 0
        while True:
            ms = steps[i % len(steps)]
            on = (i % len(steps)) % 2 == 0
            i += 1
            if ms == 0:
                continue
            if not self._step(stop, on, hz):
                return
            end = t + ms / 1000.0
            if on and not self._fr.hardware_square:
                if not self._toggle_until(stop, end, hz):
                    return
            elif stop.wait(max(0.0, end - self._clock())):
                return
            t = end

    def _toggle_until(self, stop: threading.Event, end: float, hz: float) -> bool:
        half = 0.5 / hz
        level = not self._level
        due = self._clock()
        while due < end:
            with self._lock:
                if stop.is_set():
                    return False
                self._fr.static(level)
            level = not level
            due += half
            now = self._clock()
            if due < now - half:  # fell behind (a stall): resync rather than burst-toggle
                due = now
            if stop.wait(max(0.0, min(due, end) - now)):
                return False
        return True
