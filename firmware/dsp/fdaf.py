"""Partitioned-block frequency-domain adaptive filter with a Kalman step (PB-FDKF), numpy only.

The linear part of the line echo canceller (firmware.dsp.echo): it models the echo path
of a hybrid as an FIR filter of `partitions * block` taps and keeps two sets of weights,
the background set that adapts and the foreground set that the canceller subtracts (the
two-path arrangement; echo.py decides when one set is copied into the other).

Rules:

- Overlap-save with an FFT of two blocks: each block's far-end spectrum is taken over the
  previous and the current block, a filter output is the last half of the inverse FFT,
  and the error enters the update zero-padded in front. So the echo estimate is a true
  linear convolution with no added delay.
- Partition p holds taps p*block .. (p+1)*block-1 and multiplies the far-end spectrum of
  p blocks ago; the spectra of the last `partitions` blocks are kept.
- The step is a Kalman gain per partition and frequency bin (the state-space view of the
  frequency-domain adaptive filter): `uncertainty` is how far each weight may still be
  from the true echo path, `near_psd` is the power of what the near end adds (its noise,
  its speech). The gain is large while the path is uncertain and small once it is known
  or while the near end is loud, which is what makes convergence fast, the misadjustment
  in noise low and double talk harmless to the weights.
- The near-end power is estimated from the error minus the residual echo that the
  uncertainty predicts, so that echo not yet cancelled is not taken for near-end noise.
- The uncertainty never falls below what PROCESS_NOISE allows (the echo path may drift;
  the drift is added every DRIFT_EVERY blocks);
  `open_uncertainty()` raises it again when the caller suspects the path has changed.
- The gradient constraint (an update's taps past one block are circular-convolution
  garbage and are cut) costs two FFTs per partition, so it is applied to one partition
  per block in turn; taps past the configured tail are cut at the same time.
- Weights, spectra and errors are float64 and complex128 in 16-bit sample units
  (firmware.dsp.levels).
- The FFTs (five of 2 * block points per block) go straight to pocketfft's ufuncs, into
  arrays kept from block to block: numpy.fft's Python wrapper costs more than a
  320-point transform itself (measured: 19 us against 7 us). The ufuncs are numpy's
  private module; at import they are checked against numpy.fft and, should they be missing
  or disagree, numpy.fft is used (same results, slower).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]
Transform = Callable[[Any, Any], Any]


def _numpy_rfft(x: Any, out: Any) -> Any:
    out[...] = np.fft.rfft(x, axis=-1)
    return out


def _numpy_irfft(x: Any, out: Any) -> Any:
    out[...] = np.fft.irfft(x, out.shape[-1], axis=-1)
    return out


def _transforms() -> tuple[Transform, Transform, str]:
    """(rfft, irfft, name): each writes the transform of its last axis into ``out`` (an
    even length for rfft; irfft's length is out's last axis) and returns it."""
    try:
        from numpy.fft import _pocketfft_umath as pfu  # type: ignore[attr-defined]

        def rfft(x: Any, out: Any) -> Any:
            return pfu.rfft_n_even(x, 1.0, out=out)

        def irfft(x: Any, out: Any) -> Any:
            return pfu.irfft(x, 1.0 / out.shape[-1], out=out)

        probe = np.random.default_rng(1).standard_normal((2, 320))
        spectrum = rfft(probe, np.empty((2, 161), np.complex128))
        back = irfft(spectrum, np.empty((2, 320)))
        if (np.array_equal(spectrum, np.fft.rfft(probe, axis=-1))
                and np.array_equal(back, np.fft.irfft(spectrum, 320, axis=-1))):
            return rfft, irfft, "pocketfft ufuncs"
    except Exception:  # any failure means: use the public API
        pass
    return _numpy_rfft, _numpy_irfft, "numpy.fft"


rfft_into, irfft_into, FFT_PATH = _transforms()

BACKGROUND = 0
FOREGROUND = 1
# Per-block share of a weight's power added to its uncertainty: how fast the echo path is
# assumed to drift (2e-3 per 20 ms block).
PROCESS_NOISE = 2e-3
DRIFT_EVERY = 4
# Uncertainty of a new filter, as echo path gain summed over the tail: far above any
# hybrid's (an ERL of 0 dB is 1), so that the first blocks take nearly the whole step.
INITIAL_UNCERTAINTY = 64.0
# Smoothing of the near-end power estimate (share of the old estimate kept per block).
NEAR_PSD_SMOOTHING = 0.8


class PartitionedBlockFilter:
    """Two sets of PB-FDKF weights (background, foreground) over one far-end history."""

    def __init__(self, block: int, taps: int, near_floor: float) -> None:
        """`near_floor` is the lowest near-end mean square assumed (int16 units squared)."""
        if block <= 0 or taps <= 0:
            raise ValueError(f"block and taps must be positive, got {block} and {taps}")
        self.block = block
        self.taps = taps
        self.partitions = -(-taps // block)
        self.bins = block + 1
        # A bin of the FFT of `block` zero-padded error samples of mean square s holds
        # block * s on average.
        self._near_floor = near_floor * block
        # Ratio of the FFT size to the block: the error fills half of the FFT's window.
        self._window_ratio = 2.0
        # The mask that keeps a partition's first `block` taps, minus any past the tail.
        self._keep = np.zeros((self.partitions, 2 * block))
        for p in range(self.partitions):
            self._keep[p, :min(block, taps - p * block)] = 1.0
        self.reset()

    def reset(self) -> None:
        shape = (self.partitions, self.bins)
        self.weights: ComplexArray = np.zeros((2, *shape), np.complex128)
        self._spectra: ComplexArray = np.zeros(shape, np.complex128)
        self._powers: FloatArray = np.zeros(shape)
        self._window: FloatArray = np.zeros(2 * self.block)
        self._error_window: FloatArray = np.zeros(2 * self.block)
        self._uncertainty: FloatArray = np.zeros(shape)
        self.open_uncertainty()
        self._near_psd: FloatArray = np.zeros(self.bins)
        self._next_constraint = 0
        self._drift_count = 0
        # Outputs of the transforms, kept from block to block.
        self._echo_windows: FloatArray = np.zeros((2, 2 * self.block))
        self._error_spectrum: ComplexArray = np.zeros(self.bins, np.complex128)
        self._taps: FloatArray = np.zeros(2 * self.block)
        self._products: ComplexArray = np.zeros((2, *shape), np.complex128)
        # adapt()'s working arrays.
        self._weighted: FloatArray = np.zeros(shape)
        self._predicted: FloatArray = np.zeros(self.bins)
        self._near: FloatArray = np.zeros(self.bins)
        self._inverse: FloatArray = np.zeros(self.bins)
        self._gain: ComplexArray = np.zeros(self.bins, np.complex128)
        self._step: ComplexArray = np.zeros(shape, np.complex128)
        self._conj: ComplexArray = np.zeros(shape, np.complex128)
        self._echo_spectra: ComplexArray = np.zeros((2, self.bins), np.complex128)

    def open_uncertainty(self, forget: bool = False) -> None:
        """Take the echo path as unknown again (after a change of path is suspected);
        `forget` also clears the background weights."""
        self._uncertainty = np.maximum(self._uncertainty,
                                       INITIAL_UNCERTAINTY / self.partitions)
        if forget:
            self.weights[BACKGROUND] = 0.0

    def push_far(self, far: FloatArray) -> None:
        """Take the next block of far-end samples into the history."""
        self._window[:self.block] = self._window[self.block:]
        self._window[self.block:] = far
        self._spectra[1:] = self._spectra[:-1]
        rfft_into(self._window, self._spectra[0])
        self._powers[1:] = self._powers[:-1]
        # |X|^2 as abs, then square: two ufunc calls (re*re + im*im takes four).
        power = np.abs(self._spectra[0], out=self._powers[0])
        np.square(power, out=power)

    def estimates(self) -> FloatArray:
        """The echo estimates of this block: row BACKGROUND and row FOREGROUND (valid until
        the next block's)."""
        # Multiply and add.reduce into kept arrays: half of einsum's cost here.
        products = np.multiply(self.weights, self._spectra, out=self._products)
        spectra = np.add.reduce(products, axis=1, out=self._echo_spectra)
        out: FloatArray = irfft_into(spectra, self._echo_windows)[:, self.block:]
        return out

    def adapt(self, error: FloatArray) -> None:
        """One Kalman update of the background weights from its error of this block."""
        self._error_window[self.block:] = error
        spectrum = rfft_into(self._error_window, self._error_spectrum)
        # Every step into kept arrays (out=): this runs 50 times a second per line, and
        # for arrays this small a ufunc's call and its allocation cost more than its sums.
        near = np.abs(spectrum, out=self._near)
        np.square(near, out=near)  # the error's power
        # Residual echo the uncertainty predicts, in the same units as the error's power;
        # the products are kept for the uncertainty's update below.
        weighted = np.multiply(self._powers, self._uncertainty, out=self._weighted)
        predicted = np.add.reduce(weighted, axis=0, out=self._predicted)
        near -= predicted / self._window_ratio
        np.maximum(near, 0.0, out=near)
        near -= self._near_psd
        near *= 1.0 - NEAR_PSD_SMOOTHING
        self._near_psd += near
        denominator = np.maximum(self._near_psd, self._near_floor, out=self._inverse)
        denominator *= self._window_ratio
        denominator += predicted
        inverse = np.divide(1.0, denominator, out=denominator)
        gain = np.multiply(spectrum, inverse, out=self._gain)
        step = np.multiply(self._uncertainty, gain, out=self._step)
        step *= np.conjugate(self._spectra, out=self._conj)
        weights = self.weights[BACKGROUND]
        weights += step
        p = self._next_constraint
        self._next_constraint = (p + 1) % self.partitions
        taps = irfft_into(weights[p], self._taps)
        taps *= self._keep[p]
        rfft_into(taps, weights[p])
        # P <- (1 - q) (P - P |X|^2 P / (ratio * denominator)) + q |W|^2
        weighted *= self._uncertainty
        weighted *= inverse / self._window_ratio
        self._uncertainty -= weighted
        # The drift is added every DRIFT_EVERY blocks, that many blocks' worth at once: it
        # is slow, and |W|^2 costs as much as the rest of this update's last lines.
        self._drift_count += 1
        if self._drift_count == DRIFT_EVERY:
            self._drift_count = 0
            self._uncertainty *= 1.0 - DRIFT_EVERY * PROCESS_NOISE
            self._uncertainty += (DRIFT_EVERY * PROCESS_NOISE) * np.square(np.abs(weights))

    def copy_background_to_foreground(self) -> None:
        self.weights[FOREGROUND] = self.weights[BACKGROUND]

    def copy_foreground_to_background(self) -> None:
        self.weights[BACKGROUND] = self.weights[FOREGROUND]
