"""A line's echo canceller in its media path (issue 11, section 3).

:class:`LineEcho` sits between a line's board port and its bridge port: the bridge port
reads what the line says through :meth:`LineEcho.read` and writes what the line hears
through :meth:`LineEcho.write`. While active, every frame written is kept as the far-end
reference (G.168's Rin) and every frame read (Sin) goes through
:class:`firmware.dsp.echo.EchoCanceller` with the oldest reference frame waiting, so the
bridge (and a SIP peer beyond it) gets Sout, the line's voice without the hybrid's echo of
what it played.

Threads: read and write run where the line port moves frames: pjmedia's clock thread for
the Python port, one frame per tick; the native port's pump thread (never the clock
thread) for the C port. The loop thread only switches the canceller on and off
(:meth:`set_active`; it resets at the next frame the audio thread processes, so a new call
starts afresh) and reads its status.

Frames are processed one 20 ms frame at a time: the canceller's output is the line's voice
on its way to the far end, and gathering 100 ms first would add 80 ms to the call's delay.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from firmware.dsp.echo import BLOCK_SAMPLES, TAIL_MS_DEFAULT, EchoCanceller

log = logging.getLogger(__name__)

FRAME_BYTES = 2 * BLOCK_SAMPLES
# Written frames kept waiting for a read at most (100 ms): a line nobody reads (no call
# partner, nothing listening) must not pile up references. The queue is kept whether the
# canceller runs or not, so that when a call starts it already lags what the line plays
# as the line's own buffering does (a queue started empty at the call would not).
REFERENCE_FRAMES = 5


class LineEcho:
    """One line's canceller and its reference queue, around the line's read and write."""

    def __init__(self, leg: str, read: Callable[[], bytes], write: Callable[[bytes], None],
                 enabled: bool = True, tail_ms: int = TAIL_MS_DEFAULT) -> None:
        self.leg = leg
        self._read = read
        self._write = write
        self.enabled = enabled  # allowed by the configuration
        self.tail_ms = tail_ms
        self._canceller: EchoCanceller | None = None
        self._reference: deque[bytes] = deque(maxlen=REFERENCE_FRAMES)
        self._active = False
        self._fresh = False  # reset before the next frame (a new call)
        self.frames = 0  # frames cancelled since the call began
        self.partners: frozenset[str] = frozenset()  # whom the call is with (the box's)
        self.errors = 0

    def configure(self, enabled: bool, tail_ms: int) -> None:
        """The configuration's echo_cancel and echo_tail_ms (loop thread); a new tail
        takes effect at the next call."""
        self.enabled = enabled
        if tail_ms != self.tail_ms:
            self.tail_ms = tail_ms
            if not self._active:
                self._canceller = None
        if not enabled:
            self.set_active(False)

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, on: bool) -> None:
        """Cancel from the next frame (afresh: a new call) or stop (loop thread)."""
        on = on and self.enabled
        if on:
            if self._canceller is None or self._canceller.tail_ms != self.tail_ms:
                self._canceller = EchoCanceller(self.tail_ms)
            self._fresh = True
        self._active = on

    # --- the audio thread ------------------------------------------------------------------
    def write(self, frame: bytes) -> None:
        """What the line hears: to the board, and kept as the reference while active."""
        self._write(frame)
        self._reference.append(frame)

    def read(self) -> bytes:
        """What the line says, with the echo of what it heard removed while active."""
        said = self._read()
        reference = self._reference
        far = reference.popleft() if reference else b""
        canceller = self._canceller
        if not self._active or canceller is None or len(said) != FRAME_BYTES:
            return said
        try:
            if self._fresh:
                self._fresh = False
                canceller.reset()
                self.frames = 0
            # Bytes in, bytes out: on the C path the frame crosses as is, no numpy.
            out = canceller.process_bytes(far if len(far) == FRAME_BYTES else None, said)
            self.frames += 1
            return out
        except Exception:
            self.errors += 1
            if self.errors <= 3:
                log.exception("%s: echo canceller failed (%d so far); frame passed as is",
                              self.leg, self.errors)
            return said

    # --- status ----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """For `minipbx status`: whether the canceller runs on this line's call, and what it
        measures (firmware.dsp.echo.EchoStatus)."""
        out: dict[str, Any] = {"enabled": self.enabled, "active": self._active,
                               "tail_ms": self.tail_ms}
        canceller = self._canceller
        if self._active and canceller is not None and self.frames:
            s = canceller.status
            out.update(erl_db=round(s.erl_db, 1), erle_db=round(s.erle_db, 1),
                       converged=s.converged, double_talk=s.double_talk,
                       nlp_active=s.nlp_active, seconds=round(self.frames / 50.0, 1),
                       # Its block filter: C, or numpy when the library is missing (the
                       # log says why; firmware.dsp.fdaf_native).
                       filter="C" if canceller.native else "numpy")
        return out
