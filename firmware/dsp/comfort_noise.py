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
- Noise is made BATCH_BLOCKS at a time from random phases (Gaussian real and imaginary
  parts) under the learned spectrum's shape, at unit level; each block given out is
  scaled to the level of that moment, so a batch as long as half a second still follows
  the level at once (the shape changes slowly). A seed makes it repeatable for tests, and
  reset() starts it again.
- Levels are mean squares in 16-bit sample units (firmware.dsp.levels).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

BLOCKS_PER_SECOND = 50.0
NOISE_RISE_DB_PER_S = 3.0
NOISE_FALL = 0.5  # share of the way to a lower block level taken at once
NOISE_BLOCK_MARGIN_DB = 3.0
SPECTRUM_SMOOTHING = 0.2  # share of a quiet block's spectrum taken into the average
SPECTRUM_EVERY = 4  # quiet blocks between two looks at the spectrum (it changes slowly)
BATCH_BLOCKS = 25  # blocks of noise made at once (one inverse FFT is most of the cost)


class ComfortNoise:
    """Learns the near end's background noise from residual blocks and imitates it."""

    def __init__(self, block: int, seed: int | None = None) -> None:
        self.block = block
        self._rise = 10.0 ** (NOISE_RISE_DB_PER_S / 10.0 / BLOCKS_PER_SECOND)
        self._margin = 10.0 ** (NOISE_BLOCK_MARGIN_DB / 10.0)
        self._seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = np.random.default_rng(self._seed)
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
            self.level = min(power, self.level * self._rise)
        if power > self.level * self._margin:
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
        scale = np.sqrt(s * (1.0 / held / 2.0))  # unit mean square; generate() scales
        parts = self._rng.standard_normal((2, BATCH_BLOCKS, scale.size))
        self._made = np.fft.irfft(scale * (parts[0] + 1j * parts[1]), n, axis=1)
