"""A terminal on a real pseudo-terminal pair: the daemon opens the slave through a symlink
(its ``[console] device``), the test types into and reads from the master. Closing the
master is a cable pulled out; a new pair behind the same symlink is the cable back in."""

from __future__ import annotations

import contextlib
import os
import re
import select
import time
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class PtyTerm:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.seen = bytearray()
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        name = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(name)
        self.master = master
        self.seen.clear()

    def unplug(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def send(self, data: str | bytes, chunk: int = 4096) -> None:
        """Write everything, reading the echo meanwhile so neither side blocks."""
        raw = data.encode() if isinstance(data, str) else data
        while raw:
            _, writable, _ = select.select([], [self.master], [], 5.0)
            if not writable:
                raise AssertionError("the console stopped reading")
            try:
                n = os.write(self.master, raw[:chunk])
            except BlockingIOError:
                n = 0
            raw = raw[n:]
            self._drain(0.0)

    def _drain(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        while ready:
            try:
                data = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            self.seen += data
            ready, _, _ = select.select([self.master], [], [], 0)

    def text(self) -> str:
        return ANSI.sub("", self.seen.decode("ascii", "replace"))

    def expect(self, pattern: str, timeout: float = 10.0) -> str:
        """Wait for ``pattern`` (a regex) in what arrived since the last expect; everything
        up to the end of the match is consumed."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            m = rx.search(text)
            if m:
                consumed = text[:m.end()]
                self._consume(m.end())
                return consumed
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} did not come; the screen got:\n{text}")
            self._drain(min(left, 0.2))

    def _consume(self, chars: int) -> None:
        # Drop the bytes that make up the first `chars` visible characters.
        raw = self.seen.decode("ascii", "replace")
        visible = 0
        i = 0
        while i < len(raw) and visible < chars:
            m = ANSI.match(raw, i)
            if m:
                i = m.end()
                continue
            i += 1
            visible += 1
        # Escape sequences right after the match belong to it too.
        while (m := ANSI.match(raw, i)) is not None:
            i = m.end()
        del self.seen[:i]
