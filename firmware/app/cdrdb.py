"""The daemon's writer of call records: the exchange's finished CallRecords go into the
records database (firmware/records/store.py, ``cdr.sqlite`` in the state dir).

Rules (the same promises the old ``cdr.jsonl`` writer made):
- a batch is one transaction, written when the box hands it over, on a writer thread of
  its own (each commit ends in an fsync: the loop, and the calls, never wait for it);
- when the write fails (a full disk, a read-only state dir, the database locked) the
  records wait in memory (at most MAX_PENDING; beyond that the oldest are dropped and
  counted) and go out with the next batch or the daemon's retry (``flush`` every few
  seconds); at shutdown ``close`` writes what still waits;
- the first failure of a run is logged as an error naming the file and the cause, the
  recovery as a note; ``status()`` shows the state for ``minipbx status``;
- the exchange's times are monotonic; they become wall-clock times here, by the offset
  between the two clocks at the moment the batch arrives;
- a call that was recorded gets its recording's uid (``Recorder.uid_for``, REC's module)
  when the record is written;
- at the first start with a database, an old ``cdr.jsonl`` beside it is imported and
  renamed ``cdr.jsonl.migrated``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from firmware.pbx.cdr import CallRecord
from firmware.records.model import CallRow, Leg
from firmware.records.store import FILE_NAME, CallStore

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
OLD_FILE = "cdr.jsonl"

UidFor = Callable[[int], str | None]


# SQLite says "disk I/O error" or "unable to open database file" for what the file system
# did; the file system itself says why, in the words the rest of the box uses.
LOW_SPACE_BYTES = 64 * 1024


def _why(exc: Exception, folder: Path) -> str:
    if isinstance(exc, OSError):
        return str(exc.strerror or exc)
    try:
        fs = os.statvfs(folder)
    except OSError:
        return str(exc)
    if fs.f_flag & os.ST_RDONLY:
        return f"Read-only file system ({exc})"
    if fs.f_bavail * fs.f_frsize < LOW_SPACE_BYTES:
        return f"No space left on device ({exc})"
    if not os.access(folder, os.W_OK):
        return f"Permission denied ({exc})"
    return str(exc)


def to_row(r: CallRecord, offset: float, recording: str | None = None) -> CallRow:
    """The stored row of an exchange record; ``offset`` = wall time - monotonic time."""
    return CallRow(
        call_id=r.call_id, start=r.start + offset,
        answer=None if r.answer is None else r.answer + offset, end=r.end + offset,
        status=r.disposition.name, caller_leg=r.caller_leg, caller_number=r.caller_number,
        caller_name=r.caller_name, caller_ext=r.caller_extension,
        called_number=r.called_number, called_name=r.called_name, callee_leg=r.callee_leg,
        callee_ext=r.callee_extension, direction=r.direction, route=r.route, trunk=r.trunk,
        path=r.path, queue_wait=r.queue_wait, cause=int(r.cause) if r.cause else None,
        cause_name=r.cause.name if r.cause else None, reason=r.reason,
        hangup_side=r.hangup_side, recording=recording,
        legs=tuple(Leg(leg, role, number=ext, trunk=trunk, result=result)
                   for leg, role, trunk, result, ext in r.legs))


class CdrDb:
    def __init__(self, state_dir: Path, *, keep_days: float = 0, max_records: int = 0,
                 uid_for: UidFor | None = None) -> None:
        self.path = state_dir / FILE_NAME
        self._old = state_dir / OLD_FILE
        self._keep = (keep_days, max_records)
        self._store: CallStore | None = None
        self.uid_for = uid_for
        self._pending: deque[CallRow] = deque()
        # Writes (each ends in an fsync) run on one thread of their own, in order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdr-writer")
        self._lock = threading.Lock()  # the pending rows and the counters
        self._write_lock = threading.Lock()  # one write at a time
        self._busy = False
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.migrated = 0
        self.error: str | None = None
        self.error_since: float | None = None
        try:
            self._open()
        except (sqlite3.Error, OSError) as exc:  # a full disk never stops the box
            self._failed(exc)

    def _open(self) -> CallStore:
        if self._store is None:
            self._store = CallStore(self.path, keep_days=self._keep[0],
                                    max_records=self._keep[1])
            if self._old.exists():
                self.migrated = self._store.import_jsonl(self._old)
        return self._store

    @property
    def store(self) -> CallStore:
        """The database, opened now if the disk refused it at start (sqlite3.Error or
        OSError when it still does)."""
        return self._open()

    def follow(self, old: Any, new: Any) -> None:
        """A committed configuration: its ``[records]`` retention applies at once."""
        settings = getattr(new, "records", None)
        keep = (float(getattr(settings, "keep_days", 0) or 0),
                int(getattr(settings, "max_records", 0) or 0))
        if keep == self._keep:
            return
        self._keep = keep
        if self._store is not None:
            self._store.keep_days, self._store.max_records = keep
            try:
                self._store.prune()
            except sqlite3.Error as exc:
                log.warning("%s: applying the new retention failed: %s; it is tried again "
                            "with the next records", self.path, exc)

    def close(self) -> None:
        """Waits for the writer thread, then writes what still waits (shutdown)."""
        self._executor.shutdown(wait=True)
        self.flush_now()
        if self._store is not None:
            self._store.close()

    def append(self, records: list[Any]) -> None:
        offset = time.time() - time.monotonic()
        rows = [to_row(r, offset, self._recording(r.call_id)) for r in records]
        with self._lock:
            for row in rows:
                if len(self._pending) >= MAX_PENDING:
                    self._pending.popleft()
                    self.dropped += 1
                self._pending.append(row)
        self.flush()

    def _recording(self, call_id: int) -> str | None:
        if self.uid_for is None:
            return None
        try:
            return self.uid_for(call_id)
        except Exception:
            log.exception("call %d: asking the recorder for its recording failed", call_id)
            return None

    def flush(self) -> bool:
        """Starts writing what waits on the writer thread (the loop never waits for the
        disk's fsync); True when nothing waits."""
        with self._lock:
            if not self._pending:
                return True
            if self._busy:
                return False
            self._busy = True
        try:
            self._executor.submit(self._write_in_thread)
        except RuntimeError:  # shut down: close() writes what is left
            with self._lock:
                self._busy = False
        return False

    def _write_in_thread(self) -> None:
        try:
            self.flush_now()
        except Exception:
            log.exception("%s: writing call records failed", self.path)
        finally:
            with self._lock:
                self._busy = False

    def flush_now(self) -> bool:
        """Writes what waits, here and now; True when nothing is left waiting."""
        with self._write_lock:
            with self._lock:
                batch = list(self._pending)
            if not batch:
                return True
            try:
                self._open().add(batch)
            except (sqlite3.Error, OSError) as exc:
                with self._lock:
                    self._failed(exc)
                return False
            done = {id(row) for row in batch}
            with self._lock:
                self._pending = deque(r for r in self._pending if id(r) not in done)
                self.written += len(batch)
                if self.error is not None:
                    log.warning("%s: call records written again (%d were waiting)",
                                self.path, len(batch))
                    self.error = None
                    self.error_since = None
                return not self._pending

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        text = _why(exc, self.path.parent)
        if self.error is None:
            log.error("%s: cannot write call records: %s; they wait in memory (up to %d) "
                      "until the disk takes them: free space or fix the state dir's mode",
                      self.path, text, MAX_PENDING)
            self.error_since = time.time()
        self.error = text

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._status()

    def _status(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.error is None, "error": self.error,
                "since": self.error_since, "written": self.written,
                "pending": len(self._pending), "dropped": self.dropped,
                "failures": self.failures}


def open_records(state_dir: Path, config: Any, box: Any) -> CdrDb:
    """The daemon's records writer, with ``[records]`` retention when the configuration
    has it, linked to the box's recorder (REC's) when there is one."""
    settings = getattr(config, "records", None)

    def uid_for(call_id: int) -> str | None:
        recorder = getattr(box, "recorder", None)
        uid = recorder.uid_for(call_id) if recorder is not None else None
        return uid if isinstance(uid, str) else None

    return CdrDb(state_dir, keep_days=float(getattr(settings, "keep_days", 0) or 0),
                 max_records=int(getattr(settings, "max_records", 0) or 0), uid_for=uid_for)


def store_or_none(cdr: CdrDb) -> CallStore | None:
    """The database if it is open (for readers that can do without it)."""
    try:
        return cdr.store
    except (sqlite3.Error, OSError):
        return None
