"""Vectorised Goertzel: single-bin DFTs of many blocks at once, and block energies.

Rules:

- A Goertzel filter over a block of N samples computes one DFT coefficient
  X(f) = sum x[n] * exp(-2j*pi*f*n/fs); the recurrence is the cheap way in C. In numpy the
  cheap way is one matrix product of all blocks against a precomputed table of cos and
  -sin columns: `blocks @ table` gives every coefficient of every block in one call.
- Tables interleave (cos, -sin) per frequency, so the float64 product viewed as
  complex128 is X directly.
- For a sine of peak A at exactly f over the whole block, |X| = A*N/2, so
  `power_per_sine(X, N)` = |X|**2 * 2 / N**2 is the mean square A**2/2 of that sine
  (levels.mean_square_to_dbm0 turns it into dBm0).
- Phase reference: sample 0 of each block (or `offset`), so the coefficients of two
  adjacent blocks of one steady sine differ in phase by 2*pi*(f_true - f)*N/fs plus the
  bin's own 2*pi*f*N/fs; detectors use that to measure frequency offsets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]


def dft_table(freqs: Sequence[float], length: int, sample_rate: int,
              offset: int = 0) -> FloatArray:
    """(length, 2*len(freqs)) table of interleaved cos and -sin columns.

    Sample n of the block is at time (n + offset) / sample_rate.
    """
    n = np.arange(length, dtype=np.float64) + offset
    phase = 2.0 * np.pi * np.outer(n, np.asarray(freqs, dtype=np.float64)) / sample_rate
    table = np.empty((length, 2 * len(freqs)), dtype=np.float64)
    table[:, 0::2] = np.cos(phase)
    table[:, 1::2] = -np.sin(phase)
    return table


def split_blocks(samples: npt.ArrayLike, block: int) -> tuple[FloatArray, FloatArray]:
    """Cut a signal into whole blocks (rows) and return them with the leftover tail."""
    x = np.asarray(samples, dtype=np.float64)
    whole = (x.size // block) * block
    return x[:whole].reshape(-1, block), x[whole:]


def goertzel(blocks: npt.ArrayLike, freqs: Sequence[float], sample_rate: int) -> ComplexArray:
    """DFT coefficients (n_blocks, n_freqs) of each row of `blocks` at each frequency.

    A 1-D input is one block.
    """
    b = np.atleast_2d(np.asarray(blocks, dtype=np.float64))
    table = dft_table(freqs, b.shape[1], sample_rate)
    product: FloatArray = np.ascontiguousarray(b @ table)
    return product.view(np.complex128)


def power_per_sine(coefficients: ComplexArray, length: int) -> FloatArray:
    """Mean square of the sine each coefficient measures (see the module rules)."""
    magnitude = np.abs(coefficients)
    return magnitude * magnitude * (2.0 / (length * length))


def tone_power(samples: npt.ArrayLike, freqs: Sequence[float], sample_rate: int,
               block: int) -> FloatArray:
    """Mean square per sine (n_blocks, n_freqs) of each frequency in each whole block."""
    blocks, _ = split_blocks(samples, block)
    return power_per_sine(goertzel(blocks, freqs, sample_rate), block)


def block_mean_square(samples: npt.ArrayLike, block: int) -> FloatArray:
    """Mean square of each whole block (DC included)."""
    blocks, _ = split_blocks(samples, block)
    result: FloatArray = np.einsum("ij,ij->i", blocks, blocks) / block
    return result
