"""The audio seam of a GPIO line port.

A GPIO board switches the line (hook, ring, polarity) but carries no audio: each port's
voice goes through a separate codec, usually a USB sound card per port driven by
:class:`drivers.alsa.AlsaAudio`. The port hands frames to whatever endpoint it was given.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from drivers.base import SILENCE


@runtime_checkable
class AudioEndpoint(Protocol):
    """Where a port's 20 ms frames (160 s16le samples at 8 kHz) come from and go to.

    Both methods are called from the media clock thread: they must not block, and
    ``read_frame`` returns silence when nothing is there.
    """

    def read_frame(self) -> bytes: ...

    def write_frame(self, frame: bytes) -> None: ...


class SilentAudio:
    """The endpoint of a port with no codec: hears silence, drops what it is sent."""

    def read_frame(self) -> bytes:
        return SILENCE

    def write_frame(self, frame: bytes) -> None:
        del frame
