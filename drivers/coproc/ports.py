"""The ports of the co-processor backend: each keeps its wanted state and turns the MCU's
events for its channel into line signals.

Rules:

* Every setter records the wanted state first and then asks the board to send it, so a
  command given while the link is down is not lost: the board sends every port's
  :meth:`wanted` commands again at each (re)connection. ``wanted`` is the whole line
  state, RING_STOP included for a port that should not ring (board/PROTOCOL.md 4.2): after
  a reconnect nothing is left to what the co-processor remembers.
* The PORT_STATE snapshot the co-processor sends after CONNECT is compared with the wanted
  state: input state (hook, loop current, ring signal) is taken from it; an output that
  differs (ringing, polarity, seizure) is reported and its command sent again.
* Only the co-processor's own decisions (ring trip) end the wanted ringing; a RING event
  for a RING_STOP the host sent does not, so a RING_START that followed it stands.
* The ring frequency is the board's choice (:meth:`Commander.ring_frequency`): the
  country's, or the nearest one the board profile and the co-processor both allow. A port
  that cannot ring at all raises :class:`RingError` from ``start_ringing`` and says why in
  ``describe()["ring_problem"]``.
* A port reports only changes: an event that repeats what the port already knows (a
  PORT_STATE snapshot after a reset told it first) gives no signal.
* Audio never crosses the UART: it goes to the port's :class:`AudioEndpoint`, or is
  silence and dropped without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from drivers.base import (
    AudioEndpoint,
    FxoPort,
    FxsPort,
    HookEdge,
    HookFlash,
    LineSignal,
    LoopCurrent,
    PolarityReversal,
    PulseDigit,
    RingBurst,
    SilentAudio,
)
from drivers.coproc.errors import RingError
from drivers.coproc.messages import (
    FXO_LOOP,
    FXO_RING,
    FXO_SEIZED,
    FXS_OFFHOOK,
    FXS_REVERSED,
    FXS_RINGING,
    RING_STOPPED,
    Command,
    DigitEvent,
    FlashEvent,
    FxoHook,
    FxoRingEvent,
    HookEvent,
    LinePolarityEvent,
    LoopEvent,
    McuEvent,
    Polarity,
    PortStateEvent,
    RingEvent,
    RingStart,
    RingStop,
)
from drivers.coproc.timing import (
    FxoTiming,
    HookTimingLike,
    fxo_config,
    fxs_config,
    ring_command,
)


class Commander(Protocol):
    """What a port needs of its board: its lock (the reader thread changes port state
    under it too), and a way to send a command."""

    @property
    def lock(self) -> AbstractContextManager[object]: ...

    def command(self, command: Command) -> None: ...

    def ring_frequency(self, leg: str, frequency_hz: float) -> int:
        """Centihertz to ring at for ``frequency_hz``; RingError when none will do."""

    def corrected(self, what: str, command: Command) -> None:
        """Report that the co-processor's line state differed from the wanted one (``what``),
        and send ``command`` to set it right."""


class CoprocFxsPort(FxsPort):
    def __init__(self, board: Commander, index: int, channel: int,
                 audio: AudioEndpoint | None, timing: HookTimingLike) -> None:
        self.index = index
        self.channel = channel
        self._board = board
        self._audio: AudioEndpoint = audio or SilentAudio()
        self.config = fxs_config(self.leg, channel, timing)
        self._want_ring: tuple[tuple[int, ...], float] | None = None  # steps, country Hz
        self._ring_chz: int | None = None  # what the last RING_START asked for
        self.ring_problem: str | None = None  # why the port could not ring, last time
        self._reversed = False
        self._offhook = False
        self._burst_on = False

    @property
    def leg(self) -> str:
        return f"fxs{self.index}"

    def read_frame(self) -> bytes:
        return self._audio.read_frame()

    def write_frame(self, frame: bytes) -> None:
        self._audio.write_frame(frame)

    def configure_hook(self, timing: HookTimingLike) -> None:
        """New hook windows (the line layer's HookTiming or :class:`FxsTiming`)."""
        config = fxs_config(self.leg, self.channel, timing)
        with self._board.lock:
            self.config = config
            self._board.command(config)

    def start_ringing(self, cadence_ms: Sequence[int], frequency_hz: float) -> None:
        with self._board.lock:
            try:
                command = self._ring_command(tuple(cadence_ms), frequency_hz)
            except RingError as exc:
                self.ring_failed(str(exc))
                raise
            if self._offhook:
                return  # it would trip at once
            self._want_ring = (command.steps, frequency_hz)
            self.ring_problem = None
            self._board.command(command)

    def _ring_command(self, steps: tuple[int, ...], frequency_hz: float) -> RingStart:
        command = ring_command(self.leg, self.channel, steps,
                               self._board.ring_frequency(self.leg, frequency_hz))
        self._ring_chz = command.freq
        return command

    def ring_failed(self, why: str) -> None:
        """The port cannot ring (no frequency, or the co-processor refused RING_START)."""
        self._want_ring = None
        self.ring_problem = why

    def stop_ringing(self) -> None:
        with self._board.lock:
            # Sent even when the port believes it is quiet: RING_STOP is a state, and the
            # co-processor's idea of this port is what matters.
            self._want_ring = None
            self._board.command(RingStop(self.channel))

    def set_polarity(self, reversed_: bool) -> None:
        with self._board.lock:
            self._reversed = reversed_
            self._board.command(Polarity(self.channel, reversed_))

    @property
    def offhook(self) -> bool:
        return self._offhook

    @property
    def ringing(self) -> bool:
        return self._want_ring is not None

    def wanted(self) -> list[Command]:
        commands: list[Command] = [self.config, Polarity(self.channel, self._reversed)]
        if self._want_ring is not None:
            steps, hz = self._want_ring
            commands.append(self._ring_command(steps, hz))  # RingError: the board says
        else:
            commands.append(RingStop(self.channel))
        return commands

    def on_event(self, event: McuEvent, at: float) -> list[LineSignal]:
        if isinstance(event, HookEvent):
            if event.offhook == self._offhook:
                return []  # already known (a PORT_STATE after a reset told it first)
            self._offhook = event.offhook
            return [HookEdge(self.index, event.offhook, at, debounced=True)]
        if isinstance(event, DigitEvent):
            return [PulseDigit(self.index, event.digit, at)]
        if isinstance(event, FlashEvent):
            return [HookFlash(self.index, at)]
        if isinstance(event, RingEvent):
            if not event.on and event.reason > RING_STOPPED:
                self._want_ring = None  # ring trip (or the host watchdog): the MCU decided
            if event.on == self._burst_on:
                return []
            self._burst_on = event.on
            return [RingBurst(self.index, event.on, at, kind="fxs")]
        if isinstance(event, PortStateEvent):
            return self._snapshot(event.flags, at)
        return []

    def _snapshot(self, flags: int, at: float) -> list[LineSignal]:
        out: list[LineSignal] = []
        offhook = bool(flags & FXS_OFFHOOK)
        if offhook != self._offhook:
            self._offhook = offhook
            out.append(HookEdge(self.index, offhook, at, debounced=True))
        ringing = bool(flags & FXS_RINGING)
        if not ringing and self._burst_on:
            self._burst_on = False
            out.append(RingBurst(self.index, False, at, kind="fxs"))
        if ringing and self._want_ring is None:
            self._board.corrected(f"{self.leg}: the co-processor was ringing it and the box "
                                  "wants it quiet", RingStop(self.channel))
        reversed_ = bool(flags & FXS_REVERSED)
        if reversed_ != self._reversed:
            self._board.corrected(
                f"{self.leg}: the co-processor had the polarity "
                f"{'reversed' if reversed_ else 'normal'} and the box wants it "
                f"{'reversed' if self._reversed else 'normal'}",
                Polarity(self.channel, self._reversed))
        return out

    def describe(self) -> dict[str, object]:
        ring_hz = None if self._want_ring is None or self._ring_chz is None \
            else self._ring_chz / 100
        return {**super().describe(), "channel": self.channel, "offhook": self._offhook,
                "ringing": self.ringing, "ring_hz": ring_hz, "ring_problem": self.ring_problem,
                "reversed": self._reversed}


class CoprocFxoPort(FxoPort):
    def __init__(self, board: Commander, index: int, channel: int,
                 audio: AudioEndpoint | None, timing: FxoTiming) -> None:
        self.index = index
        self.channel = channel
        self._board = board
        self._audio: AudioEndpoint = audio or SilentAudio()
        self.config = fxo_config(self.leg, channel, timing)
        self._seized = False
        self._loop: bool | None = None
        self._ring_on = False

    @property
    def leg(self) -> str:
        return f"fxo{self.index}"

    def read_frame(self) -> bytes:
        return self._audio.read_frame()

    def write_frame(self, frame: bytes) -> None:
        self._audio.write_frame(frame)

    def seize(self) -> None:
        with self._board.lock:
            self._seized = True
            self._board.command(FxoHook(self.channel, True))

    def release(self) -> None:
        with self._board.lock:
            self._seized = False
            self._board.command(FxoHook(self.channel, False))

    @property
    def seized(self) -> bool:
        return self._seized

    def wanted(self) -> list[Command]:
        return [self.config, FxoHook(self.channel, self._seized)]

    def on_event(self, event: McuEvent, at: float) -> list[LineSignal]:
        if isinstance(event, FxoRingEvent):
            self._ring_on = event.on
            return [RingBurst(self.index, event.on, at, kind="fxo")]
        if isinstance(event, LinePolarityEvent):
            return [PolarityReversal(self.index, at)]
        if isinstance(event, LoopEvent):
            if event.present == self._loop:
                return []
            self._loop = event.present
            return [LoopCurrent(self.index, event.present, at)]
        if isinstance(event, PortStateEvent):
            out: list[LineSignal] = []
            loop = bool(event.flags & FXO_LOOP)
            if self._loop is not None and loop != self._loop:
                out.append(LoopCurrent(self.index, loop, at))
            self._loop = loop  # the first snapshot tells the state, not a change
            ring = bool(event.flags & FXO_RING)
            if ring != self._ring_on:
                self._ring_on = ring
                out.append(RingBurst(self.index, ring, at, kind="fxo"))
            if bool(event.flags & FXO_SEIZED) != self._seized:
                self._board.corrected(
                    f"{self.leg}: the co-processor had the line "
                    f"{'seized' if event.flags & FXO_SEIZED else 'released'} and the box "
                    f"wants it {'seized' if self._seized else 'released'}",
                    FxoHook(self.channel, self._seized))
            return out
        return []

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "channel": self.channel, "seized": self._seized,
                "loop_current": self._loop, "ringing": self._ring_on}
