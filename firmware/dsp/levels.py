"""Signal levels: the one dBm0 convention every generator and detector of firmware.dsp uses.

Rules:

- Samples are in 16-bit linear units: int16 arrays, or float arrays carrying the same
  units (a float 1000.0 is the int16 value 1000; floats are never normalised to ±1.0).
- The overload point is 32767. A sine whose peak reaches it is +3.14 dBm0: that is
  ITU-T G.711's maximum sine power for A-law (its mu-law figure, +3.17 dBm0, differs by
  0.03 dB, which we ignore) and the DBM0_MAX_SINE_POWER of spandsp, our reference decoder.
  So 0 dBm0 is a sine of peak 32767 * 10**(-3.14/20) = 22786 (RMS 16112).
- dBm0 always means the power of one sine (or of a whole signal, by its mean square,
  referred to that sine): a dual tone "at -7 dBm0 per tone" has two sines each of peak
  dbm0_to_amplitude(-7.0).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

OVERLOAD_AMPLITUDE = 32767.0
G711_MAX_SINE_DBM0 = 3.14
# Mean square of a 0 dBm0 sine: (peak**2) / 2.
_ZERO_DBM0_PEAK = OVERLOAD_AMPLITUDE * 10.0 ** (-G711_MAX_SINE_DBM0 / 20.0)
ZERO_DBM0_MEAN_SQUARE = _ZERO_DBM0_PEAK * _ZERO_DBM0_PEAK / 2.0
# Floor for logarithms of silence.
SILENCE_DBM0 = -120.0


def dbm0_to_amplitude(dbm0: float) -> float:
    """Peak amplitude, in int16 units, of a sine at `dbm0`."""
    return float(_ZERO_DBM0_PEAK * 10.0 ** (dbm0 / 20.0))


def amplitude_to_dbm0(peak: float) -> float:
    """Level in dBm0 of a sine whose peak is `peak` int16 units."""
    if peak <= 0.0:
        return SILENCE_DBM0
    return 20.0 * math.log10(peak / _ZERO_DBM0_PEAK)


def mean_square_to_dbm0(mean_square: float) -> float:
    """Level in dBm0 of a signal whose mean square (int16 units squared) is given."""
    if mean_square <= 0.0:
        return SILENCE_DBM0
    return 10.0 * math.log10(mean_square / ZERO_DBM0_MEAN_SQUARE)


def dbm0_to_mean_square(dbm0: float) -> float:
    """Mean square (int16 units squared) of a signal at `dbm0`."""
    return float(ZERO_DBM0_MEAN_SQUARE * 10.0 ** (dbm0 / 10.0))


def signal_dbm0(samples: npt.ArrayLike) -> float:
    """Level in dBm0 of a whole signal, from its mean square."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return SILENCE_DBM0
    return mean_square_to_dbm0(float(np.dot(x, x)) / x.size)


def to_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Round and saturate float samples (int16 units) to int16."""
    x = np.rint(np.asarray(samples, dtype=np.float64))
    return np.clip(x, -32768.0, 32767.0).astype(np.int16)
