"""Line audio through ALSA (pyalsaaudio): one capture and one playback PCM per port.

Only :mod:`drivers.alsa.pcm` imports the binding, and only when a PCM opens.
"""

from __future__ import annotations

from drivers.alsa.audio import AlsaAudio, AlsaStats
from drivers.alsa.driftbuffer import DriftBuffer, DriftStats
from drivers.alsa.pcm import AlsaError
from drivers.base import PortKind
from drivers.profile import BoardProfile


def audio_for_profile(profile: BoardProfile) -> dict[tuple[PortKind, int], AlsaAudio]:
    """An unstarted :class:`AlsaAudio` for every port of the profile that names a codec."""
    out: dict[tuple[PortKind, int], AlsaAudio] = {}
    for p in profile.fxs:
        if p.audio is not None:
            out[("fxs", p.index)] = AlsaAudio.from_spec(p.audio, f"fxs{p.index}")
    for q in profile.fxo:
        if q.audio is not None:
            out[("fxo", q.index)] = AlsaAudio.from_spec(q.audio, f"fxo{q.index}")
    return out


__all__ = ["AlsaAudio", "AlsaError", "AlsaStats", "DriftBuffer", "DriftStats",
           "audio_for_profile"]
