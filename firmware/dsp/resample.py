"""Sample-rate conversion by band-limited (windowed-sinc) interpolation, numpy only.

Rules:

- Any rate to any rate. Output sample m sits at input time m * from_rate / to_rate,
  computed exactly with integers, so long signals do not drift.
- Each output sample is a weighted sum of the input samples around it; the weights are a
  Kaiser-windowed sinc whose cut-off is CUTOFF_FRACTION of the lower of the two Nyquist
  frequencies (3600 Hz when the output is 8 kHz), so nothing above the new Nyquist
  frequency folds back into the telephone band, and the band up to about 3.4 kHz stays
  flat. The filter spans ZERO_CROSSINGS zero crossings of the sinc on each side.
- The distinct fractional positions repeat with period to_rate / gcd, so their weights
  are computed once per call; the work is done in chunks to bound memory.
- Input before the start and after the end is taken as silence.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

CUTOFF_FRACTION = 0.9
ZERO_CROSSINGS = 12
KAISER_BETA = 8.6  # about 90 dB stop-band attenuation
_CHUNK = 8192


def resample(samples: npt.ArrayLike, from_rate: int, to_rate: int) -> npt.NDArray[np.float64]:
    """Convert a 1-D signal from `from_rate` to `to_rate` (float64, same units)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} and {to_rate}")
    x = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate or x.size == 0:
        return x.copy()
    g = math.gcd(from_rate, to_rate)
    up, down = to_rate // g, from_rate // g
    # Cut-off relative to the input rate (cycles per input sample).
    cutoff = CUTOFF_FRACTION * 0.5 * min(from_rate, to_rate) / from_rate
    half_width = math.ceil(ZERO_CROSSINGS / (2.0 * cutoff))
    taps = np.arange(-half_width + 1, half_width + 1)  # offsets from floor(t)
    # Weight table per phase: phase k means t = floor(t) + k / up.
    frac = np.arange(up, dtype=np.float64)[:, None] / up
    tau = frac - taps[None, :]  # t - j for each tap j
    weights = (2.0 * cutoff * np.sinc(2.0 * cutoff * tau)
               * np.i0(KAISER_BETA * np.sqrt(np.clip(1.0 - (tau / half_width) ** 2, 0.0, 1.0)))
               / np.i0(KAISER_BETA))
    n_out = (x.size * up + down - 1) // down
    padded = np.concatenate((np.zeros(half_width), x, np.zeros(half_width + 1)))
    out = np.empty(n_out, dtype=np.float64)
    for start in range(0, n_out, _CHUNK):
        m = np.arange(start, min(start + _CHUNK, n_out), dtype=np.int64)
        base = (m * down) // up
        phase = (m * down) % up
        index = base[:, None] + taps[None, :] + half_width
        out[start:start + m.size] = np.einsum("ij,ij->i", padded[index], weights[phase])
    return out


def to_mono(frames: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Average the channels of an (n, channels) array into one channel."""
    a = np.asarray(frames, dtype=np.float64)
    if a.ndim == 1:
        return a
    result: npt.NDArray[np.float64] = a.mean(axis=1)
    return result
