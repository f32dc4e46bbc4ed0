"""What the box hears on a line: the line's audio, tapped on the media clock thread, is
handed to the loop in batches and fed to the detectors the line needs now (DTMF while a
handset is off-hook; caller ID between rings and the disconnect tone on an FXO line).

The clock thread only appends to a bounded deque and wakes the loop once per batch; all
signal processing runs on the loop, so a slow detector delays digits, never audio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from firmware.core.events import Party
from firmware.dsp.cid_rx import CidReceiver, CidResult
from firmware.dsp.dtmf import DtmfDetector

log = logging.getLogger(__name__)

class ToneWatch(Protocol):
    """A detector that says True once it has heard what it waits for."""

    def feed(self, samples: npt.NDArray[np.int16]) -> bool: ...


# One second of frames: if the loop stalls longer, the oldest audio is dropped.
MAX_QUEUED_FRAMES = 50
# Wake the loop once per 100 ms of audio, not per frame: detection needs blocks of audio
# anyway (the DTMF detector analyses ~150 ms at a time), and each wake-up costs the loop.
BATCH_FRAMES = 5
# While a prompt may be cut by a key (``watch_keys``): every frame, and the detector on
# single blocks, so a key's start is seen within about 50 ms of its tone.
QUICK_FRAMES = 1
QUICK_BLOCKS = 1


class LineListener:
    def __init__(self, leg: str, loop: asyncio.AbstractEventLoop,
                 on_digit: Callable[[str], None],
                 on_caller_id: Callable[[Party], None] | None = None,
                 on_disconnect_tone: Callable[[], None] | None = None,
                 disconnect_detector: Callable[[], ToneWatch] | None = None,
                 cid_standard: str = "auto") -> None:
        self.leg = leg
        self._loop = loop
        self._frames: deque[bytes] = deque(maxlen=MAX_QUEUED_FRAMES)
        self._lock = threading.Lock()
        self._scheduled = False
        self._on_digit = on_digit
        self._on_caller_id = on_caller_id
        self._on_disconnect = on_disconnect_tone
        self._make_disconnect = disconnect_detector
        self._cid_standard = cid_standard
        self.dtmf: DtmfDetector | None = None
        self.cid: CidReceiver | None = None
        self.disconnect: ToneWatch | None = None
        self.dropped = 0
        self._batch_frames = BATCH_FRAMES
        self._on_key_down: Callable[[], None] | None = None

    # --- what to listen for (loop thread) -------------------------------------------------
    @property
    def active(self) -> bool:
        return self.dtmf is not None or self.cid is not None or self.disconnect is not None

    def listen_dtmf(self, on: bool) -> None:
        quick = self._on_key_down is not None
        detector = DtmfDetector(batch_blocks=QUICK_BLOCKS) if quick else DtmfDetector()
        self.dtmf = detector if on else None

    def watch_keys(self, on_key_down: Callable[[], None] | None) -> None:
        """Call ``on_key_down`` (loop thread) as soon as a DTMF key's tone is confirmed,
        before the digit ends (barge-in into a prompt); None goes back to the thrifty
        batches. The detector is made anew for the quick mode (a key held at that very
        instant is lost: it is the one that started the prompt or stops it anyway)."""
        quick = on_key_down is not None
        self._on_key_down = on_key_down
        self._batch_frames = QUICK_FRAMES if quick else BATCH_FRAMES
        if quick and self.dtmf is not None:
            self.dtmf = DtmfDetector(batch_blocks=QUICK_BLOCKS)

    def listen_caller_id(self, on: bool) -> None:
        self.cid = CidReceiver(self._cid_standard) if on else None  # type: ignore[arg-type]

    def listen_disconnect(self, on: bool) -> None:
        self.disconnect = self._make_disconnect() if on and self._make_disconnect else None

    # --- the tap (clock thread) ------------------------------------------------------------
    def sink(self, frame: bytes) -> None:
        with self._lock:
            if len(self._frames) == MAX_QUEUED_FRAMES:
                self.dropped += 1
            self._frames.append(frame)
            if self._scheduled or len(self._frames) < self._batch_frames:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._drain)

    # --- detection (loop thread) -----------------------------------------------------------
    def _drain(self) -> None:
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
            self._scheduled = False
        if not frames:
            return
        pcm = np.frombuffer(b"".join(frames), dtype="<i2")
        if self.dtmf is not None:
            for digit in self.dtmf.feed(pcm):
                self._on_digit(digit.digit)
            if self._on_key_down is not None and self.dtmf.in_digit is not None:
                self._on_key_down()
        if self.cid is not None:
            result = self.cid.feed(pcm)
            if result is not None and self._on_caller_id is not None:
                self._on_caller_id(_party(result))
        if self.disconnect is not None and self.disconnect.feed(pcm):
            self.disconnect = None  # latched: report once
            if self._on_disconnect is not None:
                self._on_disconnect()


def _party(result: CidResult) -> Party:
    info = result.info
    if info is None:
        return Party()
    if info.number_absence == "P" or info.name_absence == "P":
        return Party(info.number, info.name, "restricted")
    if info.number is None and info.name is None:
        return Party(None, None, "unavailable")
    return Party(info.number, info.name)
