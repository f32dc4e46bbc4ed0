"""The conference-bridge port of one analog line.

Its callbacks run on pjmedia's clock thread, 50 times a second, and share it with every
other port: they move bytes between the bridge and the board, catch everything (an
exception escaping a callback can abort pjsua2), and never block.

One port per line does all of it, because pjmedia calls ``onFrameReceived`` on every port
at every tick whether anything is connected or not (measured: an idle box with 18 Python
ports spent 3.5 % of a core on those calls alone):

* ``onFrameRequested``: the line's audio (the handset's microphone, the PSTN's voice) for
  whoever listens on the bridge; the detectors' ``tap`` sees the same frame.
* ``onFrameReceived``: what the bridge sends the line, mixed with what the box itself
  plays (``source``: tones, caller ID, DTMF), goes to the board.
* ``record`` (a call recording) gets, once a tick, the line's own audio and what the
  bridge sent it: in a call, the two voices, with no port of its own on the bridge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pjsua2 as pj

from firmware.sip.frames import FrameIO

log = logging.getLogger(__name__)

FrameSource = Callable[[], bytes | None]
FrameSink = Callable[[bytes], None]
# A call recording's tap: (the line's own audio, what the bridge sent the line) each tick.
RecordSink = Callable[[bytes | None, bytes | None], None]

_AUDIO = pj.PJMEDIA_FRAME_TYPE_AUDIO


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


def mix(a: bytes, b: bytes) -> bytes:
    """Two frames of s16le summed with saturation, as a conference bridge mixes."""
    total = np.frombuffer(a, "<i2").astype(np.int32) + np.frombuffer(b, "<i2")
    return bytes(np.clip(total, -32768, 32767).astype("<i2").tobytes())


class LineBridgePort(pj.AudioMediaPort):  # type: ignore[misc]
    def __init__(self, name: str, io: FrameIO, read: Callable[[], bytes],
                 write: FrameSink) -> None:
        super().__init__()
        self.name = name
        self.io = io
        self._read = read
        self._write = write
        self.source: FrameSource | None = None
        self.tap: FrameSink | None = None
        self.record: RecordSink | None = None
        self._said: bytes | None = None  # this tick's line audio, for the recording
        self.errors = 0
        self.createPort(name, audio_format())

    def onFrameRequested(self, frame: Any) -> None:
        try:
            data = self._read()
            tap = self.tap
            if tap is not None:
                tap(data)
            if self.record is not None:
                self._said = data
            frame.type = _AUDIO
            self.io.write(frame, data)
        except Exception:
            self._failed("read")

    def onFrameReceived(self, frame: Any) -> None:
        try:
            bridged = (self.io.read(frame) if frame.type == _AUDIO and frame.size
                       else None)
            record = self.record
            if record is not None:  # pjmedia asks for a tick's frames before it gives
                said, self._said = self._said, None
                record(said, bridged)
            source = self.source
            local = source() if source is not None else None
            if local is None:
                if bridged is not None:
                    self._write(bridged)
            elif bridged is None:
                self._write(local)
            else:
                self._write(mix(local, bridged))
        except Exception:
            self._failed("write")

    def _failed(self, what: str) -> None:
        self.errors += 1
        if self.errors <= 3:
            log.exception("%s: audio %s failed (%d so far)", self.name, what, self.errors)
