"""Audio plumbing of the virtual devices: a queue of samples to send and a recorder of what
was heard. Both are touched from the media clock thread and from command threads, so every
operation holds a lock and never blocks for long."""

from __future__ import annotations

import threading
import time
from collections import deque

from drivers.base import FRAME_BYTES, SILENCE


class Outbox:
    """Samples a virtual device sends into the line, 20 ms at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[bytes] = deque()
        self._partial = b""

    def queue(self, pcm: bytes) -> float:
        """Append s16le samples; returns how many seconds of audio are now queued."""
        with self._lock:
            data = self._partial + pcm
            whole = len(data) - len(data) % FRAME_BYTES
            for i in range(0, whole, FRAME_BYTES):
                self._pending.append(data[i : i + FRAME_BYTES])
            self._partial = data[whole:]
            if self._partial:  # pad the tail so nothing is lost
                self._pending.append(self._partial.ljust(FRAME_BYTES, b"\0"))
                self._partial = b""
            return len(self._pending) * 0.02

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._partial = b""

    def next_frame(self) -> bytes:
        with self._lock:
            return self._pending.popleft() if self._pending else SILENCE

    @property
    def queued_seconds(self) -> float:
        with self._lock:
            return len(self._pending) * 0.02


class Recorder:
    """Keeps the last ``keep_seconds`` of audio heard, with the time each frame arrived."""

    def __init__(self, keep_seconds: float = 120.0) -> None:
        self._lock = threading.Lock()
        self._frames: deque[tuple[float, bytes]] = deque(maxlen=int(keep_seconds * 50))
        self._capture: list[tuple[threading.Event, float, bytearray]] = []

    def add(self, frame: bytes, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        with self._lock:
            self._frames.append((at, frame))
            done = []
            for item in self._capture:
                _, until, buf = item
                buf += frame
                if at >= until:
                    done.append(item)
            for item in done:
                self._capture.remove(item)
                item[0].set()

    def since(self, t: float) -> bytes:
        """Everything heard from monotonic time ``t`` on."""
        with self._lock:
            return b"".join(f for at, f in self._frames if at >= t)

    def record(self, seconds: float, timeout: float | None = None) -> bytes:
        """Block until ``seconds`` of audio from now have been heard; return them.

        If the media clock stops, returns what arrived by ``timeout`` (default
        ``seconds + 5``).
        """
        ev = threading.Event()
        buf = bytearray()
        with self._lock:
            self._capture.append((ev, time.monotonic() + seconds - 0.01, buf))
        ev.wait(seconds + 5.0 if timeout is None else timeout)
        with self._lock:
            self._capture = [c for c in self._capture if c[0] is not ev]
            return bytes(buf[: int(seconds * 8000) * 2])
