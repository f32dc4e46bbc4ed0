"""Conference-bridge ports whose audio comes from and goes to Python.

Their callbacks run on pjmedia's clock thread, 50 times a second, and share it with every
other port: they only move bytes between the bridge and a callable, catch everything (an
exception escaping a callback can abort pjsua2), and never block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from firmware.sip.frames import FrameIO

log = logging.getLogger(__name__)

FrameSource = Callable[[], bytes | None]
FrameSink = Callable[[bytes], None]

_AUDIO = pj.PJMEDIA_FRAME_TYPE_AUDIO
_NONE = pj.PJMEDIA_FRAME_TYPE_NONE


def audio_format() -> Any:
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = 8000
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = 20000
    fmt.avgBps = 128000
    fmt.maxBps = 128000
    return fmt


class PyPort(pj.AudioMediaPort):  # type: ignore[misc]
    """A bridge port fed by ``source`` and feeding ``sink`` (either may be swapped live).

    ``source`` returns 320 bytes, or None for "nothing to send" (the bridge then mixes
    nothing from this port, which costs less than mixing silence).
    """

    def __init__(self, name: str, io: FrameIO, source: FrameSource | None = None,
                 sink: FrameSink | None = None) -> None:
        super().__init__()
        self.name = name
        self.io = io
        self.source = source
        self.sink = sink
        self.errors = 0
        self.createPort(name, audio_format())

    def onFrameRequested(self, frame: Any) -> None:
        try:
            source = self.source
            data = source() if source is not None else None
            if data is None:
                frame.type = _NONE
                frame.size = 0
            else:
                frame.type = _AUDIO
                self.io.write(frame, data)
        except Exception:
            self._failed("source")

    def onFrameReceived(self, frame: Any) -> None:
        try:
            sink = self.sink
            if sink is None or frame.type != _AUDIO or frame.size == 0:
                return
            sink(self.io.read(frame))
        except Exception:
            self._failed("sink")

    def _failed(self, what: str) -> None:
        self.errors += 1
        if self.errors <= 3:
            log.exception("%s: audio %s failed (%d so far)", self.name, what, self.errors)
