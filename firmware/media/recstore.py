"""The recordings on disk: where each lives, what it is, which go first when space runs out.

Layout under the recordings folder (``<state dir>/recordings`` unless ``[recording] path``):
``<YYYY-MM-DD>/<uid>.json`` is the recording's metadata (written atomically: the store's
only index), ``<uid>.wav`` the audio while it is recorded and until it is encoded,
``<uid>.opus`` the finished Ogg Opus file. A ``uid`` is
``YYYYmmddTHHMMSSZ-c<call id>-<16 hex>``: anything else is refused, so no name given to
the store can reach outside its folder.

Rules (the arithmetic is in functions of their own, tested without a disk):

- Retention (:func:`to_delete`): recordings older than ``keep_days`` go; then, while all
  of them take more than ``max_bytes``, the oldest finished one goes. A recording still
  being recorded or encoded is never deleted.
- The disk floor (:func:`floor_bytes`): recording stops before the file system has less
  than 10 % or 200 MB free (the larger); calls, configuration saves and the log keep what
  is left.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from firmware.core.files import write_atomic

UID_RE = re.compile(r"\d{8}T\d{6}Z-c\d{1,12}-[0-9a-f]{16}")
FLOOR_FRACTION = 0.10
FLOOR_MIN_BYTES = 200 * 1024 * 1024
DAY_S = 86400.0
# States a recording passes through; only "ready" has a playable file.
RECORDING, ENCODING, READY, FAILED = "recording", "encoding", "ready", "failed"
BUSY_STATES = (RECORDING, ENCODING)


@dataclass(frozen=True)
class RecordingInfo:
    uid: str
    call_id: int
    a: str  # the caller's leg: the left channel
    b: str  # the callee's leg: the right channel
    started: float  # wall clock (time.time())
    ended: float | None
    duration_s: float  # audio recorded (pauses of an on-demand recording not counted)
    bytes: int  # size of the file on disk (the WAV until encoded, then the Opus)
    format: str  # "wav" until encoded, then "ogg/opus"
    channels: str  # "stereo" or "mono"
    state: str  # recording, encoding, ready, failed
    path: str  # relative to the recordings folder: the playable file once ready
    note: str = ""  # why recording stopped early ("disk floor"...), why encoding failed
    dropped_frames: int = 0  # frames the writer could not keep up with (never call audio)

    @property
    def day(self) -> str:
        return self.path.split("/", 1)[0]


def new_uid(call_id: int, now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-c{call_id}-{secrets.token_hex(8)}"


def floor_bytes(total: int) -> int:
    """Free space recording must leave on a file system of ``total`` bytes."""
    return max(int(total * FLOOR_FRACTION), FLOOR_MIN_BYTES)


def may_record(free: int, total: int, needed: int = 0) -> bool:
    """Whether ``needed`` more bytes of recording keep the file system above its floor."""
    return free - needed >= floor_bytes(total)


def to_delete(items: Iterable[RecordingInfo], *, max_bytes: int, keep_days: int,
              now: float) -> list[RecordingInfo]:
    """Which recordings retention deletes, oldest first (see the module rules)."""
    every = list(items)
    done = sorted((i for i in every if i.state not in BUSY_STATES), key=lambda i: i.started)
    busy_bytes = sum(i.bytes for i in every if i.state in BUSY_STATES)
    gone: list[RecordingInfo] = []
    kept: list[RecordingInfo] = []
    for item in done:
        if keep_days and now - item.started > keep_days * DAY_S:
            gone.append(item)
        else:
            kept.append(item)
    if max_bytes:
        total = busy_bytes + sum(i.bytes for i in kept)
        while kept and total > max_bytes:
            oldest = kept.pop(0)
            total -= oldest.bytes
            gone.append(oldest)
    return gone


class RecordingStore:
    """The recordings folder (see the module rules). Safe to use from any thread: every
    change is one atomic file operation."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- reading ---------------------------------------------------------------------------
    def get(self, uid: str) -> RecordingInfo | None:
        """The recording ``uid``; None for an unknown or malformed uid."""
        meta = self._meta_path(uid)
        if meta is None:
            return None
        try:
            return _info(json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def file(self, uid: str) -> Path | None:
        """The playable Ogg Opus file of ``uid``, only once it is ready."""
        info = self.get(uid)
        if info is None or info.state != READY:
            return None
        path = self.root / info.path
        return path if path.is_file() else None

    def busy(self, uid: str) -> bool:
        """``uid`` is still being written (recorded or encoded): its files change, and a
        deletion now would be undone when the writer saves its metadata."""
        info = self.get(uid)
        return info is not None and info.state in BUSY_STATES

    def list(self) -> builtins.list[RecordingInfo]:
        """Every recording, oldest first."""
        found: list[RecordingInfo] = []
        if not self.root.is_dir():
            return found
        for day in sorted(self.root.iterdir()):
            if not day.is_dir():
                continue
            for meta in day.glob("*.json"):
                info = self.get(meta.stem)
                if info is not None:
                    found.append(info)
        found.sort(key=lambda i: (i.started, i.uid))
        return found

    def used_bytes(self) -> int:
        return sum(i.bytes for i in self.list())

    # --- writing (the recorder) ------------------------------------------------------------
    def create(self, call_id: int, a: str, b: str, channels: str,
               now: float | None = None, uid: str = "") -> RecordingInfo:
        started = time.time() if now is None else now
        uid = uid or new_uid(call_id, started)
        day = time.strftime("%Y-%m-%d", time.gmtime(started))
        info = RecordingInfo(uid=uid, call_id=call_id, a=a, b=b, started=started, ended=None,
                             duration_s=0.0, bytes=0, format="wav", channels=channels,
                             state=RECORDING, path=f"{day}/{uid}.wav")
        (self.root / day).mkdir(parents=True, exist_ok=True)
        self.save(info)
        return info

    def save(self, info: RecordingInfo) -> None:
        write_atomic(self.root / info.day / f"{info.uid}.json",
                     json.dumps(asdict(info), indent=1))

    def wav_path(self, info: RecordingInfo) -> Path:
        return self.root / info.day / f"{info.uid}.wav"

    def opus_path(self, info: RecordingInfo) -> Path:
        return self.root / info.day / f"{info.uid}.opus"

    def update(self, info: RecordingInfo, **changes: Any) -> RecordingInfo:
        new = replace(info, **changes)
        self.save(new)
        return new

    def delete(self, uid: str) -> bool:
        """Remove the recording ``uid`` (its audio first, then its metadata)."""
        meta = self._meta_path(uid)
        if meta is None or not meta.exists():
            return False
        # Its audio in any form (.opus, .opus.part, .wav, a SIP call's per-side .0a.wav);
        # the uid holds no glob characters (UID_RE).
        for audio in meta.parent.glob(f"{uid}.*"):
            if audio != meta:
                with contextlib.suppress(FileNotFoundError):
                    audio.unlink()
        meta.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            meta.parent.rmdir()  # the day's folder, once empty
        return True

    def enforce(self, *, max_bytes: int, keep_days: int,
                now: float | None = None) -> builtins.list[str]:
        """Delete what retention says must go; returns their uids."""
        items = self.list()
        gone = to_delete(items, max_bytes=max_bytes, keep_days=keep_days,
                         now=time.time() if now is None else now)
        return [i.uid for i in gone if self.delete(i.uid)]

    def disk(self) -> tuple[int, int]:
        """(free, total) bytes of the file system holding the recordings."""
        self.root.mkdir(parents=True, exist_ok=True)
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize

    def _meta_path(self, uid: str) -> Path | None:
        if not isinstance(uid, str) or not UID_RE.fullmatch(uid):
            return None
        day = f"{uid[0:4]}-{uid[4:6]}-{uid[6:8]}"
        return self.root / day / f"{uid}.json"


def _info(data: dict[str, Any]) -> RecordingInfo:
    fields = RecordingInfo.__dataclass_fields__
    return RecordingInfo(**{k: v for k, v in data.items() if k in fields})
