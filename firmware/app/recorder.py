"""Call recording at run time: ``Record`` events from the exchange to files on disk.

Where the audio comes from: a recorded call has a line leg (every call has one today: an
extension's handset, or an FXO line), and that line's bridge port already sees both
voices each tick: the line's own audio and what the bridge sends it (the other leg,
whether a handset or a SIP call). The port hands the pair to the recording on the clock
thread (``MediaSwitch.record``); no extra port joins the bridge. A call with no line leg
(SIP to SIP) is not recorded yet, and says so in the log and in ``status``.

Threads, so that recording never costs the call's own audio a gap:

- the clock thread only appends the pair to the session's bounded deque (10 s); when it
  is full the recording's frame is dropped and counted, never the call's;
- one writer thread drains every session each 100 ms, writes the WAV and, before each
  write, checks the disk floor (``recstore.may_record``): below it the recording stops,
  the call goes on, and ``status`` says so (as ``logsink`` does for the log). With no
  recording it only looks at the disk every 2 s (an idle box wakes no thread 10 times a
  second for nothing); a new recording wakes it at once;
- one encoder thread (``recfinish``) turns finished WAVs into Ogg Opus at low priority
  (``recencode``) and applies retention (``keep_days``, ``max_gb``: the oldest go first)
  after each encode, at start and every hour.

The loop thread owns the switch: the writer asks it (``call_soon_threadsafe``) to take a
stopped recording's tap off the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from firmware.app import recencode
from firmware.app.recfinish import Finisher, name_thread
from firmware.core.events import LegId, Record
from firmware.media.recstore import (
    ENCODING,
    FAILED,
    RECORDING,
    RecordingInfo,
    RecordingStore,
    floor_bytes,
    may_record,
    new_uid,
)
from firmware.media.recwav import (
    WavWriter,
    interleave,
    merge_mono_pairs,
)

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES = 500  # 10 s of 20 ms pairs per recording
WRITE_EVERY_S = 0.1
IDLE_CHECK_S = 2.0  # the free space for status and new recordings, while none runs
UIDS_KEPT = 1000
# A pjsua2 recorder's file is whole about one tick after it is dropped.
MERGE_AFTER_S = 0.2
# The problem clears once this much more than the floor is free again (no flapping).
DISK_HYSTERESIS = 10_000_000  # call id -> uid answers kept for the call records


class RecordTap(Protocol):
    """What the recorder needs of the media switch."""

    def record(self, leg: LegId, sink: Callable[[bytes | None, bytes | None], None] | None
               ) -> None: ...

    def can_record(self, leg: LegId) -> bool: ...

    def record_media(self, leg: LegId, path: str | None) -> bool: ...


@dataclass(frozen=True)
class RecordingSettings:
    channels: str = "stereo"
    max_bytes: int = 0
    keep_days: int = 0

    @property
    def channel_count(self) -> int:
        return 2 if self.channels == "stereo" else 1


@dataclass(eq=False)
class Session:
    """One call's recording. ``push`` runs on the clock thread."""

    call_id: int
    a: LegId
    b: LegId
    line: LegId  # the leg whose port carries the call's audio
    swap: bool  # the line is the callee: its own audio goes right
    info: RecordingInfo
    active: bool = True
    finishing: bool = False
    stopped: str = ""  # why recording stopped before the call ended
    dropped: int = 0
    frames: deque[tuple[bytes | None, bytes | None]] = field(default_factory=deque)
    writer: WavWriter | None = None
    # A SIP-to-SIP call: pjsua2 recorders write each side's file (firmware/sip/callrec.py),
    # one pair per stretch of recording; merged into the WAV once the call is over.
    pair: bool = False
    segments: list[tuple[Path, Path]] = field(default_factory=list)
    merge_after: float = 0.0

    def push(self, said: bytes | None, heard: bytes | None) -> None:
        if not self.active:
            return
        if len(self.frames) >= MAX_QUEUED_FRAMES:
            self.dropped += 1
            return
        self.frames.append((heard, said) if self.swap else (said, heard))


class Recorder:
    def __init__(self, loop: asyncio.AbstractEventLoop, switch: RecordTap,
                 store: RecordingStore, settings: RecordingSettings) -> None:
        self.loop = loop
        self.switch = switch
        self.store = store
        self.settings = settings
        self._sessions: dict[int, Session] = {}  # by call id; the writer thread's too
        # Finishing sessions whose call id a new recording took (a call recorded again
        # after its legs were unbridged): the writer still finishes them.
        self._closing: list[Session] = []
        self._lock = threading.Lock()
        self._uids: OrderedDict[int, str] = OrderedDict()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a session started, or stop: the writer runs now
        self.recorded = 0
        self.refused = 0  # starts refused: no line leg, or the disk below its floor
        self.stopped_by_disk = 0
        self.dropped_frames = 0
        self.error: str | None = None
        self.error_since: float | None = None
        self._disk: tuple[int, int] = (0, 0)
        self._writer = threading.Thread(target=self._write_loop, name="rec-writer",
                                        daemon=True)
        # After the call: encode, check, retention (firmware/app/recfinish.py).
        self.finisher = Finisher(store, lambda: self.settings)

    def start(self) -> None:
        self._writer.start()
        self.finisher.start()

    # --- the loop thread ---------------------------------------------------------------------
    def handle(self, event: Record) -> None:
        """A Record event from the exchange."""
        if event.on:
            self._start(event)
            return
        session = self._sessions.get(event.call_id)
        if session is not None and session.active:
            session.active = False
            self._untap(session)

    def _start_pair(self, event: Record) -> bool:
        """A call with no line leg: a pjsua2 recorder on each SIP leg's audio."""
        free, total = self._disk
        if total and not may_record(free, total):
            return False
        try:
            info = self.store.create(event.call_id, event.a, event.b, self.settings.channels)
        except OSError as exc:
            self._problem(f"cannot create a recording: {exc.strerror or exc}")
            return False
        session = Session(event.call_id, event.a, event.b, "", False, info, pair=True)
        if not self._new_segment(session):
            self.store.delete(info.uid)
            return False
        with self._lock:
            self._sessions[event.call_id] = session
        self._wake.set()
        self._uids[event.call_id] = info.uid
        while len(self._uids) > UIDS_KEPT:
            self._uids.popitem(last=False)
        self.recorded += 1
        log.info("call %d: recording %s and %s (pjsua2 recorders)", event.call_id, event.a,
                 event.b)
        return True

    def _new_segment(self, session: Session) -> bool:
        """Start both sides' recorders on a new pair of files (loop thread)."""
        base = self.store.wav_path(session.info)
        n = len(session.segments)
        paths = (base.with_name(f"{session.info.uid}.{n}a.wav"),
                 base.with_name(f"{session.info.uid}.{n}b.wav"))
        try:
            ok = (self.switch.record_media(session.a, str(paths[0]))
                  and self.switch.record_media(session.b, str(paths[1])))
        except Exception as exc:  # pjsua2 could not create the file
            log.error("call %d: recorder failed: %s", session.call_id, exc)
            ok = False
        if not ok:
            self.switch.record_media(session.a, None)
            self.switch.record_media(session.b, None)
            return False
        session.segments.append(paths)
        return True

    def call_over(self, a: LegId, b: LegId) -> None:
        """The legs ``a`` and ``b`` were unbridged: their call's recording is complete."""
        pair = {a, b}
        for session in list(self._sessions.values()):
            if {session.a, session.b} == pair and not session.finishing:
                session.active = False
                self._untap(session)
                session.merge_after = time.monotonic() + MERGE_AFTER_S
                session.finishing = True

    def sweep(self, leg_state: Callable[[LegId], str]) -> None:
        """Finish recordings whose call is gone without an Unbridge (a safety net: a tap
        left on an idle line would record silence for ever). Cheap: runs after every
        pass of the box's work queue."""
        for session in list(self._sessions.values()):
            if not session.finishing and any(
                    leg_state(leg) in ("idle", "unknown") for leg in (session.a, session.b)):
                log.warning("call %d: its legs left without an unbridge; recording ends",
                            session.call_id)
                self.call_over(session.a, session.b)

    def uid_for(self, call_id: int) -> str | None:
        """The recording of call ``call_id`` (for its call record); None if none."""
        return self._uids.get(call_id)

    def status(self) -> dict[str, Any]:
        free, total = self._disk
        with self._lock:
            active = sum(1 for s in self._sessions.values() if s.active)
        return {"ok": self.error is None, "active": active, "recorded": self.recorded,
                "refused": self.refused, "stopped_by_disk": self.stopped_by_disk,
                "dropped_frames": self.dropped_frames + sum(
                    s.dropped for s in list(self._sessions.values())),
                "encoded": self.finisher.encoded,
                "encode_failures": self.finisher.encode_failures,
                "encode_queue": self.finisher.waiting(),
                "error": self.error, "since": self.error_since,
                "free_bytes": free, "floor_bytes": floor_bytes(total) if total else None,
                "path": str(self.store.root)}

    def close(self, timeout: float = 5.0) -> None:
        """Stop every recording, finish the files; encodes left wait for the next start."""
        for session in list(self._sessions.values()):
            session.active = False
            self._untap(session)
            session.merge_after = time.monotonic() + MERGE_AFTER_S
            session.finishing = True
        self._stop.set()
        self._wake.set()
        if self._writer.is_alive():
            self._writer.join(timeout)
        self.finisher.close(timeout)

    def _start(self, event: Record) -> None:
        session = self._sessions.get(event.call_id)
        if session is not None and not session.finishing:
            if session.stopped:
                return  # stopped by the disk floor: not again in this call
            session.active = True  # on demand, again: the same file goes on
            if session.pair:
                session.active = self._new_segment(session)
            else:
                self.switch.record(session.line, session.push)
            return
        if session is not None:  # finishing: it goes on being written and encoded
            with self._lock:
                self._closing.append(session)
                del self._sessions[event.call_id]
        line = next((leg for leg in (event.a, event.b) if self.switch.can_record(leg)), None)
        if line is None and self._start_pair(event):
            return
        if line is None:
            self.refused += 1
            log.warning("call %d: %s to %s: neither a line nor two SIP legs with media; "
                        "not recorded", event.call_id, event.a, event.b)
            return
        free, total = self._disk
        if total and not may_record(free, total):
            self.refused += 1
            self._problem(f"disk below its floor ({free // 1_000_000} MB free): "
                          "recording refused")
            log.warning("call %d: not recorded: %s", event.call_id, self.error)
            return
        started = time.time()
        info = RecordingInfo(
            uid=new_uid(event.call_id, started), call_id=event.call_id, a=event.a, b=event.b,
            started=started,
            ended=None, duration_s=0.0, bytes=0, format="wav",
            channels=self.settings.channels, state=RECORDING, path="")
        session = Session(event.call_id, event.a, event.b, line, line == event.b, info)
        with self._lock:
            self._sessions[event.call_id] = session
        self._wake.set()
        self._uids[event.call_id] = info.uid
        while len(self._uids) > UIDS_KEPT:
            self._uids.popitem(last=False)
        self.switch.record(line, session.push)
        log.info("call %d: recording %s and %s (from %s's port)", event.call_id, event.a,
                 event.b, line)

    def _untap(self, session: Session) -> None:
        if session.pair:
            self.switch.record_media(session.a, None)
            self.switch.record_media(session.b, None)
            return
        with contextlib.suppress(KeyError):  # the line left the bridge map (shutdown)
            self.switch.record(session.line, None)

    def _untap_soon(self, session: Session) -> None:
        """From the writer thread: take the tap off on the loop thread."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
            self.loop.call_soon_threadsafe(self._untap, session)

    def _problem(self, text: str) -> None:
        if self.error is None:
            self.error_since = time.time()
        self.error = text

    # --- the writer thread ------------------------------------------------------------------
    def _write_loop(self) -> None:
        name_thread("rec-writer")
        self.finisher.recover()
        while True:
            stopping = self._stop.is_set()
            try:
                self._write_pass()
            except Exception:  # the writer must go on for the other recordings
                log.exception("recording writer pass failed")
            with self._lock:
                left = bool(self._sessions or self._closing)
            if stopping and not left:
                return
            if stopping:
                time.sleep(0.02)  # drain what is left (merges wait a tick), then end
                continue
            self._wake.wait(WRITE_EVERY_S if left else IDLE_CHECK_S)
            self._wake.clear()  # the sessions are looked at again before the next wait

    def _write_pass(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values()) + self._closing
        try:
            self._disk = self.store.disk()
        except OSError as exc:
            self._problem(f"recordings folder {self.store.root}: {exc.strerror or exc}")
        else:
            free, total = self._disk
            if self.error is not None and may_record(free, total, DISK_HYSTERESIS):
                log.warning("recording: %d MB free again; recording resumes for new calls "
                            "(was: %s)", free // 1_000_000, self.error)
                self.error = None
                self.error_since = None
        for session in sessions:
            self._write_session(session)

    def _write_session(self, session: Session) -> None:
        if session.pair:
            self._write_pair(session)
            return
        pairs: list[tuple[bytes | None, bytes | None]] = []
        while session.frames:
            pairs.append(session.frames.popleft())
        if session.writer is None and pairs and not session.stopped:
            self._open(session)
        if pairs and session.writer is not None and not session.stopped:
            pcm = interleave(pairs, session.writer.channels)
            free, total = self._disk
            if total and not may_record(free, total, len(pcm)):
                self._stop_early(session, f"disk floor: {free // 1_000_000} MB free of "
                                          f"{total // 1_000_000} MB")
            else:
                try:
                    session.writer.write(pcm)
                    self._disk = (free - len(pcm), total)
                except OSError as exc:
                    self._stop_early(session, f"write failed: {exc.strerror or exc}")
        if session.finishing and not session.frames:
            self._finish(session)

    def _write_pair(self, session: Session) -> None:
        """pjsua2 writes the files; here: the disk floor, and the merge at the end."""
        free, total = self._disk
        if session.active and total and not may_record(free, total):
            self._stop_early(session, f"disk floor: {free // 1_000_000} MB free of "
                                      f"{total // 1_000_000} MB")
        if not session.finishing or time.monotonic() < session.merge_after:
            return
        channels = 2 if session.info.channels == "stereo" else 1
        try:
            session.writer = WavWriter(self.store.wav_path(session.info), channels)
            merge_mono_pairs(session.segments, session.writer)
        except OSError as exc:
            log.error("call %d: merging the recording failed: %s", session.call_id, exc)
        for left, right in session.segments:
            left.unlink(missing_ok=True)
            right.unlink(missing_ok=True)
        self._finish(session)

    def _open(self, session: Session) -> None:
        try:
            # The channels chosen when the call started, whatever a commit says since.
            info = self.store.create(session.call_id, session.a, session.b,
                                     session.info.channels, session.info.started,
                                     uid=session.info.uid)
            session.writer = WavWriter(self.store.wav_path(info),
                                       2 if info.channels == "stereo" else 1)
        except OSError as exc:
            self._stop_early(session, f"cannot create the file: {exc.strerror or exc}")
            return
        session.info = info
        self.recorded += 1

    def _stop_early(self, session: Session, why: str) -> None:
        session.active = False
        session.stopped = why
        session.frames.clear()
        self._untap_soon(session)
        if why.startswith("disk floor"):
            self.stopped_by_disk += 1
        self._problem(f"call {session.call_id}: recording stopped: {why}")
        log.error("call %d: recording stopped, the call goes on: %s", session.call_id, why)

    def _finish(self, session: Session) -> None:
        with self._lock:
            if self._sessions.get(session.call_id) is session:
                del self._sessions[session.call_id]
            elif session in self._closing:
                self._closing.remove(session)
        self.dropped_frames += session.dropped
        writer = session.writer
        if writer is None:  # nothing was ever written
            stored = self.store.get(session.info.uid)  # its metadata may have been
            if stored is not None:
                with contextlib.suppress(OSError):
                    self.store.update(stored, ended=time.time(), state=FAILED,
                                      note=session.stopped or "nothing recorded")
            return
        try:
            writer.close()
        except OSError as exc:
            log.error("call %d: closing the recording failed: %s", session.call_id, exc)
        try:
            info = self.store.update(
                session.info, ended=time.time(), duration_s=round(writer.seconds, 3),
                bytes=writer.file_bytes, state=ENCODING, note=session.stopped,
                dropped_frames=session.dropped)
        except OSError as exc:
            self._problem(f"call {session.call_id}: recording metadata: {exc.strerror}")
            return
        if session.dropped:
            log.warning("call %d: the recording lost %d frames (the writer fell behind)",
                        session.call_id, session.dropped)
        self.finisher.put(info)

def settings_from(config: Any) -> RecordingSettings:
    rec = config.recording
    return RecordingSettings(channels=rec.channels, max_bytes=int(rec.max_gb * 1e9),
                             keep_days=rec.keep_days)


def recordings_root(config: Any, state_dir: Path) -> Path:
    return Path(config.recording.path) if config.recording.path else state_dir / "recordings"


def start_recorder(loop: asyncio.AbstractEventLoop, config: Any, state_dir: Path,
                   switch: RecordTap) -> Recorder:
    """The daemon's recorder, its threads running (it stops with ``Box.close``)."""
    recorder = Recorder(loop, switch, RecordingStore(recordings_root(config, state_dir)),
                        settings_from(config))
    recorder.start()
    missing = recencode.tools_missing()
    if missing:
        log.warning("call recordings will stay WAV: %s not installed (Debian: opus-tools)",
                    " and ".join(missing))
    return recorder
