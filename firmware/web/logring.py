"""The last log lines, kept in memory for the maintenance page (on the device the full log
is in journald; a person at the web page wants the last few lines without a shell)."""

from __future__ import annotations

import logging
import threading
from collections import deque

LOG_LINES = 200


class LogRing(logging.Handler):
    """A logging handler that keeps the last ``size`` formatted lines. Handlers run on
    whatever thread logs, so the deque is guarded."""

    def __init__(self, size: int = LOG_LINES) -> None:
        super().__init__(level=logging.INFO)
        self._lines: deque[str] = deque(maxlen=size)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._guard:
            self._lines.append(line)

    def lines(self, last: int | None = None) -> list[str]:
        with self._guard:
            out = list(self._lines)
        return out[-last:] if last else out
