"""The pyalsaaudio seam: open one 8 kHz mono s16le PCM, and nothing else.

Only this module imports ``alsaaudio``, and only when a PCM is opened, so the rest of the
package (and its tests) load on a machine without it. The binding's errors become
:class:`AlsaError`, which names the device.

xrun handling in pyalsaaudio 0.11: a capture overrun makes ``read`` return a negative
count (-EPIPE), and the next ``read`` or ``write`` on a PCM left in the XRUN state
re-prepares it before transferring; callers count the xrun and carry on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from drivers.base import SAMPLE_RATE
from drivers.errors import DriverError


class AlsaError(DriverError, OSError):
    """An ALSA device could not be opened or failed while running."""


class Pcm(Protocol):
    """One opened PCM, as the audio thread uses it."""

    device: str

    def read(self) -> tuple[int, bytes]:
        """Block for one period; (frames, data), frames < 0 after an overrun."""

    def write(self, data: bytes) -> int: ...

    def in_xrun(self) -> bool: ...

    def close(self) -> None: ...


# (device, capture?, period in frames, periods in the ring buffer) -> Pcm
PcmOpener = Callable[[str, bool, int, int], Pcm]


class PyAlsaPcm:
    def __init__(self, device: str, capture: bool, period_frames: int, periods: int) -> None:
        import alsaaudio  # the binding; see the module docstring

        self.device = device
        self._alsa: Any = alsaaudio
        try:
            self._pcm: Any = alsaaudio.PCM(
                type=alsaaudio.PCM_CAPTURE if capture else alsaaudio.PCM_PLAYBACK,
                mode=alsaaudio.PCM_NORMAL, device=device, rate=SAMPLE_RATE, channels=1,
                format=alsaaudio.PCM_FORMAT_S16_LE, periodsize=period_frames,
                periods=periods)
        except alsaaudio.ALSAAudioError as exc:
            direction = "capture" if capture else "playback"
            raise AlsaError(f"cannot open ALSA {direction} device {device!r}: {exc} "
                            "(is the codec plugged in, and is the user in group audio?)"
                            ) from exc

    def read(self) -> tuple[int, bytes]:
        try:
            n, data = self._pcm.read()
        except self._alsa.ALSAAudioError as exc:
            raise AlsaError(f"{self.device}: read failed: {exc}") from exc
        return int(n), bytes(data)

    def write(self, data: bytes) -> int:
        try:
            return int(self._pcm.write(data))
        except self._alsa.ALSAAudioError as exc:
            raise AlsaError(f"{self.device}: write failed: {exc}") from exc

    def in_xrun(self) -> bool:
        try:
            return bool(self._pcm.state() == self._alsa.PCM_STATE_XRUN)
        except self._alsa.ALSAAudioError as exc:
            raise AlsaError(f"{self.device}: state failed: {exc}") from exc

    def close(self) -> None:
        self._pcm.close()


def open_pcm(device: str, capture: bool, period_frames: int, periods: int) -> Pcm:
    return PyAlsaPcm(device, capture, period_frames, periods)
