"""Native line ports on pjsua2's conference bridge, and the pump that feeds them.

A :class:`NativeLinePort` is a C port (:mod:`firmware.sip.nativelib`) added to the bridge
with pjsua's C API (``pjsua_conf_add_port``: the wheel exports it). The bridge's clock thread
moves its frames through rings and never enters Python, so a line with nothing to do costs
no Python at all.

The :class:`LinePump` thread does, for the lines that have something to do (a call partner,
something playing, a detector listening) and only for them, what the Python port's
callbacks did on the clock thread: right after each tick of the bridge (it waits for the
tick in C, without the GIL) it gives the board what each line heard, tops up the playback
rings from the sources (tones, caller ID, prompts) and feeds the detectors; shortly before
the next tick it reads what a bridged line says, so the frame waits about
``SAY_LEAD_NS`` in the ring rather than a whole tick.

Start-up check (:func:`check_bridge`): the library must have been compiled against the
running pjproject's version (the ``pjmedia_port`` layout), and a frame sent between two
probe ports through the bridge must arrive intact. Otherwise the switch keeps the Python
port and says why (:mod:`firmware.sip.lineports`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from firmware.sip.nativelib import FRAME_BYTES, NativeLib, RingPort
from firmware.sip.pjsipc import library as _library

log = logging.getLogger(__name__)

FrameSource = Callable[[], bytes | None]
FrameSink = Callable[[bytes], None]
# A call recording's tap, as the Python port gives it: (the line's own audio, what the line
# heard), once a tick.
RecordSink = Callable[[bytes | None, bytes | None], None]

# Test hook: pretend the library was built for another pjproject version.
ENV_EXPECT = "MINIPBX_LINEPORT_EXPECT_VERSION"
# How far ahead the playback ring is filled from a source (frames of 20 ms).
PLAY_AHEAD = 3
# The pump reads a bridged line's voice this long before the bridge's next tick...
SAY_LEAD_NS = 3_000_000
# The lead grows after late wake-ups (a loaded machine); from CUSHION_LEAD_NS on, the line
# is read right after the previous tick instead (one tick's cushion).
CUSHION_LEAD_NS = 18_000_000
MAX_DEPTH = 2  # frames read ahead at most (40 ms)
MAX_SAID = 8  # said frames kept for the next record (a record comes every wake-up)
CLEAN_SAYS = 1500  # say phases (30 s) with no silent tick before the lead shortens
# Two phases are at least this far apart (a tick a little late must not run one twice).
MIN_GAP_NS = 2_000_000
# ...and takes what lines heard this long after a tick (the tick's ports are done by then).
HEAR_AFTER_NS = 500_000
# 2: a hear phase after each tick and a say phase before the next while a line is bridged
# (lowest delay); 1: both at the say phase (one wake-up a tick; what lines hear waits
# about 15 ms more).
PHASES = int(os.environ.get("MINIPBX_PUMP_PHASES", "2"))
# Ticks between the pump's wake-ups while lines are in SIP calls and none is bridged with
# another line: 2 moves two frames each way per wake-up (half the wake-ups, each costing
# tens of microseconds here; what a line says and hears waits about 10 ms more on average,
# through SIP only, within its 40 ms goal). Bridged lines (lead mode) keep 1: their delay
# is the internal call's. After late wake-ups (frames read ahead: ``depth``) it is 1 too.
SIP_STRIDE = int(os.environ.get("MINIPBX_PUMP_SIP_STRIDE", "2"))
TICK_NS = 20_000_000
TICK_S = TICK_NS / 1e9
# A port's rings, in frames: what it says, hears, and has queued to play.
SAY_CAP, HEAR_CAP, PLAY_CAP, SAY_KEEP = 8, 16, 64, 3


_FILLER = b"\xa5"
_IMAGE = 512  # bytes: more than any pjmedia_port_info


class _PjStr(ctypes.Structure):
    _fields_ = (("ptr", ctypes.c_void_p), ("slen", ctypes.c_ssize_t))


def layout_problem(native: NativeLib, api: BridgeApi) -> str | None:
    """None if the running library lays out pjmedia_port_info as the native port does
    (the callbacks come right after it), else what differs."""
    name = ctypes.create_string_buffer(b"layout-probe")
    signature = 0x4D4C5041
    theirs = api.info_image(name, signature)
    ours = ctypes.create_string_buffer(_FILLER * _IMAGE, _IMAGE)
    size = native.dll.lp_info_image(ours, name, len(name.value), signature)
    if theirs == ours.raw:
        return None
    used = len(theirs.rstrip(_FILLER))
    return (f"the running library's pjmedia_port_info differs from the native port's "
            f"({used} bytes written by pjmedia_port_info_init, ours {size}): built with other "
            "headers or config_site.h (rebuild it: tools/build_native.sh with PJPROJECT_INCLUDE)")


class BridgeApi:
    """The few pjsua C functions the native ports need, from the loaded pjsua2 module."""

    def __init__(self) -> None:
        lib = _library()
        self.lib = lib
        lib.pj_get_version.restype = ctypes.c_char_p
        lib.pj_get_version.argtypes = ()
        lib.pjsua_pool_create.restype = ctypes.c_void_p
        lib.pjsua_pool_create.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t)
        lib.pjsua_conf_add_port.restype = ctypes.c_int
        lib.pjsua_conf_add_port.argtypes = (ctypes.c_void_p, ctypes.c_void_p,
                                            ctypes.POINTER(ctypes.c_int))
        for name in ("pjsua_conf_connect", "pjsua_conf_disconnect"):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_int
            fn.argtypes = (ctypes.c_int, ctypes.c_int)
        lib.pjsua_conf_remove_port.restype = ctypes.c_int
        lib.pjsua_conf_remove_port.argtypes = (ctypes.c_int,)
        lib.pjmedia_port_info_init.restype = ctypes.c_int
        lib.pjmedia_port_info_init.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint,
                                               ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                                               ctypes.c_uint)
        self._pool: int | None = None

    @property
    def version(self) -> str:
        return str(self.lib.pj_get_version().decode())

    def info_image(self, name: ctypes.Array[ctypes.c_char], signature: int) -> bytes:
        """What the library's pjmedia_port_info_init writes over a filler."""
        buf = ctypes.create_string_buffer(_FILLER * _IMAGE, _IMAGE)
        pjstr = _PjStr(ctypes.cast(name, ctypes.c_void_p), len(name.value))
        status = self.lib.pjmedia_port_info_init(buf, ctypes.byref(pjstr), signature, 8000, 1,
                                                 16, 160)
        if status != 0:
            raise OSError(f"pjmedia_port_info_init failed with status {status}")
        return buf.raw

    def add(self, port: RingPort) -> int:
        if self._pool is None:
            # For a resampler pjsua might add; ours runs at the bridge's own rate.
            self._pool = self.lib.pjsua_pool_create(b"minipbx-lines", 1024, 1024)
            if not self._pool:
                raise MemoryError("pjsua gave no memory pool for the line ports")
        slot = ctypes.c_int(-1)
        status = self.lib.pjsua_conf_add_port(self._pool, port.pjmedia_port,
                                              ctypes.byref(slot))
        if status != 0:
            raise OSError(f"pjsua_conf_add_port({port.name}) failed with status {status}")
        return slot.value

    def connect(self, source: int, sink: int) -> None:
        status = self.lib.pjsua_conf_connect(source, sink)
        if status != 0:
            raise OSError(f"pjsua_conf_connect({source}, {sink}) failed with status {status}")

    def disconnect(self, source: int, sink: int) -> None:
        self.lib.pjsua_conf_disconnect(source, sink)

    def remove(self, slot: int) -> None:
        self.lib.pjsua_conf_remove_port(slot)


def media_of(slot: int) -> Any:
    """pjsua2's own AudioMedia for a bridge slot, so pjsua2 objects (call media, players,
    recorders) connect to a native port with their usual startTransmit."""
    for media in pj.Endpoint.instance().mediaEnumPorts2():
        if media.getPortId() == slot:
            return media
    raise LookupError(f"bridge slot {slot} is not among pjsua2's ports")


def check_bridge(native: NativeLib, api: BridgeApi, timeout_s: float = 1.0) -> str | None:
    """None if native ports work with the running library, else why not."""
    built = os.environ.get(ENV_EXPECT) or native.built_version
    running = api.version
    if built != running:
        return (f"the native line port was built against pjproject {built} but the running "
                f"library is {running} (rebuild it: tools/build_native.sh)")
    try:
        problem = layout_problem(native, api)
    except (OSError, AttributeError) as exc:
        problem = f"the layout check failed: {exc}"
    if problem is not None:
        return problem
    a = RingPort(native, "probe-a", 4, 4, 4, 2)
    b = RingPort(native, "probe-b", 4, 4, 4, 2)
    pattern = bytes((i * 7 + 3) % 251 for i in range(FRAME_BYTES))
    slots: list[int] = []
    try:
        slots = [api.add(a), api.add(b)]
        api.connect(slots[0], slots[1])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if a.say_queued < 2:
                a.say(pattern)
            heard = b.hear()
            if any(heard[i:i + FRAME_BYTES] == pattern for i in range(0, len(heard),
                                                                     FRAME_BYTES)):
                return None
            time.sleep(0.005)
        stats = b.stats()
        if not stats["puts"]:
            return "the bridge never called the native port (is its clock running?)"
        return "a frame sent through the bridge between two native ports did not arrive intact"
    except OSError as exc:
        return str(exc)
    finally:
        for slot in slots:
            api.remove(slot)
        # a and b are not freed: the bridge lets go of them on its next tick.


class NativeLinePort:
    """One line's port on the bridge, with the interface of the Python LineBridgePort
    (``source``, ``tap``, ``errors``) for the media switch."""

    kind = "native"
    needs_listener = False  # the pump reads the line for the detectors itself

    def __init__(self, name: str, ring: RingPort, slot: int, media: Any,
                 read: Callable[[], bytes], write: FrameSink, pump: LinePump) -> None:
        self.name = name
        self.ring = ring
        self.slot = slot
        self.media = media
        self.read = read
        self.write = write
        self._pump = pump
        self._lock = threading.Lock()  # around the source: the loop and the pump call it
        self._source: FrameSource | None = None
        self._tap: FrameSink | None = None
        self._record: RecordSink | None = None
        # What the line said since the last record: one frame for each tick, so two when
        # the pump moves two frames a wake-up (SIP_STRIDE); each is recorded with its own tick.
        self._said: list[bytes] = []
        self._linked = False
        self._internal = False  # bridged with another line (not a SIP call)
        self._underruns = 0  # the say ring's underruns the pump has seen
        self.errors = 0

    # --- set by the media switch (loop thread) ------------------------------------------
    @property
    def source(self) -> FrameSource | None:
        return self._source

    @source.setter
    def source(self, source: FrameSource | None) -> None:
        with self._lock:
            early = (source is not None and self._source is None and not self._linked
                     and not self.ring.play_queued)
            if self._source is not None:
                # Stopped or replaced before its end: what is queued goes at once (barge-in).
                # A source that ran out by itself has its last frames play out.
                self.ring.flush_play()
            self._source = source
            try:
                if early and source is not None:
                    # A line with no partner hears nothing else: the first frame goes to
                    # the board now (from this thread; the boards' writes are thread-safe),
                    # not at the bridge's next tick, so dial tone starts within a ms or so.
                    frame = source()
                    if frame is not None:
                        self.write(_whole_frame(frame))
                if source is not None:
                    self._fill_locked()  # queued now: it plays from the bridge's next tick
            except Exception:  # as on the clock thread: a bad source costs its own audio
                self.failed("play")
        self._pump.update(self)

    @property
    def tap(self) -> FrameSink | None:
        return self._tap

    @tap.setter
    def tap(self, sink: FrameSink | None) -> None:
        self._tap = sink
        self._pump.update(self)

    @property
    def record(self) -> RecordSink | None:
        return self._record

    @record.setter
    def record(self, sink: RecordSink | None) -> None:
        self._record = sink
        self._pump.update(self)

    @property
    def linked(self) -> bool:
        return self._linked

    @linked.setter
    def linked(self, on: bool) -> None:
        self._linked = on
        self._pump.update(self)

    @property
    def internal(self) -> bool:
        return self._internal

    @internal.setter
    def internal(self, on: bool) -> None:
        """Bridged with another line: the pump then reads what it says just before each
        tick (two wake-ups a tick) instead of with what it heard (one)."""
        self._internal = on

    def startTransmit(self, sink: Any) -> None:
        self.media.startTransmit(sink)

    def stopTransmit(self, sink: Any) -> None:
        self.media.stopTransmit(sink)

    @property
    def wanted(self) -> bool:
        """Whether the pump has work on this line (besides draining its rings)."""
        return (self._source is not None or self._tap is not None or self._linked
                or self._record is not None)

    # --- the pump's side (pump thread) ---------------------------------------------------
    def fill(self) -> None:
        with self._lock:
            self._fill_locked()

    def _fill_locked(self) -> None:
        source = self._source
        ring = self.ring
        while source is not None and ring.play_queued < PLAY_AHEAD:
            frame = source()
            if frame is None:
                self._source = None  # ran out: on_done has been called by the source
                return
            ring.play(_whole_frame(frame))

    def failed(self, what: str) -> None:
        self.errors += 1
        if self.errors <= 3:
            log.exception("%s: native audio %s failed (%d so far)", self.name, what,
                          self.errors)


class LinePump:
    """One thread for every native line port with work to do; asleep when there is none."""

    def __init__(self, native: NativeLib) -> None:
        self.native = native
        self._lock = threading.Lock()
        self._ports: tuple[NativeLinePort, ...] = ()
        # Released when there is new work: a bare lock, the cheapest wait with a timeout.
        self._work = threading.Lock()
        self._work.acquire()
        self._stop = False
        self.cycles = 0
        self.lead_ns = SAY_LEAD_NS  # adapted: see _adapt
        self.depth = 0  # frames read ahead; 0: read lead_ns before the tick
        self.underruns = 0
        self._clean = 0
        self._thread = threading.Thread(target=self._run, name="line-pump", daemon=True)
        self._thread.start()

    def update(self, port: NativeLinePort) -> None:
        """A port's wants changed (loop thread): make sure the pump serves it."""
        if not port.wanted:
            return  # the pump lets it go once its rings are empty
        with self._lock:
            if port in self._ports:
                return
            self._ports = (*self._ports, port)
        self._notify()
        self.native.wake()

    @property
    def serving(self) -> int:
        return len(self._ports)

    def close(self) -> None:
        self._stop = True
        self._notify()
        self.native.wake()
        self._thread.join(2.0)

    def _run(self) -> None:
        self.native.name_thread("line-pump")
        while not self._stop:
            if not self._ports:
                self._work.acquire()
                continue
            try:
                self._serve()
            except Exception:  # never let the thread die: audio would stop everywhere
                log.exception("line pump failed; restarting it")
                time.sleep(TICK_S)

    def _serve(self) -> None:
        """Cycles anchored on the bridge's ticks, while any port has work. Each wake-up of
        a thread costs tens of microseconds here, so the pump sleeps (GIL released) until
        the instant it has work: HEAR_AFTER_NS after a tick for what lines heard, and
        SAY_LEAD_NS before the next for what bridged lines say (one wake-up a tick when
        no line is bridged or when PHASES is 1)."""
        seq, tick_ns = self.native.wait_tick(0, 0, 0)  # the last tick, without waiting
        if seq == 0 or time.monotonic_ns() - tick_ns > 10 * TICK_NS:
            seq, tick_ns = self.native.wait_tick(seq, 100, 0)  # the clock just started
        last_seq = seq
        done_at = 0  # the instant of the last phase run
        while self._ports and not self._stop:
            bridged = any(p._linked for p in self._ports)
            lead_mode = self.depth == 0 and PHASES == 2 and any(p._internal
                                                                 for p in self._ports)
            # Two ticks a wake-up only while the pump keeps up (no frame read ahead yet for
            # late wake-ups): a loaded machine goes back to one, so its cushion of frames
            # read ahead does not add to the stride's delay.
            stride = SIP_STRIDE if bridged and not lead_mode and self.depth == 0 else 1
            # The next instant with work, from the last tick the bridge signalled: the
            # hear phase after a tick, and in lead mode the say phase before the next.
            after = tick_ns + HEAR_AFTER_NS
            if lead_mode:
                phases: tuple[tuple[int, bool], ...] = (
                    (after, True), (tick_ns + TICK_NS - self.lead_ns, False))
            else:
                phases = ((after, True),)
            # The first phase instant after the last one run (the tick may be late).
            due = [(t + k * TICK_NS, hear) for t, hear in phases for k in range(4)
                   if t + k * TICK_NS > done_at + (stride - 1) * TICK_NS + MIN_GAP_NS]
            target, hear = min(due) if due else (done_at + TICK_NS, True)
            now = time.monotonic_ns()
            if target > now and self._work.acquire(timeout=(target - now) / 1e9):
                # Woken before the instant: new work; look at the ports again.
                seq, tick_ns = self.native.wait_tick(0, 0, 0)
                continue
            done_at = target
            seq, tick_ns = self.native.wait_tick(0, 0, 0)  # once a phase: it costs
            ticks = min(seq - last_seq, 3)
            last_seq = seq
            if hear:
                self._hear_phase(ticks, lead_mode)
            if bridged:
                self._say_phase(lead_mode, before=lead_mode and not hear, stride=stride)

    def _notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # released already: work is pending
            self._work.release()

    def _adapt(self, underran: bool) -> None:
        """How early bridged lines are read: after a tick that took silence, earlier
        (lead 3 ms before the tick, +2 ms a time; then right after the previous tick, one
        frame ahead; then two); one step back after every clean 30 s (each step back risks
        one more tick of silence, so not often)."""
        if underran:
            self.underruns += 1
            self._clean = 0
            if self.depth == 0 and self.lead_ns + 2_000_000 < CUSHION_LEAD_NS:
                self.lead_ns += 2_000_000
            else:
                self.depth = min(self.depth + 1, MAX_DEPTH)
            return
        self._clean += 1
        if self._clean < CLEAN_SAYS:
            return
        self._clean = 0
        if self.depth > 0:
            self.depth -= 1
        else:
            self.lead_ns = max(self.lead_ns - 2_000_000, SAY_LEAD_NS)

    def _hear_phase(self, ticks: int, lead_mode: bool) -> None:
        """What each line heard goes to the board; playback is topped up; lines listened to
        but not bridged are read for their detectors."""
        self.cycles += 1
        ports = self._ports
        for port in ports:
            try:
                heard = port.ring.hear()
                for i in range(0, len(heard), FRAME_BYTES):
                    port.write(heard[i:i + FRAME_BYTES])
                if port._record is not None and ticks:
                    self._record(port, heard)
                if port._source is not None:
                    port.fill()
                if not port._linked and ticks and (port._tap is not None
                                                   or port._record is not None):
                    for _ in range(ticks):
                        self._say(port)
            except Exception:
                port.failed("pump")
        idle = [p for p in ports if not p.wanted and not p.ring.play_queued
                and not p.ring.hear_queued]
        if idle:
            with self._lock:  # wanted again meanwhile: update() found it here, keep it
                self._ports = tuple(p for p in self._ports if p not in idle or p.wanted)

    def _say_phase(self, lead_mode: bool, before: bool, stride: int = 1) -> None:
        """What bridged lines say, one frame for each the bridge took: for lines bridged
        with lines in lead mode, just before the tick (``before``); otherwise right after
        a tick, keeping ``depth`` frames (at least one) in the ring, and one more for each
        further tick until the next wake-up (``stride``)."""
        underran = False
        for port in self._ports:
            if not port._linked:
                continue
            in_lead = lead_mode and port._internal
            if in_lead != before:
                continue
            try:
                ring = port.ring
                seen = ring.say_underruns
                if seen != port._underruns:
                    port._underruns = seen
                    underran = True
                keep = 1 if in_lead else max(self.depth, 1) + stride - 1
                for _ in range(keep - ring.say_queued):
                    self._say(port)
            except Exception:
                port.failed("read")
        self._adapt(underran)

    @staticmethod
    def _record(port: NativeLinePort, heard: bytes) -> None:
        record = port._record
        if record is None:
            return
        said, port._said = port._said, []
        heard_frames = [heard[i:i + FRAME_BYTES] for i in range(0, len(heard), FRAME_BYTES)]
        for i in range(max(len(said), len(heard_frames), 1)):
            record(said[i] if i < len(said) else None,
                   heard_frames[i] if i < len(heard_frames) else None)

    @staticmethod
    def _say(port: NativeLinePort) -> None:
        frame = port.read()
        tap = port._tap
        if tap is not None:
            tap(frame)
        if port._record is not None:
            port._said.append(frame)
            del port._said[:-MAX_SAID]  # a record is due every wake-up with ticks; a bound
        if port._linked:
            port.ring.say(_whole_frame(frame))


def _whole_frame(frame: bytes) -> bytes:
    return frame if len(frame) == FRAME_BYTES else frame[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
