"""pjsua2 recorders on a SIP call's audio, for calls with no line leg (SIP to SIP).

A call with a line leg is recorded from that line's bridge port (firmware/app/recorder.py).
A call between two SIP legs (an IP phone and a trunk) has no such port; there, each leg's
far-end voice goes to an ``AudioMediaRecorder`` of its own (pjmedia's WAV writer, in C on
the clock thread: no Python per frame), both started in the same loop step so that they
start on the same tick. Recorders may come and go while the clock runs (TOOLS.md); a
recorder's file is complete about one tick after the recorder is deleted.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import pjsua2 as pj

from firmware.core.events import LegId

log = logging.getLogger(__name__)


class MediaRecorders:
    def __init__(self) -> None:
        self._recorders: dict[LegId, tuple[Any, Any]] = {}  # leg -> (media, recorder)

    def start(self, leg: LegId, media: Any, path: str) -> None:
        """Record what ``media`` (the leg's call audio) brings to a new WAV at ``path``."""
        self.stop(leg)
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(path)
        media.startTransmit(recorder)
        self._recorders[leg] = (media, recorder)

    def stop(self, leg: LegId) -> bool:
        """Stop and drop ``leg``'s recorder; False when it had none."""
        entry = self._recorders.pop(leg, None)
        if entry is None:
            return False
        media, recorder = entry
        try:
            media.stopTransmit(recorder)
        except Exception:  # the call's media may already be gone
            log.debug("%s: stopTransmit to the recorder failed", leg, exc_info=True)
        del entry, media, recorder
        gc.collect()
        return True

    def legs(self) -> list[LegId]:
        return list(self._recorders)

    def close(self) -> None:
        for leg in list(self._recorders):
            self.stop(leg)
