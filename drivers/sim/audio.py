"""Audio plumbing of the virtual devices: a queue of samples to send and a recorder of what
was heard. Both are touched from the media clock thread and from command threads, so every
operation holds a lock and never blocks for long."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterable

from drivers.base import FRAME_BYTES, SILENCE

# Timing hook (tools/bench_box.py): how many queued frames the Outbox remembers with the
# instant the line read them (5 s; silence fill is not kept, so an idle handset keeps none).
SPOKEN_LOG_FRAMES = 250
# How much of what a virtual device heard it keeps (for `sim phone record`): 120 s, about
# 2 MB a device once full. The soak (tools/bench_soak.py) keeps 2 s, so that these buffers
# are full by the end of its warm-up and the box's own memory is what it measures.
RECORD_KEEP_S = float(os.environ.get("MINIPBX_SIM_RECORD_S", "120"))


class Outbox:
    """Samples a virtual device sends into the line, 20 ms at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[bytes] = deque()
        self._partial = b""
        self._spoken: deque[tuple[float, bytes]] = deque(maxlen=SPOKEN_LOG_FRAMES)

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
            if not self._pending:
                return SILENCE
            frame = self._pending.popleft()
            self._spoken.append((time.monotonic(), frame))
            return frame

    def first_sound(self, since: float, level: int) -> tuple[float, int] | None:
        """Timing hook: when the line read the first queued sample of magnitude >= ``level``
        from monotonic time ``since`` on, and that sample's index in its frame."""
        with self._lock:
            frames = list(self._spoken)
        return first_sound(frames, since, level)

    @property
    def queued_seconds(self) -> float:
        with self._lock:
            return len(self._pending) * 0.02


class Recorder:
    """Keeps the last ``keep_seconds`` of audio heard, with the time each frame arrived."""

    def __init__(self, keep_seconds: float = RECORD_KEEP_S) -> None:
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

    def first_sound(self, since: float, level: int) -> tuple[float, int] | None:
        """Timing hook: when the first sample of magnitude >= ``level`` heard from monotonic
        time ``since`` on arrived, and that sample's index in its frame."""
        with self._lock:
            frames = [item for item in self._frames if item[0] >= since]
        return first_sound(frames, since, level)

    def last_sound(self, since: float, level: int) -> tuple[float, int] | None:
        """Timing hook: when the last sample of magnitude >= ``level`` heard from monotonic
        time ``since`` on arrived, and that sample's index in its frame (where a prompt
        stopped: tools/bench.py, the barge-in test)."""
        with self._lock:
            frames = [item for item in self._frames if item[0] >= since]
        for at, frame in reversed(frames):
            samples = memoryview(frame).cast("h")
            loud = [i for i, s in enumerate(samples) if abs(s) >= level]
            if loud:
                return at, loud[-1]
        return None

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


def first_sound(frames: Iterable[tuple[float, bytes]], since: float,
                level: int) -> tuple[float, int] | None:
    """(instant, sample index) of the first sample of magnitude >= ``level`` in timestamped
    s16le frames, skipping frames before ``since``."""
    for at, frame in frames:
        if at < since:
            continue
        samples = memoryview(frame).cast("h")
        if not samples or (max(samples) < level and min(samples) > -level):
            continue
        for i, sample in enumerate(samples):
            if abs(sample) >= level:
                return at, i
    return None
