"""The application's half of a contract rig: real line machines, fed the way
firmware/app/box.py feeds them.

Board signals come in on any thread (the sink is thread-safe) and wait in a queue; one
thread owns the machines, as box.py's asyncio loop does. It hands each signal to the line
of its port with the current time (``_on_signal`` is box.py's routing), polls every line
when the earliest ``next_deadline`` comes and never sooner (a poll moves a machine's time
on, so an early poll would date a late edge wrongly), carries out on the ports the board
actions the lines ask for (box.py's ``_action``), and keeps every core event the lines send
up, with the instant it came out. Commands from the PBX, here the test, go through the
same queue, so the machines are only ever touched by their own thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from drivers.base import (
    FxoPort,
    FxsPort,
    HookEdge,
    LineSignal,
)
from firmware.app.routing import board_action, deliver
from firmware.core.clock import earliest
from firmware.core.events import CallEvent, LegId
from firmware.lines import FxoLine, FxsLine
from firmware.lines import actions as act
from firmware.lines.actions import LineAction, LineOutput
from tests.support import WAIT_S, wait_until

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Up:
    """A core event a line sent up to the PBX, and the monotonic instant it came out."""

    at: float
    event: CallEvent


@dataclass(frozen=True)
class _SignalDone:
    """The app finished playing what a line asked for (caller ID, DTMF digits)."""

    leg: LegId


@dataclass(frozen=True)
class _Call:
    fn: Callable[[], Any]
    result: list[Any]
    done: threading.Event


_STOP = object()


class LineApp:
    """One FXS and one FXO line machine on their ports, run by their own thread."""

    def __init__(self, fxs_port: FxsPort, fxs_line: FxsLine, fxo_port: FxoPort,
                 fxo_line: FxoLine) -> None:
        self.fxs_port, self.fxs_line = fxs_port, fxs_line
        self.fxo_port, self.fxo_line = fxo_port, fxo_line
        # What the far end does when the board acts (the PSTN answers a closed loop with
        # loop current); the rig sets it. Runs on the app thread after the action.
        self.on_action: Callable[[LineAction], None] | None = None
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._up: list[Up] = []
        self._actions: list[LineAction] = []
        self._handled: list[LineSignal] = []
        self._ringing_at_offhook: list[bool] = []
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="contract-app", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._inbox.put(_STOP)
            self._thread.join(timeout=WAIT_S)

    # --- from the board and the PBX (any thread) ------------------------------------------
    def sink(self, signal: LineSignal) -> None:
        """The board's signal sink."""
        if (isinstance(signal, HookEdge) and signal.offhook
                and signal.port == self.fxs_port.index):
            # Ring trip is the board's own job: sample the port as the edge is handed over.
            with self._lock:
                self._ringing_at_offhook.append(self.fxs_port.ringing)
        self._inbox.put(signal)

    def command(self, event: CallEvent) -> None:
        """A command from the PBX down to the line of ``event.leg``."""
        self._inbox.put(event)

    def inspect(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the app thread (where the machines live) and return its result."""
        call = _Call(fn, [], threading.Event())
        self._inbox.put(call)
        assert call.done.wait(WAIT_S), "the app thread did not answer"
        result: T = call.result[0]
        return result

    def barrier(self) -> None:
        """Return once the app has handled everything handed to it before this call."""
        self.inspect(lambda: None)

    # --- what happened (any thread) -------------------------------------------------------
    def up(self, leg: LegId | None = None) -> list[CallEvent]:
        """The core events sent up so far (by one leg, or all), in order."""
        return [u.event for u in self.up_timed(leg)]

    def up_timed(self, leg: LegId | None = None) -> list[Up]:
        self.check()
        with self._lock:
            return [u for u in self._up if leg is None or u.event.leg == leg]

    def wait_up(self, count: int, leg: LegId | None = None,
                timeout: float = WAIT_S) -> list[CallEvent]:
        """The events sent up once there are ``count`` (or all there are at timeout)."""
        wait_until(lambda: len(self.up(leg)) >= count, timeout)
        return self.up(leg)

    def actions(self) -> list[LineAction]:
        with self._lock:
            return list(self._actions)

    def handled(self, kind: type[T]) -> list[T]:
        """The board signals of ``kind`` the lines have been given, in order."""
        self.check()
        with self._lock:
            return [s for s in self._handled if isinstance(s, kind)]

    def ringing_at_offhook(self) -> list[bool]:
        """``port.ringing`` at the instant each off-hook edge of the FXS port was handed
        to the app, before any line heard of it."""
        with self._lock:
            return list(self._ringing_at_offhook)

    def check(self) -> None:
        """Fail with what went wrong on the app thread, if anything did."""
        with self._lock:
            errors = list(self._errors)
        if errors:
            raise AssertionError(f"the app thread failed: {errors!r}") from errors[0]

    # --- the app thread -------------------------------------------------------------------
    def _deadline(self) -> float | None:
        return earliest(self.fxs_line.next_deadline, self.fxo_line.next_deadline)

    def _run(self) -> None:
        while True:
            deadline = self._deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item: object = self._inbox.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            try:
                if item is not None:
                    self._handle(item)
                self._poll_due()
            except Exception as exc:  # kept for the test thread, which fails with it
                log.exception("contract app: handling %r failed", item)
                with self._lock:
                    self._errors.append(exc)

    def _poll_due(self) -> None:
        # box.py's _on_timer: at the earliest deadline, every machine is polled.
        deadline = self._deadline()
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            self._outputs([*self.fxs_line.poll(now), *self.fxo_line.poll(now)])

    def _handle(self, item: object) -> None:
        now = time.monotonic()
        if isinstance(item, _Call):
            item.result.append(item.fn())
            item.done.set()
        elif isinstance(item, _SignalDone):
            done: FxsLine | FxoLine = (
                self.fxs_line if item.leg == self.fxs_line.leg else self.fxo_line)
            self._outputs(done.signal_done(now))
        elif isinstance(item, LineSignal):
            self._outputs(self._on_signal(item, now))
            with self._lock:
                self._handled.append(item)
        elif isinstance(item, CallEvent):
            line: FxsLine | FxoLine = (
                self.fxs_line if item.leg == self.fxs_line.leg else self.fxo_line)
            self._outputs(line.command(item, now))
        else:
            raise TypeError(f"the app was handed {item!r}")

    def _on_signal(self, sig: LineSignal, now: float) -> Sequence[LineOutput]:
        """box.py's routing, the same function: each signal to the line of its port."""
        return deliver(sig, {self.fxs_port.index: self.fxs_line},
                       {self.fxo_port.index: self.fxo_line}, now)

    def _outputs(self, outs: Sequence[LineOutput]) -> None:
        now = time.monotonic()
        for out in outs:
            if isinstance(out, CallEvent):
                with self._lock:
                    self._up.append(Up(now, out))
            else:
                with self._lock:
                    self._actions.append(out)
                self._action(out)

    def _action(self, a: LineAction) -> None:
        """box.py's board actions, the same function; the media path is not here."""
        mine = a.leg in (self.fxs_line.leg, self.fxo_line.leg)
        fxs = self.fxs_port if a.leg == self.fxs_line.leg else None
        fxo = self.fxo_port if a.leg == self.fxo_line.leg else None
        if mine and not board_action(a, fxs, fxo) and isinstance(
                a, act.SendCallerId | act.DialDigits):
            # No media path here: what was asked for has "played" at once (box.py does the
            # same for a port without a caller ID standard).
            self._inbox.put(_SignalDone(a.leg))
        if self.on_action is not None:
            self.on_action(a)
