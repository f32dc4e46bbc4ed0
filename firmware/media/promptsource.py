"""A frame source that plays prompts into a line: the pieces one after another, once or in
a loop (music on hold), then tells ``on_done`` (once, on the clock thread).

Stopping is the switch's job: it drops the source (``MediaSwitch.play(leg, None)``), and
the next tick of the bridge plays what the line hears without it. A stopped or looping
source never calls ``on_done``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from firmware.media.sources import FRAME_BYTES


class PromptSource:
    def __init__(self, pieces: Sequence[bytes], loop: bool = False,
                 on_done: Callable[[], None] | None = None,
                 on_first: Callable[[], None] | None = None) -> None:
        # Each piece ends on a frame boundary: no half frame of the next one glued on.
        pcm = b"".join(p + bytes(-len(p) % FRAME_BYTES) for p in pieces)
        self._pcm = pcm
        self._pos = 0
        self._loop = loop and bool(pcm)
        self._on_done = None if loop else on_done
        self._on_first = on_first
        self.frames = 0

    @property
    def seconds(self) -> float:
        return len(self._pcm) / 16000.0

    def __call__(self) -> bytes | None:
        if self._on_first is not None:
            first, self._on_first = self._on_first, None
            first()
        if self._pos >= len(self._pcm):
            if not self._loop:
                done, self._on_done = self._on_done, None
                if done is not None:
                    done()
                return None
            self._pos = 0
        frame = self._pcm[self._pos:self._pos + FRAME_BYTES]
        self._pos += FRAME_BYTES
        self.frames += 1
        return frame
