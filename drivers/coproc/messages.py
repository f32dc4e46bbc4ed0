"""The messages of the co-processor link (board/PROTOCOL.md section 3) as frozen dataclasses.

Field names are the specification's, so a golden vector's ``fields`` map onto a message
as they are. Fixed layouts are described once by ``_LAYOUT`` (name and struct code, all
little-endian); HELLO and RING_START, which carry counted lists, encode themselves.
"""

from __future__ import annotations

import struct
from dataclasses import astuple, dataclass, fields
from typing import ClassVar, TypeAlias

from drivers.coproc.codec import Frame
from drivers.coproc.errors import FrameError

PROTOCOL_VERSION = 1

# NAK reasons (section 3.2)
NAK_OUT_OF_ORDER = 1
NAK_UNKNOWN_TYPE = 2
NAK_BAD_PORT = 3
NAK_BAD_ARG = 4
NAK_NOT_CONNECTED = 5
NAK_REASONS = {1: "out of order", 2: "unknown type", 3: "bad port", 4: "bad argument",
               5: "not connected"}

# RING reasons (section 3.3)
RING_CADENCE = 0
RING_STOPPED = 1
RING_TRIP = 2
RING_WATCHDOG = 3

# PORT_STATE flags
FXS_OFFHOOK = 0x01
FXS_RINGING = 0x02
FXS_REVERSED = 0x04
FXO_SEIZED = 0x01
FXO_LOOP = 0x02
FXO_RING = 0x04
FXO_REVERSED = 0x08

# FAULT codes
FAULTS = {1: "event queue overflow", 2: "line alarm", 3: "sampling loop overrun",
          4: "frames dropped by the co-processor"}
BOARD_PORT = 0xFF
RESET_CAUSES = {0: "power-on", 1: "watchdog", 2: "soft reset", 3: "other"}

PORT_FXS = 0
PORT_FXO = 1
MAX_CADENCE_STEPS = 8


class _Fixed:
    """A message whose body is a fixed struct layout of its fields, in order."""

    TYPE: ClassVar[int]
    NAME: ClassVar[str]
    _LAYOUT: ClassVar[str]

    def encode_body(self) -> bytes:
        values = [int(v) for v in astuple(self)]  # type: ignore[call-overload]
        try:
            return struct.pack("<" + self._LAYOUT, *values)
        except struct.error as exc:
            raise FrameError(f"{self.NAME}: a field does not fit its wire size: {exc}") from exc

    @classmethod
    def decode_body(cls, body: bytes) -> _Fixed:
        try:
            values = struct.unpack("<" + cls._LAYOUT, body)
        except struct.error as exc:
            raise FrameError(f"{cls.NAME}: body of {len(body)} bytes does not match "
                             f"its layout") from exc
        kinds = [f.type for f in fields(cls)]  # type: ignore[arg-type]
        args = [bool(v) if k == "bool" else v for v, k in zip(values, kinds, strict=True)]
        return cls(*args)


# --- link frames -----------------------------------------------------------------------------

@dataclass(frozen=True)
class HelloReq(_Fixed):
    TYPE: ClassVar[int] = 0x02
    NAME: ClassVar[str] = "HELLO_REQ"
    _LAYOUT: ClassVar[str] = "B"
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Connect(_Fixed):
    TYPE: ClassVar[int] = 0x03
    NAME: ClassVar[str] = "CONNECT"
    _LAYOUT: ClassVar[str] = "H"
    boot_id: int


@dataclass(frozen=True)
class Keepalive(_Fixed):
    TYPE: ClassVar[int] = 0x04
    NAME: ClassVar[str] = "KEEPALIVE"
    _LAYOUT: ClassVar[str] = "I"
    t: int


@dataclass(frozen=True)
class Ack(_Fixed):
    TYPE: ClassVar[int] = 0x05
    NAME: ClassVar[str] = "ACK"
    _LAYOUT: ClassVar[str] = ""


@dataclass(frozen=True)
class Nak(_Fixed):
    TYPE: ClassVar[int] = 0x06
    NAME: ClassVar[str] = "NAK"
    _LAYOUT: ClassVar[str] = "BB"
    seq: int
    reason: int


@dataclass(frozen=True)
class Hello:
    TYPE: ClassVar[int] = 0x01
    NAME: ClassVar[str] = "HELLO"
    version: int
    boot_id: int
    reset_cause: int
    t: int
    clock_bits: int
    tick: int
    ring_min: int
    ring_max: int
    ports: tuple[int, ...]
    commands: tuple[int, ...]
    firmware: str

    def encode_body(self) -> bytes:
        fw = self.firmware.encode("ascii")
        return (struct.pack("<BHBIBBHH", self.version, self.boot_id, self.reset_cause, self.t,
                            self.clock_bits, self.tick, self.ring_min, self.ring_max)
                + bytes((len(self.ports), *self.ports))
                + bytes((len(self.commands), *self.commands))
                + bytes((len(fw),)) + fw)

    @classmethod
    def decode_body(cls, body: bytes) -> Hello:
        try:
            head = struct.unpack_from("<BHBIBBHH", body)
            i = struct.calcsize("<BHBIBBHH")
            lists: list[bytes] = []
            for _ in range(3):
                n = body[i]
                if i + 1 + n > len(body):
                    raise FrameError("HELLO: a counted list runs past the body")
                lists.append(body[i + 1:i + 1 + n])
                i += 1 + n
        except (struct.error, IndexError) as exc:
            raise FrameError("HELLO: body too short") from exc
        if i != len(body):
            raise FrameError(f"HELLO: {len(body) - i} stray bytes after the firmware version")
        try:
            firmware = lists[2].decode("ascii")
        except UnicodeDecodeError as exc:
            raise FrameError("HELLO: firmware version is not ASCII") from exc
        version, boot_id, reset_cause, t, clock_bits, tick, ring_min, ring_max = head
        return cls(version, boot_id, reset_cause, t, clock_bits, tick, ring_min, ring_max,
                   ports=tuple(lists[0]), commands=tuple(lists[1]), firmware=firmware)

    def describe_ports(self) -> str:
        return "".join("S" if k == PORT_FXS else "O" for k in self.ports)


# --- host commands -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CfgFxs(_Fixed):
    TYPE: ClassVar[int] = 0x10
    NAME: ClassVar[str] = "CFG_FXS"
    _LAYOUT: ClassVar[str] = "BBBBBBHHHB"
    port: int
    debounce: int
    break_min: int
    break_max: int
    make_min: int
    make_max: int
    flash_min: int
    flash_max: int
    interdigit: int
    pulse_map: int


@dataclass(frozen=True)
class CfgFxo(_Fixed):
    TYPE: ClassVar[int] = 0x11
    NAME: ClassVar[str] = "CFG_FXO"
    _LAYOUT: ClassVar[str] = "BHHBBBB"
    port: int
    ring_min: int
    ring_off: int
    rd_period_min: int
    rd_period_max: int
    polarity_debounce: int
    loop_debounce: int


@dataclass(frozen=True)
class RingStart:
    TYPE: ClassVar[int] = 0x12
    NAME: ClassVar[str] = "RING_START"
    port: int
    freq: int  # centihertz
    steps: tuple[int, ...]  # ms: on, off, on, off...

    def encode_body(self) -> bytes:
        try:
            return struct.pack(f"<BHB{len(self.steps)}H", self.port, self.freq,
                               len(self.steps), *self.steps)
        except struct.error as exc:
            raise FrameError(f"RING_START: a field does not fit its wire size: {exc}") from exc

    @classmethod
    def decode_body(cls, body: bytes) -> RingStart:
        if len(body) < 4 or len(body) != 4 + 2 * body[3]:
            raise FrameError(f"RING_START: body of {len(body)} bytes does not match its count")
        port, freq, n = struct.unpack_from("<BHB", body)
        return cls(port, freq, struct.unpack_from(f"<{n}H", body, 4))


@dataclass(frozen=True)
class RingStop(_Fixed):
    TYPE: ClassVar[int] = 0x13
    NAME: ClassVar[str] = "RING_STOP"
    _LAYOUT: ClassVar[str] = "B"
    port: int


@dataclass(frozen=True)
class Polarity(_Fixed):
    TYPE: ClassVar[int] = 0x14
    NAME: ClassVar[str] = "POLARITY"
    _LAYOUT: ClassVar[str] = "BB"
    port: int
    reversed: bool


@dataclass(frozen=True)
class FxoHook(_Fixed):
    TYPE: ClassVar[int] = 0x15
    NAME: ClassVar[str] = "FXO_HOOK"
    _LAYOUT: ClassVar[str] = "BB"
    port: int
    seized: bool


# --- MCU events ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HookEvent(_Fixed):
    TYPE: ClassVar[int] = 0x20
    NAME: ClassVar[str] = "HOOK"
    _LAYOUT: ClassVar[str] = "BIB"
    port: int
    t: int
    offhook: bool


@dataclass(frozen=True)
class DigitEvent:
    TYPE: ClassVar[int] = 0x21
    NAME: ClassVar[str] = "DIGIT"
    port: int
    t: int
    digit: str
    pulses: int

    def encode_body(self) -> bytes:
        return struct.pack("<BIcB", self.port, self.t, self.digit.encode("ascii"), self.pulses)

    @classmethod
    def decode_body(cls, body: bytes) -> DigitEvent:
        try:
            port, t, digit, pulses = struct.unpack("<BIcB", body)
            return cls(port, t, digit.decode("ascii"), pulses)
        except (struct.error, UnicodeDecodeError) as exc:
            raise FrameError("DIGIT: malformed body") from exc


@dataclass(frozen=True)
class FlashEvent(_Fixed):
    TYPE: ClassVar[int] = 0x22
    NAME: ClassVar[str] = "FLASH"
    _LAYOUT: ClassVar[str] = "BIH"
    port: int
    t: int
    duration: int


@dataclass(frozen=True)
class RingEvent(_Fixed):
    TYPE: ClassVar[int] = 0x23
    NAME: ClassVar[str] = "RING"
    _LAYOUT: ClassVar[str] = "BIBB"
    port: int
    t: int
    on: bool
    reason: int


@dataclass(frozen=True)
class FxoRingEvent(_Fixed):
    TYPE: ClassVar[int] = 0x24
    NAME: ClassVar[str] = "FXO_RING"
    _LAYOUT: ClassVar[str] = "BIB"
    port: int
    t: int
    on: bool


@dataclass(frozen=True)
class LinePolarityEvent(_Fixed):
    TYPE: ClassVar[int] = 0x25
    NAME: ClassVar[str] = "LINE_POLARITY"
    _LAYOUT: ClassVar[str] = "BIB"
    port: int
    t: int
    reversed: bool


@dataclass(frozen=True)
class LoopEvent(_Fixed):
    TYPE: ClassVar[int] = 0x26
    NAME: ClassVar[str] = "LOOP"
    _LAYOUT: ClassVar[str] = "BIB"
    port: int
    t: int
    present: bool


@dataclass(frozen=True)
class FaultEvent(_Fixed):
    TYPE: ClassVar[int] = 0x27
    NAME: ClassVar[str] = "FAULT"
    _LAYOUT: ClassVar[str] = "BIBH"
    port: int
    t: int
    code: int
    detail: int


@dataclass(frozen=True)
class PortStateEvent(_Fixed):
    TYPE: ClassVar[int] = 0x28
    NAME: ClassVar[str] = "PORT_STATE"
    _LAYOUT: ClassVar[str] = "BIB"
    port: int
    t: int
    flags: int


LinkMessage: TypeAlias = Hello | HelloReq | Connect | Keepalive | Ack | Nak
Command: TypeAlias = CfgFxs | CfgFxo | RingStart | RingStop | Polarity | FxoHook
McuEvent: TypeAlias = (HookEvent | DigitEvent | FlashEvent | RingEvent | FxoRingEvent
                       | LinePolarityEvent | LoopEvent | FaultEvent | PortStateEvent)
Message: TypeAlias = LinkMessage | Command | McuEvent

MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls for cls in (
        Hello, HelloReq, Connect, Keepalive, Ack, Nak,
        CfgFxs, CfgFxo, RingStart, RingStop, Polarity, FxoHook,
        HookEvent, DigitEvent, FlashEvent, RingEvent, FxoRingEvent, LinePolarityEvent,
        LoopEvent, FaultEvent, PortStateEvent)
}
BY_NAME: dict[str, type[Message]] = {cls.NAME: cls for cls in MESSAGE_TYPES.values()}
COMMAND_TYPES = tuple(t for t in MESSAGE_TYPES if 0x10 <= t < 0x20)
MCU_EVENT_CLASSES = (HookEvent, DigitEvent, FlashEvent, RingEvent, FxoRingEvent,
                     LinePolarityEvent, LoopEvent, FaultEvent, PortStateEvent)


FXS_EVENTS = (HookEvent, DigitEvent, FlashEvent, RingEvent)
FXO_EVENTS = (FxoRingEvent, LinePolarityEvent, LoopEvent)
PULSE_DIGITS = "0123456789"


def check_event(event: McuEvent, ports: tuple[int, ...]) -> int:
    """0 when an MCU event is one the spec allows for these HELLO ports, else the NAK
    reason the host refuses it with (section 3.2: BAD_PORT, BAD_ARG)."""
    if not (isinstance(event, FaultEvent) and event.port == BOARD_PORT):
        if event.port >= len(ports):
            return NAK_BAD_PORT
        kind = ports[event.port]
        if (isinstance(event, FXS_EVENTS) and kind != PORT_FXS) or (
                isinstance(event, FXO_EVENTS) and kind != PORT_FXO):
            return NAK_BAD_PORT
    if isinstance(event, DigitEvent) and (
            event.digit not in PULSE_DIGITS or len(event.digit) != 1
            or not 1 <= event.pulses <= 10):
        return NAK_BAD_ARG
    if isinstance(event, RingEvent) and event.reason > RING_WATCHDOG:
        return NAK_BAD_ARG
    return 0


def decode_message(frame: Frame) -> Message:
    """The message a frame carries; raises FrameError for an unknown type or a bad body."""
    cls = MESSAGE_TYPES.get(frame.type)
    if cls is None:
        raise FrameError(f"unknown frame type 0x{frame.type:02x}")
    message: Message = cls.decode_body(frame.body)  # type: ignore[assignment]
    return message


def frame_of(message: Message, seq: int = 0, ack: int = 0) -> Frame:
    """The frame that carries ``message`` (``seq`` is forced to 0 for link frames)."""
    return Frame(message.TYPE, seq if message.TYPE >= 0x10 else 0, ack, message.encode_body())
