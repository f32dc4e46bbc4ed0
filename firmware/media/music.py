"""The box's own music for hold and queues: a short tune synthesized here, so no recorded
or copyrighted audio ships with the firmware.

A melody in a major pentatonic scale over a slow bass, each note a sine with two soft
harmonics and a plucked envelope; it loops seamlessly (it starts and ends in silence).
The level stays well below the tones' (about -20 dBm0), since music on a phone line
should not be louder than speech.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firmware.dsp.levels import dbm0_to_amplitude, to_int16
from firmware.dsp.profiles import load_profile
from firmware.dsp.tones import ToneGenerator

RATE_HZ = 8000
BEAT_S = 0.3
LEVEL_DBM0 = -20.0
_A4_HZ = 440.0

# Semitones above A3 of the major pentatonic degrees of C (C D E G A) over two octaves.
_SCALE = (3, 5, 7, 10, 12, 15, 17, 19, 22, 24)
# (scale degree, beats); None is a rest. Our own melody, four bars of eight beats.
_MELODY: tuple[tuple[int | None, int], ...] = (
    (4, 1), (5, 1), (7, 2), (6, 1), (5, 1), (4, 2),
    (2, 1), (4, 1), (5, 2), (4, 1), (2, 1), (1, 2),
    (0, 1), (2, 1), (4, 2), (5, 1), (7, 1), (6, 2),
    (5, 1), (4, 1), (2, 1), (1, 1), (0, 3), (None, 1),
)
_BASS = (0, 0, 3, 4)  # one bass note per bar


def _note(hz: float, seconds: float, peak: float) -> npt.NDArray[np.float64]:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    tone = (np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)
            + 0.1 * np.sin(6 * np.pi * hz * t))
    attack = np.minimum(1.0, t / 0.01)
    decay = np.exp(-3.0 * t / max(seconds, 1e-3))
    release = np.minimum(1.0, (seconds - t) / 0.02)
    result: npt.NDArray[np.float64] = peak * tone * attack * decay * release / 1.4
    return result


def _hz(semitones: int) -> float:
    return float(_A4_HZ / 2 * 2.0 ** (semitones / 12.0))


def hold_music() -> npt.NDArray[np.int16]:
    """The tune, 8 kHz int16, about 10 s; play it in a loop."""
    peak = dbm0_to_amplitude(LEVEL_DBM0) * 1.6
    beats = sum(b for _, b in _MELODY)
    out = np.zeros(int(beats * BEAT_S * RATE_HZ) + RATE_HZ // 10)
    pos = 0
    for degree, length in _MELODY:
        seconds = length * BEAT_S
        if degree is not None:
            note = _note(_hz(_SCALE[degree] + 12), seconds, peak)
            out[pos:pos + note.size] += note
        pos += int(seconds * RATE_HZ)
    bar = int(8 * BEAT_S * RATE_HZ)
    for i, degree in enumerate(_BASS):
        note = _note(_hz(_SCALE[degree] - 12), 8 * BEAT_S, peak * 0.5)
        out[i * bar:i * bar + note.size] += note
    return to_int16(out)


BEEP_HZ = 1000.0
BEEP_S = 0.3
BEEP_DBM0 = -10.0


def beep() -> npt.NDArray[np.int16]:
    """The tone before a recording starts: 1 kHz for 300 ms, with 5 ms ramps."""
    t = np.arange(int(BEEP_S * RATE_HZ)) / RATE_HZ
    ramp = np.minimum(1.0, np.minimum(t, BEEP_S - t) / 0.005)
    return to_int16(dbm0_to_amplitude(BEEP_DBM0) * np.sin(2 * np.pi * BEEP_HZ * t) * ramp)


def ringback(country: str) -> npt.NDArray[np.int16]:
    """One whole cycle of ``country``'s ringback cadence (loop it), from its profile."""
    spec = load_profile(country).tone("ringback")
    cycle_ms = sum(step.duration_ms or 0 for step in spec.steps)
    samples = int((cycle_ms or 2000) * RATE_HZ / 1000)
    return ToneGenerator(spec, RATE_HZ).read(samples)
