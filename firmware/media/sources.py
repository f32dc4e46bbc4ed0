"""Frame sources for the media switch: what the box plays into a line.

A source is called on the media clock thread once per 20 ms and returns 320 bytes (160
s16le samples), or None when it has nothing more. They are small and allocation-light on
purpose: every port's callback shares the one clock thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

FRAME_SAMPLES = 160
FRAME_BYTES = 2 * FRAME_SAMPLES


class SampleGenerator(Protocol):
    def read(self, n: int) -> npt.NDArray[np.int16]: ...


class PcmSource:
    """Plays a fixed stretch of audio once, then calls ``on_done`` (once, on the clock
    thread: hand it to the loop with ``call_soon_threadsafe``)."""

    def __init__(self, pcm: bytes, on_done: Callable[[], None] | None = None) -> None:
        if len(pcm) % FRAME_BYTES:
            pcm = pcm + bytes(FRAME_BYTES - len(pcm) % FRAME_BYTES)
        self._pcm = pcm
        self._pos = 0
        self._on_done = on_done
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return len(self._pcm) / 16000.0

    def __call__(self) -> bytes | None:
        with self._lock:
            if self._pos >= len(self._pcm):
                done, self._on_done = self._on_done, None
            else:
                frame = self._pcm[self._pos : self._pos + FRAME_BYTES]
                self._pos += FRAME_BYTES
                return frame
        if done is not None:
            done()
        return None


class GeneratorSource:
    """Plays an endless generator (a cadenced call-progress tone)."""

    def __init__(self, generator: SampleGenerator) -> None:
        self._gen = generator

    def __call__(self) -> bytes | None:
        return self._gen.read(FRAME_SAMPLES).astype("<i2", copy=False).tobytes()
