"""The box at run time: routes every event between the board, the line machines, the
exchange, the SIP adapter and the media switch, on the one asyncio loop.

Flow (DESIGN.md): a board signal goes to its line machine; what the machine says up goes
to the exchange; what the exchange says down goes to a line machine or the SIP adapter;
line actions go to the board and the media switch. Work is queued and run to completion
in order, so no handler re-enters another. Timers are one loop timer at the earliest
deadline of all machines.

Line actions, and what plays into each line, are carried out by
firmware/app/lineactions.py; ``status`` is built by firmware/app/boxstatus.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.base import (
    Board,
    FxoPort,
    FxsPort,
    LineSignal,
)
from firmware.app.boxstatus import LinkedBoard, box_status
from firmware.app.lineactions import LineActions
from firmware.app.lineecho import LineEcho
from firmware.app.listener import LineListener
from firmware.app.routing import deliver
from firmware.core.clock import earliest
from firmware.core.events import (
    Bridge,
    CallEvent,
    Digit,
    Hold,
    MailboxEdit,
    Party,
    Play,
    Record,
    Refer,
    Release,
    Unbridge,
    VoiceMessage,
)
from firmware.dsp.cid_gen import mwi_signal
from firmware.dsp.profiles import CountryProfile
from firmware.dsp.supervision import BusyToneDetector
from firmware.lines.fxo import FxoLine
from firmware.lines.fxs import FxsLine
from firmware.media.sources import PcmSource
from firmware.pbx.calls import Originated
from firmware.pbx.exchange import Exchange
from firmware.sip.switch import MediaSwitch

log = logging.getLogger(__name__)


class RecorderSide(Protocol):
    """Call recording (firmware/app/recorder.py)."""

    def handle(self, event: Record) -> None: ...

    def call_over(self, a: str, b: str) -> None: ...

    def sweep(self, leg_state: Callable[[str], str]) -> None: ...

    def status(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class SipSide(Protocol):
    def command(self, event: CallEvent) -> None: ...

    def hold(self, leg: str, on: bool) -> None: ...

    def refer(self, event: Refer) -> None: ...

    def status(self) -> dict[str, object]: ...


@dataclass
class FxsSlot:
    leg: str
    port: FxsPort
    line: FxsLine
    listener: LineListener
    extension: str
    cid_standard: str | None
    playing: str | None = None  # "tone:<name>" or "cid"


@dataclass
class FxoSlot:
    leg: str
    port: FxoPort
    line: FxoLine
    listener: LineListener
    extension: str
    playing: str | None = None


class Box:
    def __init__(self, loop: asyncio.AbstractEventLoop, board: Board, profile: CountryProfile,
                 exchange: Exchange, switch: MediaSwitch,
                 fxs: list[tuple[FxsPort, FxsLine, str, str | None]],
                 fxo: list[tuple[FxoPort, FxoLine, str, str | None]]) -> None:
        self.loop = loop
        self.board = board
        # Asked by every status (polled every 0.2 s): a runtime Protocol check is not free.
        self._linked = board if isinstance(board, LinkedBoard) else None
        self.exchange = exchange
        self.switch = switch
        self.sip: SipSide | None = None
        self.started = time.monotonic()
        self._queue: deque[tuple[str, Any]] = deque()
        self._running = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.fxs: dict[str, FxsSlot] = {}
        self.fxo: dict[str, FxoSlot] = {}
        # Line actions and what plays into each line (firmware/app/lineactions.py).
        self._actions = LineActions(loop, switch, profile, self.fxs, self.fxo,
                                    self._signal_done, self._release, self._sync_echo)
        # Type II caller ID on a line in a call (firmware/app/cwline.py).
        self._waiting_cid = self._actions.waiting_cid
        self.on_records: Callable[[list[Any]], None] | None = None
        # Called after each run of the queue (e.g. saving what star codes changed).
        self.after_run: list[Callable[[], None]] = []
        # Plays prompts (firmware/app/promptplay.py); set by the daemon.
        self.on_play: Callable[[Play], None] | None = None
        # Voicemail (firmware/app/voicemail_app.py): recording messages, mailbox edits.
        self.on_voicemail: Callable[[VoiceMessage | MailboxEdit], None] | None = None
        self.on_digit: Callable[[Digit], None] | None = None  # every digit going up
        # News of calls the box placed itself (firmware/app/boxdialer.py); set by the daemon.
        self.on_originated: Callable[[Originated], None] | None = None
        self.recorder: RecorderSide | None = None  # call recording, when the daemon has it
        # The last board signals, numbered, for `minipbx hw hook --watch`.
        self.signal_log: deque[tuple[int, LineSignal]] = deque(maxlen=500)
        self.signal_seq = 0
        # Extra taps of a line's audio for diagnostics (`minipbx hw loopback`).
        self.diag_taps: dict[str, Callable[[bytes], None]] = {}
        self._fxs_by_port: dict[int, FxsLine] = {}
        self._fxo_by_port: dict[int, FxoLine] = {}
        # Legs with a port on the bridge: kept until shutdown, even when a commit removes
        # the line (TOOLS.md: destroying a bridge port while the clock runs is unsafe).
        self._on_bridge: set[str] = set()
        # Each line's echo canceller, between its board port and its bridge port (issue 11).
        self.echo: dict[str, LineEcho] = {}
        for port, line, extension, standard in fxs:
            self.add_fxs(port, line, extension, standard)
        for oport, fline, extension, standard in fxo:
            self.add_fxo(oport, fline, extension, standard)

    @property
    def profile(self) -> CountryProfile:
        """The country's tones and ringing; a commit may change the country."""
        return self._actions.profile

    @profile.setter
    def profile(self, profile: CountryProfile) -> None:
        self._actions.profile = profile

    # --- entry points ----------------------------------------------------------------------
    def start(self) -> None:
        self.board.start(self._signal_threadsafe)

    def send_down(self, outs: list[Any]) -> None:
        """Outputs of the exchange's own API (originate, hangup, join) and events the app
        sends to a leg (Play): carried out through the work queue like any other."""
        for out in outs:
            self._queue.append(("down", out))
        self._run()

    def deliver_up(self, event: CallEvent) -> None:
        """An event from a SIP leg, for the exchange (loop thread)."""
        self._queue.append(("up", event))
        self._run()

    def _signal_threadsafe(self, signal: LineSignal) -> None:
        self.loop.call_soon_threadsafe(self._on_signal, signal)

    def _on_signal(self, sig: LineSignal) -> None:
        self.signal_seq += 1
        self.signal_log.append((self.signal_seq, sig))
        outs = deliver(sig, self._fxs_by_port, self._fxo_by_port, time.monotonic())
        self._line_outputs(list(outs))

    def _digit_cb(self, leg: str) -> Callable[[str], None]:
        def on_digit(digit: str) -> None:
            log.debug("%s: digit %s detected at monotonic %.6f", leg, digit, time.monotonic())
            if self._waiting_cid.acknowledged(leg, digit):
                return  # the phone's answer to the CAS, not a key for the exchange
            self._line_outputs(self.fxs[leg].line.dtmf_digit(digit, time.monotonic()))
        return on_digit

    def _fxo_digit_cb(self, leg: str) -> Callable[[str], None]:
        def on_digit(digit: str) -> None:
            log.debug("%s: digit %s heard on the line", leg, digit)
            self._line_outputs(self.fxo[leg].line.dtmf_digit(digit, time.monotonic()))
        return on_digit

    def _cid_cb(self, leg: str) -> Callable[[Party], None]:
        def on_cid(party: Party) -> None:
            self._line_outputs(self.fxo[leg].line.caller_id(party, time.monotonic()))
        return on_cid

    def _disconnect_cb(self, leg: str) -> Callable[[], None]:
        def on_tone() -> None:
            self._line_outputs(self.fxo[leg].line.disconnect_tone(time.monotonic()))
        return on_tone

    def _signal_done(self, leg: str) -> None:
        now = time.monotonic()
        if (slot := self.fxs.get(leg)) is not None:
            if slot.playing == "cid":
                self._actions.stop_playing(leg)
            self._line_outputs(slot.line.signal_done(now))
        elif (oslot := self.fxo.get(leg)) is not None:
            if oslot.playing == "dtmf":
                self._actions.stop_playing(leg)
            self._line_outputs(oslot.line.signal_done(now))

    # --- the work queue ---------------------------------------------------------------------
    def _line_outputs(self, outs: list[Any]) -> None:
        """What a line machine said: events up to the exchange, actions to carry out."""
        self._enqueue(outs)
        self._run()

    def _run(self) -> None:
        if self._running:
            return  # the outer call drains the queue
        self._running = True
        try:
            while self._queue:
                kind, item = self._queue.popleft()
                try:
                    self._step(kind, item)
                except Exception:  # one bad event must not stop the exchange
                    log.exception("handling %s %r failed", kind, item)
            self._sync_listeners()
            self._take_records()
            for hook in self.after_run:
                hook()
            if self.recorder is not None:  # a recording whose call is gone ends with it
                self.recorder.sweep(self.exchange.leg_state)
        finally:
            self._running = False
        self._arm_timer()

    def _step(self, kind: str, item: Any) -> None:
        now = time.monotonic()
        if kind == "up":
            if self.on_digit is not None and isinstance(item, Digit):
                self.on_digit(item)  # a prompt that any key stops (prompt play)
            for out in self.exchange.handle(item, now):
                self._queue.append(("down", out))
        elif kind == "down":
            self._down(item, now)
        else:
            self._actions.carry_out(item)

    def _down(self, out: Any, now: float) -> None:
        """What the exchange says down goes to a service the daemon set on the box
        (calls the box placed, prompts, SIP hold and transfer, recording, voicemail), to
        the media switch (bridges), or to the leg's line machine or the SIP adapter."""
        if isinstance(out, Originated):
            if self.on_originated is not None:
                self.on_originated(out)
            return
        if isinstance(out, Play):
            if self.on_play is not None:
                self.on_play(out)
            else:
                log.debug("%s: no prompt player for %s", out.leg, out.prompts)
            return
        if isinstance(out, Hold):  # hook-flash hold toward a SIP leg (re-INVITE)
            if self.sip is not None and not self.has_line(out.leg):
                self.sip.hold(out.leg, out.on)
            return
        if isinstance(out, Refer):  # a transfer handed to a SIP peer
            if self.sip is not None:
                self.sip.refer(out)
            return
        if isinstance(out, Record):
            if self.recorder is not None:
                self.recorder.handle(out)
            return
        if isinstance(out, VoiceMessage | MailboxEdit):
            if self.on_voicemail is not None:
                self.on_voicemail(out)
            else:
                log.warning("no voicemail service for %s", out)
            return
        if isinstance(out, Bridge) and self._waiting_cid.defer(out.a, out.b, True):
            pass  # bridged when the type II caller ID sequence ends
        elif isinstance(out, Bridge):
            self.switch.bridge(out.a, out.b)
            self._sync_echo()
        elif isinstance(out, Unbridge):
            self._waiting_cid.defer(out.a, out.b, False)
            self.switch.unbridge(out.a, out.b)
            self._sync_echo()
            if self.recorder is not None:  # the call's recording is complete
                self.recorder.call_over(out.a, out.b)
        elif (slot := self.fxs.get(out.leg)) is not None:
            self._enqueue(slot.line.command(out, now))
        elif (oslot := self.fxo.get(out.leg)) is not None:
            self._enqueue(oslot.line.command(out, now))
        elif self.sip is not None:
            self.sip.command(out)
        else:
            log.warning("%s: no SIP stack for %s", out.leg, type(out).__name__)

    def _enqueue(self, outs: list[Any]) -> None:
        for out in outs:
            self._queue.append(("up" if isinstance(out, CallEvent) else "action", out))

    def _release(self, slot: FxsSlot, release: Release) -> None:
        """End the call of a line that cannot carry it: the line machine and the exchange
        both hear ``release``."""
        self._enqueue(slot.line.command(release, time.monotonic()))
        self._queue.append(("up", release))

    # --- the lines: keys, lamps, what plays -------------------------------------------------
    def watch_keys(self, leg: str, on_key_down: Callable[[], None] | None) -> None:
        """Call ``on_key_down`` the moment a DTMF key starts on line ``leg``, before the
        digit is decoded (barge-in into a prompt); None ends it (listener.py)."""
        slot = self.fxs.get(leg) or self.fxo.get(leg)
        if slot is not None:
            slot.listener.watch_keys(on_key_down)

    def has_line(self, leg: str) -> bool:
        return leg in self.fxs or leg in self.fxo

    def send_vmwi(self, leg: str, on: bool) -> bool:
        """The message-waiting indication (FSK, the port's caller ID standard: Bell 202 or
        V.23, MDMF) to the on-hook handset of ``leg``; False when it cannot go now (the
        line is in use or plays something, or sends no FSK caller ID)."""
        slot = self.fxs.get(leg)
        if slot is None or slot.line.state != "idle" or slot.playing is not None:
            return False
        standard = slot.cid_standard
        if standard not in ("bell202", "v23"):
            return True  # no FSK on this port (none, DTMF, the Japanese form): nothing to send
        signal = mwi_signal(on, "v23" if standard == "v23" else "bell202")
        pcm = signal.samples.astype("<i2").tobytes()
        self._actions.play(leg, PcmSource(pcm, self._vmwi_done_cb(leg)), "cid")
        return True

    def _vmwi_done_cb(self, leg: str) -> Callable[[], None]:
        def done() -> None:  # from the clock thread
            def stop() -> None:
                slot = self.fxs.get(leg)
                if slot is not None and slot.playing == "cid" and slot.line.state == "idle":
                    self._actions.stop_playing(leg)
            self.loop.call_soon_threadsafe(stop)
        return done

    def playing(self, leg: str) -> str | None:
        """What the box plays into line ``leg`` now ("tone:dial", "cid", "prompt"...)."""
        slot = self.fxs.get(leg) or self.fxo.get(leg)
        return slot.playing if slot is not None else None

    def _sync_listeners(self) -> None:
        """Tap a line's audio only while something listens: an idle line costs nothing."""
        for slot in self.fxs.values():
            want = slot.line.state == "offhook"
            if (slot.listener.dtmf is not None) != want:
                slot.listener.listen_dtmf(want)
            self._sync_tap(slot.leg, slot.listener)
        for oslot in self.fxo.values():
            # DTMF on a PSTN line only while the exchange wants keys from it (a menu, a
            # call the box placed): in a conversation the audio carries them.
            want = oslot.line.state == "connected" and self.exchange.wants_digits(oslot.leg)
            if (oslot.listener.dtmf is not None) != want:
                oslot.listener.listen_dtmf(want)
            self._sync_tap(oslot.leg, oslot.listener)

    def _sync_tap(self, leg: str, listener: LineListener) -> None:
        diag = self.diag_taps.get(leg)
        sink = listener.sink if listener.active else None
        if diag is not None and sink is not None:
            def both(frame: bytes, a: Callable[[bytes], None] = sink,
                     b: Callable[[bytes], None] = diag) -> None:
                a(frame)
                b(frame)
            self.switch.tap(leg, both)
        else:
            self.switch.tap(leg, sink or diag)

    def sync_taps(self) -> None:
        self._sync_listeners()

    def play(self, leg: str, source: Callable[[], bytes | None] | None, what: str) -> None:
        """Play into a line outside any call (diagnostics); None stops."""
        if source is None:
            self._actions.stop_playing(leg)
        else:
            self._actions.play(leg, source, what)

    # --- timers -----------------------------------------------------------------------------
    def _deadline(self) -> float | None:
        return earliest(self.exchange.next_deadline,
                        *(s.line.next_deadline for s in self.fxs.values()),
                        *(s.line.next_deadline for s in self.fxo.values()))

    def _arm_timer(self) -> None:
        at = self._deadline()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = at
        if at is not None:
            # loop.time() is time.monotonic() on Linux, the clock every machine is given.
            self._timer = self.loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = time.monotonic()
        for slot in self.fxs.values():
            self._enqueue(slot.line.poll(now))
        for oslot in self.fxo.values():
            self._enqueue(oslot.line.poll(now))
        for out in self.exchange.poll(now):
            self._queue.append(("down", out))
        self._run()

    def _take_records(self) -> None:
        records = self.exchange.take_records()
        if records and self.on_records is not None:
            self.on_records(records)

    # --- status (firmware/app/boxstatus.py) -------------------------------------------------
    def status(self) -> dict[str, Any]:
        return box_status(self.fxs.values(), self.fxo.values(), self.echo, self.exchange,
                          self.switch, self.started, self.recorder, self._linked)

    # --- lines added, changed and removed by a commit (firmware/app/live.py) -------------
    def add_fxs(self, port: FxsPort, line: FxsLine, extension: str,
                standard: str | None) -> None:
        leg = line.leg
        listener = LineListener(leg, self.loop, on_digit=self._digit_cb(leg))
        self.fxs[leg] = FxsSlot(leg, port, line, listener, extension, standard)
        self._fxs_by_port[port.index] = line
        self._bridge_line(leg, port)

    def add_fxo(self, port: FxoPort, line: FxoLine, extension: str,
                standard: str | None) -> None:
        leg = line.leg
        profile = self.profile
        listener = LineListener(
            leg, self.loop, on_digit=self._fxo_digit_cb(leg),
            on_caller_id=self._cid_cb(leg),
            on_disconnect_tone=self._disconnect_cb(leg),
            disconnect_detector=lambda: BusyToneDetector(profile),
            cid_standard=standard or "auto")
        self.fxo[leg] = FxoSlot(leg, port, line, listener, extension)
        self._fxo_by_port[port.index] = line
        self._bridge_line(leg, port)

    def remove_line(self, leg: str) -> None:
        """Forget a line the configuration no longer names (call it only when idle)."""
        self._actions.stop_playing(leg)
        slot = self.fxs.pop(leg, None) or self.fxo.pop(leg, None)
        if slot is None:
            return
        if isinstance(slot, FxsSlot):
            slot.listener.listen_dtmf(False)
            self._fxs_by_port.pop(slot.port.index, None)
        else:
            self._fxo_by_port.pop(slot.port.index, None)
        self.switch.tap(leg, None)
        self._arm_timer()

    def line_idle(self, leg: str) -> bool:
        """Nothing happens on the line: a commit may swap its machine now."""
        slot = self.fxs.get(leg) or self.fxo.get(leg)
        if slot is None:
            return True
        state_idle = slot.line.state == "idle" and slot.line.next_deadline is None
        return (state_idle and slot.playing is None
                and self.exchange.leg_state(leg) in ("idle", "unknown"))

    # --- echo cancellation (firmware/app/lineecho.py) ---------------------------------------
    def configure_echo(self, leg: str, enabled: bool, tail_ms: int) -> None:
        """A line's echo_cancel and echo_tail_ms from the configuration."""
        if (echo := self.echo.get(leg)) is not None:
            echo.configure(enabled, tail_ms)
            self._sync_echo()

    def _sync_echo(self) -> None:
        """A line's canceller runs while its call leaves the box (a partner that is a SIP
        leg or an FXO line; any partner of an FXO line), not between two handsets; it starts
        afresh with each such call."""
        for leg, echo in self.echo.items():
            partners = frozenset(self.switch.partners(leg))
            external = bool(partners) and (leg in self.fxo or any(
                p not in self._on_bridge or p in self.fxo for p in partners))
            want = external and echo.enabled
            # A new partner is a new call (even with no unbridge seen in between).
            if want != echo.active or (want and partners != echo.partners):
                echo.set_active(want)
            echo.partners = partners if want else frozenset()

    def _bridge_line(self, leg: str, port: FxsPort | FxoPort) -> None:
        if leg not in self._on_bridge:
            echo = self.echo[leg] = LineEcho(leg, port.read_frame, port.write_frame)
            self.switch.add_line(leg, echo.read, echo.write)
            self._on_bridge.add(leg)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.recorder is not None:
            self.recorder.close()
        for leg in list(self.fxs) + list(self.fxo):
            self._actions.stop_playing(leg)
        self.board.close()
