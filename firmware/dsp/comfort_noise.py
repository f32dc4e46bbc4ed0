"""Comfort noise for the line echo canceller's non-linear processor, numpy only.

When the non-linear processor (NLP) of firmware.dsp.echo removes residual echo it must not
leave dead silence: the far-end talker would hear the line go quiet whenever they speak
and think the call was dropped (ITU-T G.168 asks that the comfort noise match the level
and spectrum of the near end's background noise). This module learns that noise from the
canceller's residual and makes more of it.

Rules:

- The background level is the minimum of the block mean square, followed quickly down
  and slowly up (NOISE_RISE_DB_PER_S): speech and echo come in bursts with pauses, so the
  minimum sits on the noise between them.
- The spectrum is averaged only over blocks within NOISE_BLOCK_MARGIN_DB of that level,
  so speech does not colour it (every SPECTRUM_EVERY such block: it changes slowly);
  the noise made has that spectrum, scaled to the level.
- Noise is made BATCH_BLOCKS at a time from random phases (real and imaginary parts
  uniform in [-1, 1), scaled to unit variance) under the learned spectrum's shape, at
  unit level; each block given out is scaled to the level of that moment, so a batch as
  long as half a second still follows the level at once (the shape changes slowly).
- The random numbers are our own xorshift32, one generator ("lane") per number of a batch,
  each stepped once a batch and seeded by a hash of (seed, lane): numpy runs it as a few
  uint32 array operations, and the canceller in C (firmware/dsp/native/echo.c) makes the
  same numbers, so the two paths' outputs can be compared sample for sample. A seed
  makes it repeatable for tests (None: a random one), and reset() starts it again.
- Levels are mean squares in 16-bit sample units (firmware.dsp.levels).
"""

from __future__ import annotations

import math
import secrets

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
UIntArray = npt.NDArray[np.uint32]

BLOCKS_PER_SECOND = 50.0
NOISE_RISE_DB_PER_S = 3.0
NOISE_FALL = 0.5  # share of the way to a lower block level taken at once
NOISE_BLOCK_MARGIN_DB = 3.0
SPECTRUM_SMOOTHING = 0.2  # share of a quiet block's spectrum taken into the average
SPECTRUM_EVERY = 4  # quiet blocks between two looks at the spectrum (it changes slowly)
BATCH_BLOCKS = 25  # blocks of noise made at once (one inverse FFT is most of the cost)
UNIFORM_GAIN = 3.0  # 1 / the variance of a number uniform in [-1, 1)


def lane_seeds(seed: int, count: int) -> UIntArray:
    """The first state of each xorshift32 lane: a 32-bit integer hash of seed + lane times
    the golden ratio (echo.c's lane_seed), never 0 (xorshift's one fixed point)."""
    lanes = np.arange(count, dtype=np.uint32) * np.uint32(0x9E3779B9)
    x: UIntArray = lanes + np.uint32(seed & 0xFFFFFFFF)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    x[x == 0] = 1
    return x


def xorshift32(lanes: UIntArray) -> FloatArray:
    """Steps every lane once (in place) and gives its new state as a number in [-1, 1)."""
    lanes ^= lanes << np.uint32(13)
    lanes ^= lanes >> np.uint32(17)
    lanes ^= lanes << np.uint32(5)
    out: FloatArray = lanes.view(np.int32).astype(np.float64)
    out *= 1.0 / 2147483648.0
    return out


class ComfortNoise:
    """Learns the near end's background noise from residual blocks and imitates it."""

    def __init__(self, block: int, seed: int | None = None) -> None:
        self.block = block
        self.rise = 10.0 ** (NOISE_RISE_DB_PER_S / 10.0 / BLOCKS_PER_SECOND)
        self.margin = 10.0 ** (NOISE_BLOCK_MARGIN_DB / 10.0)
        self.seed = secrets.randbits(32) if seed is None else seed & 0xFFFFFFFF
        self.reset()

    def reset(self) -> None:
        self._lanes = lane_seeds(self.seed, 2 * BATCH_BLOCKS * (self.block // 2 + 1))
        self.level = -1.0  # mean square; negative until the first block is seen
        self._spectrum: FloatArray = np.zeros(self.block // 2 + 1)
        self._learned = False
        self._quiet_blocks = 0
        self._made: FloatArray = np.zeros((BATCH_BLOCKS, self.block))
        self._next = BATCH_BLOCKS

    def observe(self, residual: FloatArray, energy: float) -> None:
        """Learn from one block of the canceller's residual (echo removed, before the NLP)
        whose sum of squares the caller has at hand."""
        power = energy / residual.size
        if self.level < 0.0:
            self.level = power
        elif power < self.level:
            self.level += NOISE_FALL * (power - self.level)
        else:
            self.level = min(power, self.level * self.rise)
        if power > self.level * self.margin:
            return
        self._quiet_blocks += 1
        if self._quiet_blocks % SPECTRUM_EVERY == 1:
            spectrum = np.fft.rfft(residual)
            magnitude = spectrum.real * spectrum.real + spectrum.imag * spectrum.imag
            if self._learned:
                self._spectrum += SPECTRUM_SMOOTHING * (magnitude - self._spectrum)
            else:
                self._spectrum = magnitude
                self._learned = True

    def generate(self) -> FloatArray:
        """One block of noise with the learned spectrum at the learned level."""
        if self._next >= BATCH_BLOCKS:
            self._make()
        block: FloatArray = self._made[self._next] * math.sqrt(max(self.level, 0.0))
        self._next += 1
        return block

    def _make(self) -> None:
        self._next = 0
        n = self.block
        # Mean square that the spectrum stands for (Parseval over the one-sided bins).
        s = self._spectrum
        held = (s[0] + s[-1] + 2.0 * s[1:-1].sum()) / (n * n)
        if not self._learned or held <= 0.0:
            self._made = np.zeros((BATCH_BLOCKS, n))
            return
        # Unit mean square (generate() scales): each part's variance is 1/3.
        scale = np.sqrt(s * (UNIFORM_GAIN / held / 2.0))
        parts = xorshift32(self._lanes).reshape(2, BATCH_BLOCKS, scale.size)
        self._made = np.fft.irfft(scale * parts[0] + 1j * (scale * parts[1]), n, axis=1)
