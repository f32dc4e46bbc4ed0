"""The daemon's log handler survives a broken stream and says what it lost."""

from __future__ import annotations

import io
import logging

from firmware.app.logsink import LogSink


class Broken(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def write(self, text: str) -> int:
        if self.fail:
            raise OSError(28, "No space left on device")
        return super().write(text)


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("minipbx", logging.INFO, __file__, 1, msg, None, None)


def test_lines_that_cannot_be_written_are_counted_and_reported_when_it_recovers() -> None:
    stream = Broken()
    sink = LogSink(stream)
    sink.emit(_record("one"))
    sink.emit(_record("two"))
    status = sink.status()
    assert status["ok"] is False and status["lost"] == 2
    assert "No space left on device" in str(status["error"])
    stream.fail = False
    sink.emit(_record("three"))
    text = stream.getvalue()
    assert "2 lines lost: OSError: [Errno 28] No space left on device" in text
    assert text.rstrip().endswith("three")
    assert sink.status() == {"ok": True, "lost": 0, "error": None, "since": None}
