"""The line co-processor backend: ports whose timing lives on an RP2040 behind a UART.

The MCU debounces and classifies hook signals, runs ring cadences, trips ringing and
validates FXO rings by itself (board/PROTOCOL.md); this backend keeps the wanted state of
every port, sends it as commands, and turns the MCU's events into line signals. So it
gives :class:`HookEdge` with ``debounced=True`` only for real hook changes, and
:class:`PulseDigit` and :class:`HookFlash` for what the MCU classified.

Rules:

* The UART is opened by URL (``serial.serial_for_url``): a device path on the box, a pty
  path or ``loop://`` in tests, ``spy://`` to trace.
* One reader thread feeds the sans-IO :class:`Link` and runs its deadlines; commands from
  any thread go through the same lock, so frames leave in the order they were made.
* The wanted state (configuration, ringing or not, polarity, seizure) is kept here and
  sent again whole after every (re)connection (board/PROTOCOL.md 4.2), so an MCU reset, a
  host watchdog trip on the MCU and the host's own give-up on a lost command all heal by
  themselves; each of those is also reported as :class:`BoardFault`. The PORT_STATE
  snapshot that follows CONNECT is compared with the wanted state, and a difference is
  logged and its command sent again.
* Instants: events carry the MCU's clock, mapped to ``time.monotonic()`` by the link.
* Ring frequency: the country's when the board profile's ``[ring] frequencies_hz`` lists
  it and the co-processor makes it (HELLO's ring_min..ring_max); else the nearest one both
  allow, logged once; with none, ``start_ringing`` raises :class:`RingError` (the box then
  fails the call) and the port's ``describe()`` says why.
* Audio does not cross the UART: ``read_frame``/``write_frame`` go to the port's
  :class:`AudioEndpoint` (an ALSA codec), or give silence and drop without one.
* The sink is called from the reader thread, outside the lock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import serial

from drivers.base import (
    AudioEndpoint,
    Board,
    BoardFault,
    LineSignal,
    PortKind,
    SignalSink,
)
from drivers.coproc.errors import LinkOpenError, RingError
from drivers.coproc.link import (
    Connected,
    EventRefused,
    Incompatible,
    Link,
    LinkEvent,
    LinkTimers,
    Lost,
    Received,
    Refused,
    Tracer,
    describe_reset,
)
from drivers.coproc.messages import (
    BOARD_PORT,
    FAULTS,
    PORT_FXO,
    PORT_FXS,
    Command,
    FaultEvent,
    FxoHook,
    RingStart,
    RingStop,
)
from drivers.coproc.ports import CoprocFxoPort, CoprocFxsPort
from drivers.coproc.timing import FxoTiming, FxsTiming, HookTimingLike, ring_frequency
from drivers.errors import BoardProfileError

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 115200
READ_TIMEOUT_S = 0.02  # the reader wakes at least this often to run the link's deadlines
CLOSE_FLUSH_S = 0.5  # how long close() waits for the MCU to take the last commands
REOPEN_PAUSE_S = 1.0
# A HELLO (or NAK NOT_CONNECTED) while connected: the co-processor was not connected to
# us. Its host watchdog (PROTOCOL.md 4.4) is the usual reason, a lost CONNECT the other.
RELINK_BY_MCU = ("the co-processor had dropped the connection (its host watchdog: nothing "
                 "from the host for 2 s, so it stopped ringing, released FXO lines and set "
                 "normal polarity; or it never took the CONNECT); link re-established and "
                 "the wanted line state sent again")


@dataclass
class LinkStats:
    """What happened on the link since the board started (``link_status``)."""

    connects: int = 0  # connections made (the first, and every reconnect)
    resets: int = 0  # the co-processor restarted (a new boot_id)
    lost: int = 0  # the host dropped the link (a command never acknowledged, silence)
    dropped_by_mcu: int = 0  # the co-processor dropped it (host watchdog, lost CONNECT)
    refused: int = 0  # commands the co-processor refused with a NAK
    events_refused: int = 0  # events the host refused with a NAK (bad port, bad digit)
    corrections: int = 0  # line states found other than wanted after a CONNECT
    last_problem: str | None = None
    problem_at: float | None = None
    state_since: float = field(default_factory=time.monotonic)


class CoprocBoard(Board):
    """Ports behind the line co-processor on the UART at ``url``.

    ``fxs`` and ``fxo`` map each port's 1-based index to its co-processor channel (the
    board profile's ``channel``); the MCU's HELLO must agree, or a BoardFault says where.
    ``ring_frequencies_hz`` is the board profile's ``[ring] frequencies_hz`` (None: any
    frequency the co-processor makes).
    """

    def __init__(self, url: str, *, fxs: Mapping[int, int] | None = None,
                 fxo: Mapping[int, int] | None = None, baudrate: int = DEFAULT_BAUDRATE,
                 audio: Mapping[tuple[PortKind, int], AudioEndpoint] | None = None,
                 fxs_timing: HookTimingLike | None = None, fxo_timing: FxoTiming | None = None,
                 name: str = "coproc", timers: LinkTimers | None = None,
                 tracer: Tracer | None = None,
                 ring_frequencies_hz: Sequence[float] | None = None) -> None:
        self.name = name
        self._ring_hz = tuple(ring_frequencies_hz) if ring_frequencies_hz else None
        self._ring_notes: set[tuple[int, int]] = set()  # (wanted, used) already logged
        self._missing: set[tuple[int, int]] = set()  # (boot_id, command type) logged
        self._refusals: set[tuple[int | None, int, int]] = set()  # (boot, type, reason)
        self.url = url
        self._baudrate = baudrate
        audio = audio or {}
        self._fxs = [CoprocFxsPort(self, i, ch, audio.get(("fxs", i)),
                                   fxs_timing or FxsTiming())
                     for i, ch in sorted((fxs or {}).items())]
        self._fxo = [CoprocFxoPort(self, i, ch, audio.get(("fxo", i)),
                                   fxo_timing or FxoTiming())
                     for i, ch in sorted((fxo or {}).items())]
        self.fxs = tuple(self._fxs)
        self.fxo = tuple(self._fxo)
        channels = [p.channel for p in self._fxs] + [p.channel for p in self._fxo]
        if len(set(channels)) != len(channels):
            raise BoardProfileError(f"{name}: two ports share a co-processor channel "
                                    f"({channels}); give each port its own channel")
        self._by_channel = {p.channel: p for p in self._ports()}
        self._lock = threading.RLock()
        self._link = Link(timers, tracer)
        self._sink: SignalSink | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._closed = False
        self.stats = LinkStats()
        self._serial = self._open()

    # --- Board ----------------------------------------------------------------------------
    def start(self, sink: SignalSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} board already started")
        self._sink = sink
        with self._lock:
            self._link.open(time.monotonic())
            self._flush()
        self._thread = threading.Thread(target=self._run, name=f"coproc-{self.name}",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fxs in self._fxs:
                fxs.stop_ringing()
            for fxo in self._fxo:
                if fxo.seized:
                    fxo.release()
        deadline = time.monotonic() + CLOSE_FLUSH_S
        while (self._thread is not None and self._link.state == "connected"
               and self._link.outstanding and time.monotonic() < deadline):
            time.sleep(0.005)
        self._stop.set()
        with contextlib.suppress(AttributeError, OSError, serial.SerialException):
            self._serial.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            self._link.close()
            self._serial.close()

    def _ports(self) -> list[CoprocFxsPort | CoprocFxoPort]:
        return [*self._fxs, *self._fxo]

    # --- more than Board ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def lock(self) -> threading.RLock:
        """Held while the link or any port's state changes (ports take it too)."""
        return self._lock

    @property
    def link(self) -> Link:
        """The link object (statistics, hello); read it, do not drive it."""
        return self._link

    def ring_frequency(self, leg: str, frequency_hz: float) -> int:
        """Centihertz to ring ``leg`` at for its country's ``frequency_hz`` (the module
        rules); RingError when no frequency will do or the co-processor cannot ring."""
        with self._lock:
            hello = self._link.hello
            if hello is not None and RingStart.TYPE not in hello.commands:
                raise RingError(f"{leg} cannot ring: the co-processor (firmware "
                                f"{hello.firmware}) does not execute RING_START (its HELLO "
                                f"does not list it); flash firmware that rings")
            limits = None if hello is None else (hello.ring_min, hello.ring_max)
            chz = ring_frequency(leg, frequency_hz, self._ring_hz, limits)
            wanted = round(frequency_hz * 100)
            if chz != wanted and (wanted, chz) not in self._ring_notes:
                self._ring_notes.add((wanted, chz))
                log.warning("%s: ringing at %g Hz, not the country's %g Hz: the nearest "
                            "frequency that both the board profile (%s) and the co-processor "
                            "(%s) allow", self.name, chz / 100, frequency_hz,
                            "any" if self._ring_hz is None
                            else ", ".join(f"{f:g}" for f in self._ring_hz) + " Hz",
                            "not yet connected" if limits is None
                            else f"{limits[0] / 100:g} to {limits[1] / 100:g} Hz")
            return chz

    def corrected(self, what: str, command: Command) -> None:
        """A port found the co-processor's line state other than wanted after CONNECT:
        count and log it, and send the command that sets it right."""
        self.stats.corrections += 1
        log.warning("%s: %s; %s sent", self.name, what, command.NAME)
        self.command(command)

    def command(self, command: Command) -> None:
        """Send a command now if connected; the ports keep the state to send it later."""
        with self._lock:
            if self._closed and not isinstance(command, RingStop | FxoHook):
                return
            if self._send(command, time.monotonic()):
                self._flush()

    def _send(self, command: Command, now: float) -> bool:
        """To the link, unless the co-processor does not execute that command type: then
        it is said once per co-processor start, and not sent (a NAK would only repeat it)."""
        hello = self._link.hello
        if hello is not None and not self._link.executes(command.TYPE):
            if (hello.boot_id, command.TYPE) not in self._missing:
                self._missing.add((hello.boot_id, command.TYPE))
                log.warning("%s: %s: %s not sent: the co-processor (firmware %s) does not "
                            "execute it (its HELLO does not list it)", self.name,
                            self._leg_of(command), command.NAME, hello.firmware)
            return False
        return self._link.send(command, now)

    def _leg_of(self, command: Command) -> str:
        return self._leg_at(command.port)

    def _leg_at(self, channel: int) -> str:
        port = self._by_channel.get(channel)
        return f"channel {channel}" if port is None else port.leg

    def describe(self) -> dict[str, object]:
        return {"name": self.name, **self.link_status()}

    def link_status(self) -> dict[str, object]:
        """The link's state and history for ``minipbx status`` and ``hw ports``."""
        with self._lock:
            hello = self._link.hello
            decoder = self._link.decoder.stats
            stats = self.stats
            return {
                "url": self.url, "state": self._link.state,
                "since_s": round(time.monotonic() - stats.state_since, 1),
                "firmware": None if hello is None else hello.firmware,
                "boot_id": None if hello is None else f"{hello.boot_id:04x}",
                "mcu_ports": None if hello is None else hello.describe_ports(),
                "connects": stats.connects, "resets": stats.resets, "lost": stats.lost,
                "dropped_by_mcu": stats.dropped_by_mcu,
                "reconnects": max(0, stats.connects - 1),
                "retransmissions": self._link.retransmissions,
                "refused": stats.refused, "events_refused": stats.events_refused,
                "corrections": stats.corrections,
                "frames": decoder.frames, "frames_dropped": decoder.dropped,
                "last_problem": stats.last_problem,
                "last_problem_ago_s": None if stats.problem_at is None
                else round(time.monotonic() - stats.problem_at, 1),
            }

    def _problem(self, what: str) -> None:
        self.stats.last_problem = what
        self.stats.problem_at = time.monotonic()

    # --- the reader thread ----------------------------------------------------------------
    def _open(self) -> serial.Serial:
        try:
            port = serial.serial_for_url(self.url, baudrate=self._baudrate,
                                         timeout=READ_TIMEOUT_S)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkOpenError(f"{self.name}: cannot open the co-processor UART {self.url}: "
                                f"{exc}; check the board profile's [uart] device") from exc
        return port

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except (serial.SerialException, OSError, TypeError) as exc:
                if self._stop.is_set():
                    break
                self._serial_failed(exc)
                continue
            signals = self._step(data, time.monotonic())
            for signal in signals:
                self._deliver(signal)

    def _step(self, data: bytes, now: float) -> list[LineSignal]:
        signals: list[LineSignal] = []
        with self._lock:
            if data:
                self._link.receive(data, now)
            self._link.poll(now)
            for event in self._link.take_events():
                signals.extend(self._on_link_event(event, now))
            self._flush()
        return signals

    def _on_link_event(self, event: LinkEvent, now: float) -> list[LineSignal]:
        if isinstance(event, Received):
            port = self._by_channel.get(event.message.port)
            if isinstance(event.message, FaultEvent):
                return [self._fault_signal(event.message, port, event.at)]
            if port is None:
                return []
            return port.on_event(event.message, event.at)
        if isinstance(event, Connected):
            return self._on_connected(event, now)
        if isinstance(event, Refused):
            port = self._by_channel.get(event.command.port)
            what = (f"{self._leg_of(event.command)}: co-processor refused "
                    f"{event.command.NAME} ({event.why})")
            self.stats.refused += 1
            self._problem(what)
            if isinstance(port, CoprocFxsPort) and isinstance(event.command, RingStart):
                port.ring_failed(f"{port.leg} cannot ring: {what}")
            log.warning("%s: %s", self.name, what)
            return [BoardFault(None if port is None else port.index, what, now)]
        if isinstance(event, EventRefused):
            self._event_refused(event)
            return []
        if isinstance(event, Lost):
            self._connected.clear()
            reason = event.reason
            if event.command is not None:
                reason = f"{self._leg_of(event.command)} {reason}"
            what = f"co-processor link lost: {reason}; connecting again"
            self.stats.lost += 1
            self.stats.state_since = now
            self._problem(what)
            log.warning("%s: %s", self.name, what)
            return [BoardFault(None, what, now)]
        if isinstance(event, Incompatible):
            self._problem(event.reason)
            log.error("%s: %s", self.name, event.reason)
            return [BoardFault(None, event.reason, now)]
        return []

    def _on_connected(self, event: Connected, now: float) -> list[LineSignal]:
        hello = event.hello
        signals: list[LineSignal] = []
        log.info("%s: co-processor connected (%s): firmware %s, ports %s", self.name,
                 event.cause, hello.firmware, hello.describe_ports())
        self.stats.connects += 1
        self.stats.state_since = now
        if event.cause == "reset":
            self.stats.resets += 1
            self._problem(describe_reset(hello))
            signals.append(BoardFault(None, describe_reset(hello), now))
        elif event.cause == "relink" and event.after is not None:
            # The host dropped the link itself (and said so then): the co-processor kept
            # its lines as they were; the wanted state below puts them right.
            log.info("%s: co-processor link re-established after the host dropped it (%s); "
                     "sending the whole wanted line state", self.name, event.after)
        elif event.cause == "relink":
            self.stats.dropped_by_mcu += 1
            self._problem(RELINK_BY_MCU)
            signals.append(BoardFault(None, RELINK_BY_MCU, now))
            log.warning("%s: %s", self.name, RELINK_BY_MCU)
        for port in self._ports():
            want = PORT_FXS if isinstance(port, CoprocFxsPort) else PORT_FXO
            if port.channel >= len(hello.ports) or hello.ports[port.channel] != want:
                has = ("nothing" if port.channel >= len(hello.ports)
                       else "an FXS port" if hello.ports[port.channel] == PORT_FXS
                       else "an FXO port")
                signals.append(BoardFault(
                    port.index, f"{port.kind}{port.index} is on co-processor channel "
                    f"{port.channel}, where the co-processor has {has}; fix the board "
                    f"profile", now))
                continue
            try:
                commands = port.wanted()
            except RingError as exc:  # this co-processor cannot ring what is wanted
                assert isinstance(port, CoprocFxsPort)  # only an FXS port rings
                port.ring_failed(str(exc))
                log.error("%s: %s", self.name, exc)
                signals.append(BoardFault(port.index, str(exc), now))
                commands = port.wanted()
            for command in commands:
                self._send(command, now)
        self._connected.set()
        return signals

    def _event_refused(self, event: EventRefused) -> None:
        """An event the spec does not allow: NAKed by the link, counted, said once per
        kind of mistake and co-processor start (a broken firmware could send it often)."""
        self.stats.events_refused += 1
        message = event.message
        name = message.NAME if message is not None else f"type 0x{event.type:02x}"
        channel = getattr(message, "port", None)
        where = f" for {self._leg_at(channel)}" if isinstance(channel, int) else ""
        what = f"refused the co-processor's {name}{where} ({event.why}): {message!r}"
        self._problem(what)
        hello = self._link.hello
        key = (None if hello is None else hello.boot_id, event.type, event.reason)
        if key not in self._refusals:
            self._refusals.add(key)
            log.warning("%s: %s (said once; link_status counts them)", self.name, what)

    def _fault_signal(self, event: FaultEvent, port: CoprocFxsPort | CoprocFxoPort | None,
                      at: float) -> BoardFault:
        what = FAULTS.get(event.code, f"fault {event.code}")
        if event.detail:
            what = f"{what} ({event.detail})"
        if event.port == BOARD_PORT or port is None:
            where = "" if event.port == BOARD_PORT else f" (channel {event.port})"
            return BoardFault(None, f"co-processor{where}: {what}", at)
        return BoardFault(port.index, f"{port.leg}: co-processor: {what}", at)

    def _flush(self) -> None:
        data = self._link.take_output()
        if data and self._serial.is_open:
            try:
                self._serial.write(data)
            except (serial.SerialException, OSError) as exc:
                log.warning("%s: write to %s failed: %s", self.name, self.url, exc)

    def _deliver(self, signal: LineSignal) -> None:
        if self._sink is None:
            return
        try:
            self._sink(signal)
        except Exception:  # a failing sink must not stop the reader thread
            log.exception("%s: the signal sink failed on %r", self.name, signal)

    def _serial_failed(self, exc: BaseException) -> None:
        what = f"co-processor UART {self.url} failed: {exc}"
        log.error("%s: %s", self.name, what)
        self._connected.clear()
        with self._lock:
            self._link.close(what)
            self.stats.lost += 1
            self.stats.state_since = time.monotonic()
            self._problem(what)
        self._deliver(BoardFault(None, what, time.monotonic()))
        while not self._stop.wait(REOPEN_PAUSE_S):
            try:
                with self._lock:
                    self._serial.close()
                    self._serial = self._open()
                    self._link.open(time.monotonic())
                    self._flush()
                return
            except LinkOpenError as again:
                log.debug("%s: reopen failed: %s", self.name, again)

