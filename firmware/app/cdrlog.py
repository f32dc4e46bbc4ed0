"""The call records file (``cdr.jsonl`` in the state dir): one JSON object a line, appended
as calls end.

Rules, so that a full disk, a read-only state dir or a vanished file costs records at worst,
never the daemon or the file's shape:

- each batch goes out as one ``write`` on an ``O_APPEND`` descriptor; if it fails part way
  (ENOSPC after some bytes), the file is cut back to its length before the batch, so no
  torn line is ever left;
- records that could not be written wait in memory (at most ``MAX_PENDING``; beyond that the
  oldest are dropped and counted) and go out with the next batch, or the daemon's retry
  (``flush`` every few seconds), once the disk takes them;
- the first failure of a run is logged as an error naming the file and the cause, the
  recovery as a note; ``status()`` shows the state for ``minipbx status``.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_PENDING = 10_000


def record_line(r: Any) -> str:
    return json.dumps({
        "call_id": r.call_id, "caller_leg": r.caller_leg,
        "caller_number": r.caller_number, "called_number": r.called_number,
        "callee_leg": r.callee_leg, "start": r.start, "answer": r.answer, "end": r.end,
        "disposition": r.disposition.name, "cause": int(r.cause) if r.cause else None,
        "reason": r.reason, "trunk": r.trunk, "wall": time.time(),
    }) + "\n"


class CdrLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending: deque[str] = deque()
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self.error: str | None = None
        self.error_since: float | None = None

    def append(self, records: list[Any]) -> None:
        for r in records:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(record_line(r))
        self.flush()

    def flush(self) -> bool:
        """Write what waits; True when nothing is left waiting."""
        if not self._pending:
            return True
        data = "".join(self._pending).encode()
        try:
            self._write(data)
        except OSError as exc:
            self._failed(exc)
            return False
        self.written += len(self._pending)
        self._pending.clear()
        if self.error is not None:
            log.warning("%s: call records written again (%d were waiting)", self.path,
                        self.written)
            self.error = None
            self.error_since = None
        return True

    def _write(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            before = os.fstat(fd).st_size
            try:
                done = os.write(fd, data)
                if done != len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            except OSError:
                os.ftruncate(fd, before)  # no torn line: the batch is all or nothing
                raise
        finally:
            os.close(fd)

    def _failed(self, exc: OSError) -> None:
        self.failures += 1
        text = f"{exc.strerror or exc}"
        if self.error is None:
            log.error("%s: cannot write call records: %s; they wait in memory (up to %d) "
                      "until the disk takes them: free space or fix the state dir's mode",
                      self.path, text, MAX_PENDING)
            self.error_since = time.time()
        self.error = text

    def status(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.error is None, "error": self.error,
                "since": self.error_since, "written": self.written,
                "pending": len(self._pending), "dropped": self.dropped,
                "failures": self.failures}
