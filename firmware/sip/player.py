"""Prompts into a SIP call: pjmedia's own WAV playlist player, on the conference bridge,
linked to the call's AudioMedia.

Why the native player and not a Python port: it costs no Python per frame (a Python
AudioMediaPort is called on every tick, linked or not), it can be created and dropped
while the clock runs (an AudioMediaPort cannot: TOOLS.md), and pjmedia tells the end of a
playlist (``onEof2``) without polling. The cached prompts are all 8 kHz mono 16-bit WAV,
the one format a playlist needs.

``onEof2`` runs on pjmedia's clock thread, and a player must not be destroyed inside it:
the callback only hands ``on_end`` over (the owner moves it to the loop with
``call_soon_threadsafe``), and the owner drops the player later, from the loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pjsua2 as pj

log = logging.getLogger(__name__)


class PromptPlayer(pj.AudioMediaPlayer):  # type: ignore[misc]
    def __init__(self, name: str, files: Sequence[Path], loop: bool,
                 on_end: Callable[[], None] | None) -> None:
        super().__init__()
        self.name = name
        self.loop = loop
        self._on_end = None if loop else on_end
        self._sinks: list[Any] = []
        options = 0 if loop else pj.PJMEDIA_FILE_NO_LOOP
        paths = pj.StringVector([str(p) for p in files])
        self.createPlaylist(paths, name[:30], options)

    def connect(self, media: Any) -> None:
        self.startTransmit(media)
        self._sinks.append(media)

    def disconnect(self) -> None:
        for media in self._sinks:
            try:
                self.stopTransmit(media)
            except Exception:  # the call's media may be gone already
                log.debug("%s: stopTransmit failed", self.name, exc_info=True)
        self._sinks.clear()
        self._on_end = None

    def onEof2(self) -> None:
        try:
            done, self._on_end = self._on_end, None
            if done is not None:
                done()
        except Exception:  # nothing may escape a pjsua2 callback
            log.exception("%s: end of prompt callback failed", self.name)
