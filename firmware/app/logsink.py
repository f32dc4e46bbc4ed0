"""The daemon's log output (stderr; the journal on a device), and what happens when it
cannot be written.

A log on a full disk, a closed pipe or a vanished terminal must not stop the box, and the
fault must still reach the person: Python's stock handler would print a traceback for
every lost line to the same broken stream. ``LogSink`` instead counts the lines it could
not write, keeps the first error and when it began, and says nothing more; ``minipbx
status`` shows it (``storage.log``), and the next line that does get through first says
how many were lost.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class LogSink(logging.StreamHandler):  # type: ignore[type-arg]
    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self.setFormatter(logging.Formatter(FORMAT))
        self.lost = 0
        self.error: str | None = None
        self.since: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if self.lost:
                text = (f"{time.strftime('%Y-%m-%d %H:%M:%S')} WARNING minipbx: the log "
                        f"could not be written for {time.time() - (self.since or 0):.0f} s "
                        f"({self.lost} lines lost: {self.error})\n{text}")
            self.stream.write(text + self.terminator)
            self.flush()
        except RecursionError:
            raise
        except Exception as exc:  # the stream is broken: count, never raise or print
            self.lost += 1
            if self.error is None or self.lost == 1:
                self.error = f"{type(exc).__name__}: {exc}"
                self.since = time.time()
            return
        self.lost = 0
        self.error = None
        self.since = None

    def status(self) -> dict[str, Any]:
        return {"ok": self.lost == 0, "lost": self.lost, "error": self.error,
                "since": self.since}


_sink: LogSink | None = None


def install(level: str) -> LogSink:
    """The daemon's one handler on the root logger."""
    global _sink
    _sink = LogSink()
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[_sink], force=True)
    return _sink


def sink() -> LogSink | None:
    return _sink
