"""One rig per line-board backend, with the same verbs, for the contract suite.

A rig is a started board with the application's half on it (``LineApp``: a real FxsLine
on FXS 1 and FxoLine on FXO 1, fed as box.py feeds them), a virtual handset on FXS 1 and a
virtual PSTN line on FXO 1.

* Verbs act on the outside of the board, the way a handset or an exchange would: the sim
  board's own handset and line verbs; for GPIO, gpiozero mock pins driven on a timer
  thread; for the co-processor, the emulated MCU's input pins, timed in its own ms.
* Each verb queues behind what that input is already doing and returns at once; the test
  waits for what the line layer says.
* ``bell_sounding``, ``polarity_reversed`` and ``loop_closed`` read the backend's own
  hardware side (sim port state, GPIO output pins, the MCU's output lines), not what the
  port says of itself.
* Each ``*_rig`` context manager puts the backend in and always takes it out again: the
  board closed, gpiozero's pin factory restored, the emulator stopped.
"""

from __future__ import annotations

import functools
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, Literal, TypeVar

from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from drivers.base import Board, FxoPort, FxsPort
from drivers.coproc import CoprocBoard
from drivers.gpio import GpioBoard
from drivers.profile import load_board_profile
from drivers.sim import SimBoard
from drivers.sim.timeline import Timeline
from firmware.lines import CallerIdPlan, FxoLine, FxsLine, HookTiming
from firmware.lines import actions as act
from tests.contract.lineapp import LineApp
from tests.support import WAIT_S, load_tool, wait_until

FXS_LEG = "fxs1"
FXO_LEG = "fxo1"
# The line layer's own defaults: 20 ms debounce, flash 100..900 ms, break 30..95 ms,
# make 25..95 ms, a make of 250 ms ends a digit; a test may ask for others.
TIMING = HookTiming()
# A long first burst, so the bell is still in it when a test looks.
RING_CADENCE_MS = (2000, 4000)
RING_HZ = 25.0
# A rotary dial's pause between digits: above the 250 ms that ends one, short for a test.
INTERDIGIT_MS = 300.0
# The quiet a PSTN leaves after ringing, so that the next ring is a new burst.
RING_QUIET_MS = 300.0
GPIO_PROFILE = "ag1171-gpio-2p"

Levels = Sequence[tuple[bool, float]]  # (input active, ms held), as a script plays them
B = TypeVar("B", bound=Board)
R = TypeVar("R", bound="Rig")


def make_lines(timing: HookTiming) -> tuple[FxsLine, FxoLine]:
    """The machines as wiring.py builds them, without caller ID (no media path here)."""
    fxs = FxsLine(FXS_LEG, timing, RING_CADENCE_MS, RING_HZ, CallerIdPlan(enabled=False))
    fxo = FxoLine(FXO_LEG)  # no caller ID standard: Setup goes up at the first valid ring
    return fxs, fxo


class Rig(ABC):
    """A board, its ports 1, the application on them, and the test verbs."""

    name: str

    def __init__(self, board: Board, timing: HookTiming) -> None:
        self.board = board
        self.fxs: FxsPort = board.fxs[0]
        self.fxo: FxoPort = board.fxo[0]
        self.fxs_line, self.fxo_line = make_lines(timing)
        # As the daemon does: the port gets its line's windows (a board that classifies
        # in hardware must judge by them too).
        self.fxs.configure_hook(timing)
        self.app = LineApp(self.fxs, self.fxs_line, self.fxo, self.fxo_line)
        self.app.on_action = self._pstn_reacts

    def start(self) -> None:
        self.app.start()
        self.board.start(self.app.sink)

    def close(self) -> None:
        try:
            self.board.close()
        finally:
            self.app.close()

    # --- the handset on FXS 1 -------------------------------------------------------------
    @abstractmethod
    def lift(self, bounce_ms: float = 0.0) -> None:
        """Off-hook; with ``bounce_ms`` the contacts open again that long just after the
        make, as worn hook contacts chatter."""

    @abstractmethod
    def hang_up(self) -> None: ...

    @abstractmethod
    def hold_break(self, ms: float) -> None:
        """Open the loop for ``ms`` and close it again (a pulse, a flash, or a hang-up and
        a new lift, by its length)."""

    def flash(self, ms: float = 300.0) -> None:
        self.hold_break(ms)

    @abstractmethod
    def dial_pulses(self, digits: str, break_ms: float, make_ms: float,
                    interdigit_ms: float = INTERDIGIT_MS) -> None: ...

    # --- the PSTN line on FXO 1 -----------------------------------------------------------
    @abstractmethod
    def pstn_ring_burst(self, ms: float) -> None:
        """The exchange rings the line for ``ms``, then leaves it quiet a while."""

    @abstractmethod
    def pstn_blip(self, ms: float) -> None:
        """Ring-detect activity for ``ms`` (a click, a polarity reversal), then quiet."""

    @abstractmethod
    def drop_loop_current(self, ms: float | None = None) -> None:
        """Loop current drops for ``ms`` and returns, or for good (the far end hung up)."""

    @abstractmethod
    def _pstn_reacts(self, action: act.LineAction) -> None:
        """What the far end does when the board acts (on the app thread, after it)."""

    # --- the backend's hardware side ------------------------------------------------------
    @abstractmethod
    def bell_sounding(self) -> bool:
        """Ring voltage is on the FXS line now."""

    @abstractmethod
    def polarity_reversed(self) -> bool:
        """The FXS line's polarity is reversed now."""

    @abstractmethod
    def loop_closed(self) -> bool:
        """The FXO port holds the PSTN loop closed now."""


# --- sim ------------------------------------------------------------------------------------

class SimRig(Rig):
    name = "sim"

    def __init__(self, board: SimBoard, timing: HookTiming) -> None:
        super().__init__(board, timing)
        self.handset = board.sim_fxs[0]
        self.line = board.sim_fxo[0]

    def lift(self, bounce_ms: float = 0.0) -> None:
        self.handset.lift()
        if bounce_ms:
            # A chatter is a break of a few ms right after the make; flash times any break.
            self.handset.flash(bounce_ms)

    def hang_up(self) -> None:
        self.handset.hang_up()

    def hold_break(self, ms: float) -> None:
        self.handset.flash(ms)

    def dial_pulses(self, digits: str, break_ms: float, make_ms: float,
                    interdigit_ms: float = INTERDIGIT_MS) -> None:
        self.handset.dial_pulses(digits, break_ms, make_ms, interdigit_ms)

    def pstn_ring_burst(self, ms: float) -> None:
        self._ring(ms)

    def pstn_blip(self, ms: float) -> None:
        self._ring(ms)  # the sim line reports every burst; the line layer validates it

    def _ring(self, ms: float) -> None:
        # A new ring() replaces the one still playing: let that one end first.
        assert wait_until(lambda: not self.line.ringing), "the last ring never ended"
        self.line.ring([round(ms), round(RING_QUIET_MS)], bursts=1)

    def drop_loop_current(self, ms: float | None = None) -> None:
        if ms is None:
            self.line.hang_up()
        else:
            self.line.loop_break(ms)

    def _pstn_reacts(self, action: act.LineAction) -> None:
        pass  # the sim line feeds and drops loop current itself

    def bell_sounding(self) -> bool:
        return self.handset.ring_burst_now()

    def polarity_reversed(self) -> bool:
        return self.handset.describe()["polarity"] == "reversed"

    def loop_closed(self) -> bool:
        return self.line.seized


@contextmanager
def running(board: B, build: Callable[[B], R]) -> Iterator[R]:
    """The rig ``build`` makes on ``board``, started; the board and the rig always closed."""
    try:
        rig = build(board)
    except BaseException:
        board.close()
        raise
    try:
        rig.start()
        yield rig
    finally:
        rig.close()


@contextmanager
def sim_rig(timing: HookTiming = TIMING) -> Iterator[SimRig]:
    with running(SimBoard(fxs=1, fxo=1), lambda b: SimRig(b, timing)) as rig:
        yield rig


# --- scripted inputs (gpio, coproc) ---------------------------------------------------------

Input = Literal["shk", "rd", "lc"]  # hook switch; ring detect; loop current


def pulse_levels(digits: str, break_ms: float, make_ms: float,
                 interdigit_ms: float) -> list[tuple[bool, float]]:
    """The hook switch of a rotary dial: a pause, then per digit its breaks and makes
    (ten for 0), the last make of each digit held for the pause."""
    levels: list[tuple[bool, float]] = [(True, interdigit_ms)]
    for d in digits:
        n = int(d) or 10
        for i in range(n):
            levels.append((False, break_ms))
            levels.append((True, make_ms if i < n - 1 else interdigit_ms))
    return levels


def ring_wave(ms: float, hz: float = RING_HZ) -> list[tuple[bool, float]]:
    """An unfiltered ring-detect opto: conducting on one half of each ring cycle."""
    half = 500.0 / hz
    levels: list[tuple[bool, float]] = []
    t, on = 0.0, True
    while t < ms:
        step = min(half, ms - t)
        levels.append((on, step))
        t += step
        on = not on
    return levels


class ScriptedRig(Rig):
    """Verbs as level scripts on the board's inputs; each backend plays them its way."""

    @abstractmethod
    def _play(self, name: Input, levels: Levels) -> None:
        """Drive input ``name`` through ``levels`` after what is already scripted for it;
        the last level stays."""

    def lift(self, bounce_ms: float = 0.0) -> None:
        chatter = [(False, bounce_ms), (True, 1.0)] if bounce_ms else []
        self._play("shk", [(True, 2.0), *chatter])

    def hang_up(self) -> None:
        self._play("shk", [(False, 1.0)])

    def hold_break(self, ms: float) -> None:
        self._play("shk", [(False, ms), (True, 1.0)])

    def dial_pulses(self, digits: str, break_ms: float, make_ms: float,
                    interdigit_ms: float = INTERDIGIT_MS) -> None:
        self._play("shk", pulse_levels(digits, break_ms, make_ms, interdigit_ms))

    def pstn_ring_burst(self, ms: float) -> None:
        self._play("rd", [*ring_wave(ms), (False, RING_QUIET_MS)])

    def pstn_blip(self, ms: float) -> None:
        self._play("rd", [(True, ms), (False, RING_QUIET_MS)])

    def drop_loop_current(self, ms: float | None = None) -> None:
        self._play("lc", [(False, 1.0)] if ms is None else [(False, ms), (True, 1.0)])

    def _pstn_reacts(self, action: act.LineAction) -> None:
        # The exchange feeds loop current into a closed loop, and none into an open one.
        if isinstance(action, act.SeizeLine):
            self._play("lc", [(True, 1.0)])
        elif isinstance(action, act.ReleaseLine):
            self._play("lc", [(False, 1.0)])


# --- gpio -----------------------------------------------------------------------------------

class EdgePin(MockPWMPin):  # type: ignore[misc]  # gpiozero is untyped
    """gpiozero's mock pin, whose edges carry the instant they were planned for, as a
    kernel's edge timestamps do (lgpio): the instant holds however late the driving
    thread runs on a loaded machine."""

    _stamp: float | None = None

    def drive_at(self, level: bool, at: float) -> None:
        self._stamp = at
        try:
            if level:
                self.drive_high()
            else:
                self.drive_low()
        finally:
            self._stamp = None

    def _change_state(self, value: bool) -> bool:
        changed: bool = super()._change_state(value)
        if changed and self._stamp is not None:
            self._last_change = self._stamp  # the tick the edge callback is given
        return changed


class GpioRig(ScriptedRig):
    name = "gpio"

    def __init__(self, board: GpioBoard, factory: MockFactory, timing: HookTiming) -> None:
        super().__init__(board, timing)
        fxs, fxo = board.profile.fxs[0], board.profile.fxo[0]
        self._inputs: dict[Input, tuple[EdgePin, bool]] = {
            "shk": (factory.pin(fxs.pins["shk"]), "shk" in fxs.active_low),
            "rd": (factory.pin(fxo.pins["ring_detect"]), "ring_detect" in fxo.active_low),
            "lc": (factory.pin(fxo.pins["loop_current"]), "loop_current" in fxo.active_low),
        }
        self._rm = (factory.pin(fxs.pins["rm"]), "rm" in fxs.active_low)
        self._fr = (factory.pin(fxs.pins["fr"]), "fr" in fxs.active_low)
        self._hook = (factory.pin(fxo.pins["hook"]), "hook" in fxo.active_low)
        self._timeline = Timeline("gpio-rig")
        self._lock = threading.Lock()
        self._tails: dict[Input, float] = {}

    def close(self) -> None:
        try:
            self._timeline.close()
        finally:
            super().close()

    def _play(self, name: Input, levels: Levels) -> None:
        pin, active_low = self._inputs[name]
        with self._lock:
            at = max(time.monotonic(), self._tails.get(name, 0.0))
            for active, ms in levels:
                self._timeline.at(at, functools.partial(pin.drive_at, active != active_low))
                at += ms / 1000.0
            self._tails[name] = at

    @staticmethod
    def _active(pin: tuple[Any, bool]) -> bool:
        return bool(pin[0].state) != pin[1]

    def bell_sounding(self) -> bool:
        return self._active(self._rm)  # RM high: the SLIC is in ringing mode

    def polarity_reversed(self) -> bool:
        return not self._active(self._fr)  # F/R high is forward

    def loop_closed(self) -> bool:
        return self._active(self._hook)


@contextmanager
def gpio_rig(timing: HookTiming = TIMING) -> Iterator[GpioRig]:
    profile = load_board_profile(GPIO_PROFILE)
    saved = Device.pin_factory
    factory = MockFactory(pin_class=MockPWMPin)
    Device.pin_factory = factory
    try:
        fxs, fxo = profile.fxs[0], profile.fxo[0]
        for bcm in (fxs.pins["shk"], fxo.pins["ring_detect"], fxo.pins["loop_current"]):
            factory.pin(bcm, pin_class=EdgePin)  # before the board claims them
        board = GpioBoard(profile, pin_factory=factory)
        with running(board, lambda b: GpioRig(b, factory, timing)) as rig:
            yield rig
    finally:
        factory.reset()
        Device.pin_factory = saved


# --- coproc ---------------------------------------------------------------------------------

# The emulated MCU's channels ("SSO"): FXS 1 and 2, then FXO 1.
COPROC_CHANNELS: Final[Mapping[Input, int]] = {"shk": 0, "rd": 2, "lc": 2}


class CoprocRig(ScriptedRig):
    name = "coproc"

    def __init__(self, board: CoprocBoard, emulator: Any, timing: HookTiming) -> None:
        super().__init__(board, timing)
        self.emulator = emulator

    def _play(self, name: Input, levels: Levels) -> None:
        # The emulator keeps whole milliseconds and plays them exactly.
        self.emulator.play(COPROC_CHANNELS[name], name,
                           [(active, max(1, round(ms))) for active, ms in levels])

    def _output(self, channel: int, name: str) -> bool:
        with self.emulator.locked():
            return bool(getattr(self.emulator.line(channel), name))

    def bell_sounding(self) -> bool:
        return self._output(0, "rm")

    def polarity_reversed(self) -> bool:
        return self._output(0, "fr")  # between bursts F/R is the polarity

    def loop_closed(self) -> bool:
        return self._output(2, "oh")


@contextmanager
def coproc_rig(timing: HookTiming = TIMING) -> Iterator[CoprocRig]:
    emulator = load_tool("coproc_emulator").CoprocEmulator("SSO").start()
    try:
        board = CoprocBoard(emulator.path, fxs={1: 0, 2: 1}, fxo={1: 2})
        with running(board, lambda b: CoprocRig(b, emulator, timing)) as rig:
            assert board.wait_connected(WAIT_S), "the host never connected to the MCU"
            yield rig
    finally:
        emulator.stop()
