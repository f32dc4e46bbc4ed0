"""The line-board interface every backend implements (simulated, GPIO, co-processor).

Modelled on gpiozero's pin factories: a small abstract surface, and simulated twins that
are real backends with extra test verbs.

A backend MUST:

* create its ports at construction and keep them until :meth:`Board.close`;
* deliver line signals by calling the ``sink`` given to :meth:`Board.start` with
  :class:`LineSignal` values. The sink is thread-safe; call it from any thread. Every
  signal carries ``at``, the ``time.monotonic()`` instant the edge happened, so timing
  rules hold even when delivery is late;
* give raw hook edges (the line layer debounces and classifies them), unless the backend
  classifies in hardware, in which case it gives :class:`PulseDigit` and :class:`HookFlash`
  with ``debounced=True`` hook edges;
* move audio as 20 ms frames of 160 signed 16-bit little-endian samples at 8 kHz through
  :meth:`LinePort.read_frame` / :meth:`LinePort.write_frame`. Both are called from the
  media clock thread: they never block, and return silence on underrun;
* stop ringing by itself the moment a ringing FXS port goes off-hook (ring trip).

A backend MAY implement hardware ring cadence (``start_ringing`` takes the cadence), and
report :class:`RingBurst` edges so the line layer can time caller ID from real bursts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

FRAME_SAMPLES = 160
FRAME_BYTES = FRAME_SAMPLES * 2
SAMPLE_RATE = 8000
SILENCE = bytes(FRAME_BYTES)

PortKind = Literal["fxs", "fxo"]


@dataclass(frozen=True)
class HookEdge:
    """An FXS handset's hook switch changed (raw unless ``debounced``)."""

    port: int
    offhook: bool
    at: float
    debounced: bool = False


@dataclass(frozen=True)
class PulseDigit:
    """A rotary digit counted by hardware (co-processor)."""

    port: int
    digit: str
    at: float


@dataclass(frozen=True)
class HookFlash:
    """A hook flash classified by hardware (co-processor)."""

    port: int
    at: float


@dataclass(frozen=True)
class RingBurst:
    """An FXO port's ring signal started or ended (validated by the backend), or, with
    ``kind="fxs"``, an FXS ring burst started or ended under hardware cadence."""

    port: int
    on: bool
    at: float
    kind: PortKind = "fxo"


@dataclass(frozen=True)
class PolarityReversal:
    """An FXO line's polarity reversed (answer or disconnect supervision)."""

    port: int
    at: float


@dataclass(frozen=True)
class LoopCurrent:
    """An FXO line's loop current appeared or dropped (CPC disconnect)."""

    port: int
    present: bool
    at: float


@dataclass(frozen=True)
class BoardFault:
    """The board reports a fault (co-processor reset, link lost, overcurrent)."""

    port: int | None
    what: str
    at: float


LineSignal = (
    HookEdge | PulseDigit | HookFlash | RingBurst | PolarityReversal | LoopCurrent | BoardFault
)
SignalSink = Callable[[LineSignal], None]


@runtime_checkable
class AudioEndpoint(Protocol):
    """Where a port's 20 ms frames come from and go to when the board's line switching
    and its audio are separate (a GPIO or co-processor board with a codec per port,
    usually :class:`drivers.alsa.AlsaAudio`). Both methods are called from the media clock
    thread: they never block, and ``read_frame`` gives silence on underrun."""

    def read_frame(self) -> bytes: ...

    def write_frame(self, frame: bytes) -> None: ...


class SilentAudio:
    """The endpoint of a port with no codec: hears silence, drops what it is sent."""

    def read_frame(self) -> bytes:
        return SILENCE

    def write_frame(self, frame: bytes) -> None:
        del frame


class LinePort(ABC):
    """One analog port: its audio, and what the two kinds share."""

    kind: PortKind
    index: int  # 1-based, per kind, as printed on the board

    @abstractmethod
    def read_frame(self) -> bytes:
        """20 ms of audio from the line (the handset's microphone, the PSTN's voice)."""

    @abstractmethod
    def write_frame(self, frame: bytes) -> None:
        """20 ms of audio to the line (the handset's earpiece, towards the PSTN)."""

    def describe(self) -> dict[str, object]:
        """Live state for ``minipbx hw ports`` and ``status``; backends add their own keys."""
        return {"kind": self.kind, "index": self.index}


class HookWindows(Protocol):
    """The hook timing windows a port is to use (the line layer's ``HookTiming`` fits)."""

    @property
    def debounce_ms(self) -> float: ...
    @property
    def flash_min_ms(self) -> float: ...
    @property
    def flash_max_ms(self) -> float: ...
    @property
    def pulse_break_min_ms(self) -> float: ...
    @property
    def pulse_break_max_ms(self) -> float: ...
    @property
    def pulse_make_min_ms(self) -> float: ...
    @property
    def pulse_make_max_ms(self) -> float: ...
    @property
    def interdigit_ms(self) -> float: ...
    @property
    def pulse_mapping(self) -> str: ...


class FxsPort(LinePort):
    kind: PortKind = "fxs"

    def configure_hook(self, timing: HookWindows) -> None:
        """Take the port's hook windows. A backend that classifies pulses and flashes in
        hardware must apply them; one that gives raw edges may ignore them (the line
        layer classifies with the same windows)."""
        del timing

    @abstractmethod
    def start_ringing(self, cadence_ms: Sequence[int], frequency_hz: float) -> None:
        """Ring with on/off steps (ms, starting with on, repeating) until stopped."""

    @abstractmethod
    def stop_ringing(self) -> None: ...

    @abstractmethod
    def set_polarity(self, reversed_: bool) -> None:
        """Reverse the line polarity (caller ID alerting, answer supervision)."""

    @property
    @abstractmethod
    def offhook(self) -> bool:
        """The hook state as the hardware sees it now (debounced by the line layer)."""

    @property
    @abstractmethod
    def ringing(self) -> bool: ...


class FxoPort(LinePort):
    kind: PortKind = "fxo"

    @abstractmethod
    def seize(self) -> None:
        """Close the loop (go off-hook towards the PSTN)."""

    @abstractmethod
    def release(self) -> None: ...

    @property
    @abstractmethod
    def seized(self) -> bool: ...


class Board(ABC):
    """A set of ports behind one backend."""

    name: str
    fxs: Sequence[FxsPort]
    fxo: Sequence[FxoPort]

    @abstractmethod
    def start(self, sink: SignalSink) -> None:
        """Begin delivering line signals to ``sink``."""

    @abstractmethod
    def close(self) -> None:
        """Stop ringing, release lines, stop threads. Idempotent."""

    def port(self, kind: PortKind, index: int) -> LinePort:
        ports: Sequence[LinePort] = self.fxs if kind == "fxs" else self.fxo
        for p in ports:
            if p.index == index:
                return p
        from drivers.errors import PortError

        raise PortError(f"{self.name} board has no {kind.upper()} port {index} "
                        f"(it has {len(ports)})")
