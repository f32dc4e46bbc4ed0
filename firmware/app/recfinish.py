"""After the call: a recording's WAV becomes a checked Ogg Opus file, and retention runs.

One thread of its own (``rec-encoder``), so that an encode (seconds per call minute, at
nice 19) never delays the recording writer:

- each finished recording is encoded (``recencode``: opusenc, checked with opusinfo); the
  WAV goes only after the check, and before the metadata says ``ready``, so a stop in
  between leaves an ``.opus`` that :meth:`Finisher.recover` adopts at the next start;
- a failed encode keeps the WAV, marks the recording ``failed`` and says why;
- retention (``keep_days``, ``max_gb``: ``recstore.to_delete``) runs at start, after each
  encode and every hour;
- at start, :meth:`Finisher.recover` repairs the header of WAVs a stop or crash left
  unfinished and encodes them.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from firmware.app import recencode
from firmware.media.recstore import (
    BUSY_STATES,
    ENCODING,
    FAILED,
    READY,
    RecordingInfo,
    RecordingStore,
)
from firmware.media.recwav import RATE_HZ, wav_header

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0
PR_SET_NAME = 15  # prctl(2)


class Limits(Protocol):
    @property
    def max_bytes(self) -> int: ...

    @property
    def keep_days(self) -> int: ...


def name_thread(name: str) -> None:
    """The OS thread's name (top -H, /proc/PID/task/*/comm), so its CPU can be told."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)


class Finisher:
    def __init__(self, store: RecordingStore, limits: Callable[[], Limits]) -> None:
        self.store = store
        self._limits = limits  # read at each run: a commit may change them
        self._jobs: queue.Queue[RecordingInfo | None] = queue.Queue()
        self._stop = threading.Event()
        self.encoded = 0
        self.encode_failures = 0
        self.encode_cpu_s = 0.0
        self.encoded_audio_s = 0.0
        self._thread = threading.Thread(target=self._loop, name="rec-encoder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, info: RecordingInfo) -> None:
        self._jobs.put(info)

    def waiting(self) -> int:
        return self._jobs.qsize()

    def close(self, timeout: float) -> None:
        """Stop after the encode in hand; those still waiting are recovered next start."""
        self._stop.set()
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def recover(self) -> None:
        """Recordings a stop or crash left as WAV: repair their header, encode them."""
        try:
            items = self.store.list()
        except OSError:
            return
        for info in items:
            if info.state not in BUSY_STATES:
                continue
            wav = self.store.wav_path(info)
            opus = self.store.opus_path(info)
            if not wav.exists() and opus.exists():
                self._adopt(info, opus)
                continue
            try:
                size = wav.stat().st_size
                channels = 2 if info.channels == "stereo" else 1
                data = max(0, size - 44)
                data -= data % (2 * channels)
                with open(wav, "r+b") as f:
                    f.write(wav_header(channels, data))
                info = self.store.update(info, state=ENCODING, bytes=size,
                                         duration_s=data / (2 * channels * RATE_HZ),
                                         ended=info.ended or wav.stat().st_mtime)
            except OSError as exc:
                log.warning("recording %s cannot be recovered: %s", info.uid, exc)
                continue
            log.info("recording %s left unfinished; encoding it now", info.uid)
            self.put(info)

    def _adopt(self, info: RecordingInfo, opus: Path) -> None:
        """An encode that finished just before a stop: check it and call it ready."""
        try:
            seconds, _ = recencode.check(opus)
            self.store.update(info, state=READY, format="ogg/opus",
                              bytes=opus.stat().st_size, duration_s=seconds,
                              path=f"{info.day}/{info.uid}.opus")
        except (OSError, recencode.EncodeError) as exc:
            log.warning("recording %s cannot be recovered: %s", info.uid, exc)

    def _loop(self) -> None:
        name_thread("rec-encoder")
        self._retention()
        last = time.monotonic()
        while True:
            try:
                job = self._jobs.get(timeout=RETENTION_EVERY_S)
            except queue.Empty:
                job = None
            if job is None and self._stop.is_set():
                return
            if job is not None:
                self._encode(job)
            if job is not None or time.monotonic() - last >= RETENTION_EVERY_S:
                self._retention()
                last = time.monotonic()

    def _encode(self, info: RecordingInfo) -> None:
        wav = self.store.wav_path(info)
        channels = 2 if info.channels == "stereo" else 1
        try:
            done = recencode.encode(wav, self.store.opus_path(info), channels,
                                    info.duration_s)
        except recencode.EncodeError as exc:
            self.encode_failures += 1
            log.error("recording %s: %s; the WAV is kept", info.uid, exc)
            with contextlib.suppress(OSError):
                self.store.update(info, state=FAILED, note=str(exc))
            return
        try:
            # The WAV goes first: a stop in between leaves an .opus that recover adopts.
            wav.unlink(missing_ok=True)
            self.store.update(info, state=READY, format="ogg/opus", bytes=done.bytes,
                              path=f"{info.day}/{info.uid}.opus")
        except OSError as exc:
            log.error("recording %s: encoded, but: %s", info.uid, exc)
            return
        self.encoded += 1
        self.encode_cpu_s += done.cpu_s
        self.encoded_audio_s += done.seconds
        log.info("recording %s: %.1f s, %d bytes of Ogg Opus (%.2f s CPU)", info.uid,
                 done.seconds, done.bytes, done.cpu_s)

    def _retention(self) -> None:
        limits = self._limits()
        try:
            gone = self.store.enforce(max_bytes=limits.max_bytes, keep_days=limits.keep_days)
        except OSError as exc:
            log.warning("recording retention: %s", exc)
            return
        if gone:
            log.info("recording retention deleted %d recordings (oldest first)", len(gone))
