"""The host side of the co-processor link (board/PROTOCOL.md section 4), sans-IO.

Bytes and the current time go in; bytes to write, :class:`LinkEvent` values and the next
deadline come out. No threads, sockets or clock reads: ``now`` (seconds, one monotonic
source) is an argument, and :meth:`Link.next_deadline` says when :meth:`Link.poll` must
run next.

Rules:

* States: ``closed`` → :meth:`open` → ``connecting`` (HELLO_REQ every ``hello_interval``)
  → a compatible HELLO → ``connected`` (CONNECT sent, both sequence spaces at 0, event
  :class:`Connected`). The owner then sends its whole configuration and wanted state:
  commands are state, so sending them again after any reconnect is always right.
* Commands are sequenced: at most ``window`` outstanding, acknowledged cumulatively,
  sent again go-back-N after ``rto`` or on a NAK OUT_OF_ORDER. After ``max_retransmits``
  the link is :class:`Lost` and goes back to ``connecting``.
* MCU events are taken only in order; duplicates are acknowledged and dropped, a gap is
  NAKed. Each taken event comes out as :class:`Received` with its instant mapped to the
  host clock; an event the spec does not allow (a port HELLO did not list or of the other
  kind, a DIGIT that is not 0-9...) is taken, NAKed BAD_PORT or BAD_ARG and comes out as
  :class:`EventRefused` instead (section 3.2).
* A HELLO while connected is a reset (new boot_id) or a lost link (same boot_id); both
  reconnect. A HELLO with the same boot_id that arrives right after CONNECT, before the MCU
  has said anything on the new connection, was already on the wire: it is ignored.
* Nothing from the MCU for ``mcu_silence``: :class:`Lost`, back to ``connecting``.
* :class:`Connected` says who dropped the previous connection: ``after`` is the reason of
  the host's own :class:`Lost` (it gave up on a command, or heard nothing), None when the
  MCU dropped it (a HELLO or a NAK NOT_CONNECTED while the host was connected).
* Only commands the MCU's HELLO lists are sent (:meth:`Link.executes`); ``send`` refuses
  the others and the owner says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from drivers.coproc.clock import McuClock
from drivers.coproc.codec import Frame, FrameDecoder, encode_frame
from drivers.coproc.errors import FrameError
from drivers.coproc.messages import (
    MCU_EVENT_CLASSES,
    MESSAGE_TYPES,
    NAK_BAD_ARG,
    NAK_NOT_CONNECTED,
    NAK_OUT_OF_ORDER,
    NAK_REASONS,
    NAK_UNKNOWN_TYPE,
    PROTOCOL_VERSION,
    RESET_CAUSES,
    Ack,
    Command,
    Connect,
    Hello,
    HelloReq,
    Keepalive,
    McuEvent,
    Message,
    Nak,
    check_event,
    decode_message,
    frame_of,
)

Tracer = Callable[[str, Frame], None]
State = Literal["closed", "connecting", "connected"]


@dataclass(frozen=True)
class LinkTimers:
    """The link's timing rules (seconds), as data: tests shrink them, the spec names them."""

    rto: float = 0.1
    nak_holdoff: float = 0.02
    max_retransmits: int = 10
    keepalive: float = 0.5
    hello_interval: float = 0.5
    mcu_silence: float = 2.0
    window: int = 8


@dataclass(frozen=True)
class Connected:
    hello: Hello
    cause: Literal["first", "reset", "relink"]
    after: str | None = None  # why the host itself dropped the previous connection


@dataclass(frozen=True)
class Received:
    message: McuEvent
    at: float  # host monotonic instant of the event


@dataclass(frozen=True)
class Refused:
    command: Command
    reason: int

    @property
    def why(self) -> str:
        return NAK_REASONS.get(self.reason, f"reason {self.reason}")


@dataclass(frozen=True)
class Lost:
    reason: str
    command: Command | None = None  # the command the host gave up on, if that was why


@dataclass(frozen=True)
class Incompatible:
    hello: Hello
    reason: str


@dataclass(frozen=True)
class EventRefused:
    """An MCU event the host took (acknowledged) and refused with a NAK."""

    message: Message | None  # None: it could not even be decoded
    type: int
    reason: int

    @property
    def why(self) -> str:
        return NAK_REASONS.get(self.reason, f"reason {self.reason}")


LinkEvent = Connected | Received | Refused | EventRefused | Lost | Incompatible


@dataclass
class _Outstanding:
    seq: int
    command: Command
    sent_at: float
    retransmits: int = 0


class Link:
    def __init__(self, timers: LinkTimers | None = None, tracer: Tracer | None = None) -> None:
        self.timers = timers or LinkTimers()
        self._tracer = tracer
        self.decoder = FrameDecoder()
        self.clock = McuClock()
        self.state: State = "closed"
        self.hello: Hello | None = None
        self._boot_id: int | None = None  # boot of the last connection
        self._lost: str | None = None  # why the host dropped the last connection itself
        self._refused_boot: int | None = None
        self._out = bytearray()
        self._events: list[LinkEvent] = []
        self._tx_next = 0
        self._rx_expected = 0
        self._unacked: deque[_Outstanding] = deque()
        self._waiting: deque[Command] = deque()
        self._sent: dict[int, Command] = {}  # by seq, for a NAK that comes after its ACK
        self._ack_pending = False
        self._peer_heard = False
        self._last_tx = 0.0
        self._last_rx = 0.0
        self._hello_due = 0.0
        self._connected_at = 0.0
        self._last_go_back = float("-inf")
        self.retransmissions = 0
        self.events_refused = 0

    # --- the owner's side -----------------------------------------------------------------
    def open(self, now: float) -> None:
        """Start connecting: flush the MCU's receiver, ask for its HELLO."""
        self._out += b"\x00"
        self._to_connecting(now)

    def close(self, reason: str | None = None) -> None:
        """Stop; ``reason`` when the host closes on a failure (the next Connected says it)."""
        self.state = "closed"
        self._lost = reason
        self._reset_sequences()

    def executes(self, command_type: int) -> bool:
        """True when the MCU's HELLO lists the command type (or no HELLO came yet)."""
        return self.hello is None or command_type in self.hello.commands

    def send(self, command: Command, now: float) -> bool:
        """Queue a command; False (and nothing sent) when not connected, or when the MCU
        does not execute its type (its HELLO does not list it)."""
        if self.state != "connected" or not self.executes(command.TYPE):
            return False
        if len(self._unacked) < self.timers.window:
            self._transmit_new(command, now)
        else:
            self._waiting.append(command)
        return True

    @property
    def outstanding(self) -> int:
        """Commands sent or queued and not yet acknowledged."""
        return len(self._unacked) + len(self._waiting)

    def take_output(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def take_events(self) -> list[LinkEvent]:
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        if self.state == "closed":
            return None
        if self.state == "connecting":
            return self._hello_due
        deadlines = [self._last_tx + self.timers.keepalive,
                     self._last_rx + self.timers.mcu_silence]
        if self._unacked:
            deadlines.append(self._unacked[0].sent_at + self.timers.rto)
        return min(deadlines)

    # --- input ----------------------------------------------------------------------------
    def receive(self, data: bytes, now: float) -> None:
        for frame in self.decoder.feed(data):
            self._trace("rx", frame)
            self._on_frame(frame, now)
        if self._ack_pending and self.state == "connected":
            self._send_link(Ack(), now)

    def poll(self, now: float) -> None:
        if self.state == "connecting":
            if now >= self._hello_due:
                self._send_link(HelloReq(PROTOCOL_VERSION), now)
                self._hello_due = now + self.timers.hello_interval
            return
        if self.state != "connected":
            return
        if now - self._last_rx >= self.timers.mcu_silence:
            self._lose(f"nothing from the co-processor for {self.timers.mcu_silence:g} s", now)
            return
        if self._unacked and now - self._unacked[0].sent_at >= self.timers.rto:
            oldest = self._unacked[0]
            if oldest.retransmits >= self.timers.max_retransmits:
                self._lose(f"{oldest.command.NAME} seq {oldest.seq} not acknowledged after "
                           f"{oldest.retransmits} retransmissions", now, oldest.command)
                return
            self._go_back(now)
        if now - self._last_tx >= self.timers.keepalive:
            self._send_link(Keepalive(int(now * 1000) & 0xFFFFFFFF), now)

    # --- frames ---------------------------------------------------------------------------
    def _on_frame(self, frame: Frame, now: float) -> None:
        try:
            message = decode_message(frame)
        except FrameError:
            message = None
        if isinstance(message, Hello):
            self._last_rx = now
            self._on_hello(message, now)
            return
        if self.state != "connected":
            return
        self._last_rx = now
        if frame.sequenced:
            self._on_sequenced(frame, message, now)
            self._on_ack(frame.ack, now)
            return
        if isinstance(message, Nak):
            self._on_nak(message, frame.ack, now)
            return
        if isinstance(message, Keepalive):
            self.clock.observe(message.t, now)
            self._peer_heard = True
        if isinstance(message, Ack | Keepalive):
            self._on_ack(frame.ack, now)

    def _on_hello(self, hello: Hello, now: float) -> None:
        if hello.version != PROTOCOL_VERSION:
            if self._refused_boot != hello.boot_id:
                self._refused_boot = hello.boot_id
                self._events.append(Incompatible(
                    hello, f"co-processor speaks protocol {hello.version}, "
                           f"the host speaks {PROTOCOL_VERSION}; flash matching firmware"))
            return
        same_boot = hello.boot_id == self._boot_id
        if self.state == "connected" and same_boot and not self._peer_heard \
                and now - self._connected_at < 3 * self.timers.rto:
            return  # sent before the MCU took our CONNECT
        cause: Literal["first", "reset", "relink"]
        if self._boot_id is None:
            cause = "first"
        elif not same_boot:
            cause = "reset"
        else:
            cause = "relink"
        if not same_boot:
            self.clock.reset(hello.clock_bits)
        self.clock.observe(hello.t, now)
        self._connect(hello, now)
        self._events.append(Connected(hello, cause, self._lost))
        self._lost = None

    def _connect(self, hello: Hello, now: float) -> None:
        self.hello = hello
        self._boot_id = hello.boot_id
        self.state = "connected"
        self._reset_sequences()
        self._connected_at = now
        self._last_rx = now
        self._send_link(Connect(hello.boot_id), now)

    def _on_sequenced(self, frame: Frame, message: Message | None, now: float) -> None:
        d = (frame.seq - self._rx_expected) & 0xFF
        if d >= 128:  # a duplicate: taken before, our ack was lost
            self._ack_pending = True
            return
        if d != 0:
            self._send_link(Nak(frame.seq, NAK_OUT_OF_ORDER), now)
            return
        self._rx_expected = (self._rx_expected + 1) & 0xFF
        self._ack_pending = True
        self._peer_heard = True
        # A refused event is taken all the same (so the MCU moves on) and NAKed; the NAK
        # frame's ack covers it.
        if not isinstance(message, MCU_EVENT_CLASSES):
            # a newer firmware's event, or garbage that passed the CRC
            known = message is not None or frame.type in MESSAGE_TYPES
            self._refuse(frame, message, NAK_BAD_ARG if known else NAK_UNKNOWN_TYPE, now)
            return
        reason = check_event(message, self.hello.ports if self.hello is not None else ())
        if reason:
            self._refuse(frame, message, reason, now)
            return
        self._events.append(Received(message, self.clock.to_host(message.t, now)))

    def _refuse(self, frame: Frame, message: Message | None, reason: int, now: float) -> None:
        self.events_refused += 1
        self._send_link(Nak(frame.seq, reason), now)
        self._events.append(EventRefused(message, frame.type, reason))

    def _on_nak(self, nak: Nak, ack: int, now: float) -> None:
        if nak.reason == NAK_NOT_CONNECTED:
            if now - self._connected_at >= self.timers.rto and self.hello is not None:
                self._connect(self.hello, now)
                self._events.append(Connected(self.hello, "relink"))
            return
        if nak.reason == NAK_OUT_OF_ORDER:
            self._on_ack(ack, now)
            if now - self._last_go_back >= self.timers.nak_holdoff:
                self._go_back(now)
            return
        command = self._sent.get(nak.seq)
        if command is not None:
            del self._sent[nak.seq]
            self._events.append(Refused(command, nak.reason))
        self._on_ack(ack, now)

    def _on_ack(self, ack: int, now: float) -> None:
        if self._unacked:
            acked = ((ack - self._unacked[0].seq) & 0xFF) + 1
            if acked <= len(self._unacked):
                for _ in range(acked):
                    self._unacked.popleft()
        while self._waiting and len(self._unacked) < self.timers.window:
            self._transmit_new(self._waiting.popleft(), now)

    # --- output ---------------------------------------------------------------------------
    def _transmit_new(self, command: Command, now: float) -> None:
        item = _Outstanding(self._tx_next, command, now)
        self._tx_next = (self._tx_next + 1) & 0xFF
        self._unacked.append(item)
        self._sent[item.seq] = command
        self._emit(frame_of(command, item.seq, self._ack_value()), now)

    def _go_back(self, now: float) -> None:
        self._last_go_back = now
        for item in self._unacked:
            item.sent_at = now
            item.retransmits += 1
            self.retransmissions += 1
            self._emit(frame_of(item.command, item.seq, self._ack_value()), now)

    def _send_link(self, message: Message, now: float) -> None:
        self._emit(frame_of(message, 0, self._ack_value()), now)

    def _emit(self, frame: Frame, now: float) -> None:
        self._trace("tx", frame)
        self._out += encode_frame(frame)
        self._last_tx = now
        self._ack_pending = False  # every frame carries the ack

    def _ack_value(self) -> int:
        return (self._rx_expected - 1) & 0xFF

    # --- state ----------------------------------------------------------------------------
    def _reset_sequences(self) -> None:
        self._tx_next = 0
        self._rx_expected = 0
        self._unacked.clear()
        self._waiting.clear()
        self._sent.clear()
        self._ack_pending = False
        self._peer_heard = False

    def _to_connecting(self, now: float) -> None:
        self.state = "connecting"
        self._reset_sequences()
        self._hello_due = now

    def _lose(self, reason: str, now: float, command: Command | None = None) -> None:
        self._lost = reason
        self._events.append(Lost(reason, command))
        self._to_connecting(now)

    def _trace(self, direction: str, frame: Frame) -> None:
        if self._tracer is not None:
            self._tracer(direction, frame)


def describe_reset(hello: Hello) -> str:
    cause = RESET_CAUSES.get(hello.reset_cause, f"cause {hello.reset_cause}")
    return f"co-processor restarted ({cause}, firmware {hello.firmware}, boot {hello.boot_id:04x})"
