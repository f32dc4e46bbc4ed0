"""Line echo canceller in the manner of ITU-T G.168, numpy (and a C block filter), sans-IO.

The 2-wire to 4-wire hybrid of an analog line sends part of what the box plays into the
line (the far end's voice, from SIP) back with what the line sends (the near end's
voice); through SIP the far end hears that as echo. `EchoCanceller.process(far, near)`
takes a stretch of the far-end signal (the send path into the line, G.168's Rin) and the
same stretch of what came back (Sin) and returns Sin with the echo removed (Sout).

Rules:

- Audio is 8 kHz, 16-bit units, in whole blocks of BLOCK_SAMPLES (one 20 ms frame); any
  number of blocks per call (a 100 ms batch is five), and any cut gives the same output.
  State is kept between calls; reset() starts afresh (a new call). The result is int16.
- The echo path, bulk delay included, is modelled over the tail (TAIL_MS_MIN to
  TAIL_MS_MAX) by a partitioned-block frequency-domain filter whose step is a Kalman gain
  (firmware.dsp.fdaf): fast while the path is unknown, gentle once it is known or while
  the near end is loud. It adapts only while the far end talks (FAR_END_ACTIVE_DBM0).
- When the C library is built (tools/build_native.sh) the whole canceller runs in C,
  one call a block (firmware.dsp.echo_native: this module's steps, the block filter and
  the comfort noise, given this module's numbers); else, or with native=False, this
  module's Python with fdaf's numpy filter, the reference, and the log says why once.
  `process_bytes` takes a line's int16 frames as bytes, with no numpy on the C path.
- Two paths: a background filter adapts; the foreground filter makes the output and is
  replaced by the background only when the background's residual is lower by
  TWO_PATH_COPY_DB, over TWO_PATH_WINDOW_BLOCKS and in this block, or by
  TWO_PATH_COPY_IN_DOUBT_DB while near-end speech may be present (its speech is in both
  residuals and makes small differences chance). A background TWO_PATH_RESET_DB worse
  than the foreground restarts from it. So double talk can spoil only the background.
- A foreground whose residual is louder than its input by WORSE_THAN_NOTHING_DB is bypassed
  for that block: the canceller never makes the echo worse than the hybrid did.
- Double talk: Geigel (the near end's peak above GEIGEL_THRESHOLD of the far end's peak
  over the tail, which G.168's smallest ERL of 6 dB allows no echo to reach), applied to
  both the near end and the residual, so that loud echo stops counting as speech once the
  filter has learnt a little; and, once converged, a block that the filter could cancel
  (its echo estimate stands clear of the noise) but from which it removes less than
  CANCELLED_ERLE_DB. Both hold for DOUBLE_TALK_HANGOVER_BLOCKS.
- A new echo path looks like the second kind lasting: after PATH_CHANGE_BLOCKS of it the
  background is cleared and its uncertainty reopened, at most once in RELEARN_BLOCKS. If
  it was double talk after all, the foreground is untouched and the background relearns.
- The non-linear processor (NLP) replaces the residual by comfort noise matched to the
  near end's background noise (firmware.dsp.comfort_noise) while the far end talks and
  there is no double talk; changes fade over one block so they do not click. With the
  far end silent the near end passes unchanged.
- The status (EchoStatus) gives the ERL and ERLE measured on the way (smoothed by
  ERLE_SMOOTHING), whether the filter has converged (CONVERGED_ERLE_DB) and what the
  double-talk detector and the NLP are doing, for logs and the box's status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware.dsp import comfort_noise
from firmware.dsp.comfort_noise import ComfortNoise
from firmware.dsp.echo_native import NativeCanceller
from firmware.dsp.fdaf import PartitionedBlockFilter
from firmware.dsp.fdaf_native import choose_native, library_path, say
from firmware.dsp.levels import dbm0_to_mean_square

FloatArray = npt.NDArray[np.float64]

SAMPLE_RATE_HZ = 8000
BLOCK_SAMPLES = 160  # one 20 ms frame
TAIL_MS_MIN = 8
TAIL_MS_MAX = 64
TAIL_MS_DEFAULT = 64

# Convergence: the far-end level below which the filter does not adapt, and the lowest
# near-end noise the Kalman step assumes (so very quiet far-end audio adapts gently).
FAR_END_ACTIVE_DBM0 = -50.0
NEAR_END_FLOOR_DBM0 = -55.0
# Two-path control.
TWO_PATH_WINDOW_BLOCKS = 5
TWO_PATH_COPY_DB = 0.5
TWO_PATH_COPY_IN_DOUBT_DB = 3.0
TWO_PATH_RESET_DB = 6.0
WORSE_THAN_NOTHING_DB = 3.0
# Double talk.
GEIGEL_THRESHOLD = 0.5  # -6 dB: G.168's smallest echo return loss
CONVERGED_ERLE_DB = 15.0
CANCELLED_ERLE_DB = 6.0
DOUBLE_TALK_HANGOVER_BLOCKS = 3
# Echo path change.
PATH_CHANGE_BLOCKS = 5
RELEARN_BLOCKS = 100
# Status.
ERLE_SMOOTHING = 0.05


@dataclass(frozen=True)
class EchoStatus:
    """What the canceller measures, for logs and status pages."""

    erl_db: float  # echo return loss: far-end level over the echo's, as the filter sees it
    erle_db: float  # echo return loss enhancement of the linear filter, smoothed
    converged: bool
    double_talk: bool
    nlp_active: bool


def _db(ratio: float) -> float:
    return 10.0 * math.log10(ratio) if ratio > 0.0 else -120.0


class EchoCanceller:
    """One line's echo canceller: far end (sent into the line) and near end (came back)."""

    def __init__(self, tail_ms: int = TAIL_MS_DEFAULT, *, nlp: bool = True,
                 seed: int | None = None, native: bool | None = None) -> None:
        """`native`: the canceller in C (True), in Python and numpy (False), or C when its
        library loads (None; firmware.dsp.fdaf_native.choose_native)."""
        if not TAIL_MS_MIN <= tail_ms <= TAIL_MS_MAX:
            raise ValueError(f"echo canceller tail of {tail_ms} ms is out of range: "
                             f"choose {TAIL_MS_MIN} to {TAIL_MS_MAX} ms")
        self.tail_ms = tail_ms
        self.nlp = nlp
        taps = tail_ms * SAMPLE_RATE_HZ // 1000
        near_floor = dbm0_to_mean_square(NEAR_END_FLOOR_DBM0)
        self._noise = ComfortNoise(BLOCK_SAMPLES, seed)
        self._far_active = dbm0_to_mean_square(FAR_END_ACTIVE_DBM0)
        self._worse = 10.0 ** (WORSE_THAN_NOTHING_DB / 10.0)
        self._copy = 10.0 ** (-TWO_PATH_COPY_DB / 10.0)
        self._copy_in_doubt = 10.0 ** (-TWO_PATH_COPY_IN_DOUBT_DB / 10.0)
        self._reset_ratio = 10.0 ** (TWO_PATH_RESET_DB / 10.0)
        self._cancelled = 10.0 ** (CANCELLED_ERLE_DB / 10.0)
        self._converged_ratio = 10.0 ** (CONVERGED_ERLE_DB / 10.0)
        self._smooth = 1.0 / TWO_PATH_WINDOW_BLOCKS
        self._engine: NativeCanceller | None = None
        self.native = choose_native(native)
        if self.native:
            self._engine = NativeCanceller(BLOCK_SAMPLES, taps, nlp, self._noise.seed,
                                           self._native_params(near_floor))
            say(f"echo canceller: in C ({library_path()})")
        self._filter = PartitionedBlockFilter(BLOCK_SAMPLES, taps, near_floor)
        self._copied = False
        self._fade_in = (np.arange(BLOCK_SAMPLES) + 0.5) / BLOCK_SAMPLES
        # One block's far, near, background and foreground residuals and the two echo
        # estimates, as rows of one array kept from block to block (see _block).
        self._rows: FloatArray = np.zeros((6, BLOCK_SAMPLES))
        self._magnitudes: FloatArray = np.zeros((4, BLOCK_SAMPLES))
        self.reset()

    def _native_params(self, near_floor: float) -> dict[str, float]:
        """This module's and comfort_noise's numbers for the C canceller (echo_native)."""
        noise = self._noise
        return {"far_active": self._far_active, "near_floor": near_floor,
                "worse": self._worse, "copy": self._copy,
                "copy_in_doubt": self._copy_in_doubt, "reset": self._reset_ratio,
                "cancelled": self._cancelled, "converged": self._converged_ratio,
                "smooth": self._smooth, "erle_smoothing": ERLE_SMOOTHING,
                "geigel": GEIGEL_THRESHOLD, "hangover": DOUBLE_TALK_HANGOVER_BLOCKS,
                "path_change": PATH_CHANGE_BLOCKS, "relearn": RELEARN_BLOCKS,
                "noise_rise": noise.rise, "noise_margin": noise.margin,
                "noise_fall": comfort_noise.NOISE_FALL,
                "spectrum_smoothing": comfort_noise.SPECTRUM_SMOOTHING,
                "spectrum_every": comfort_noise.SPECTRUM_EVERY,
                "batch": comfort_noise.BATCH_BLOCKS}

    def reset(self) -> None:
        """Forget the echo path and the noise: for a new call or a new line."""
        if self._engine is not None:
            self._engine.reset()
            return
        self._filter.reset()
        self._noise.reset()
        # Far-end block energies and peaks over the filter's span and the block before it.
        self._far_energies = [0.0] * (self._filter.partitions + 1)
        self._far_peaks = [0.0] * (self._filter.partitions + 1)
        self._background_level = 0.0
        self._foreground_level = 0.0
        # Smoothed far, echo estimate, near and residual energies (status, convergence).
        self._far_level = self._echo_level = self._near_level = self._residual_level = 0.0
        self._converged = False
        self._learnt = False  # converged once since the call began
        self._relearn_wait = 0
        self._double_talk_hold = 0
        self._geigel_hold = 0
        self._lost_blocks = 0
        self._passing = 1.0  # 1 while the residual passes, 0 while comfort noise replaces it

    @property
    def status(self) -> EchoStatus:
        if self._engine is not None:
            far, echo, near, residual, converged, double_talk, passing = self._engine.status()
        else:
            far, echo, near, residual = (self._far_level, self._echo_level, self._near_level,
                                         self._residual_level)
            converged, double_talk = self._converged, self._double_talk_hold
            passing = self._passing
        return EchoStatus(erl_db=_db(far / echo) if echo > 0.0 else 0.0,
                          erle_db=_db(near / residual) if residual > 0.0 else 0.0,
                          converged=bool(converged), double_talk=double_talk > 0,
                          nlp_active=passing < 0.5)

    def process_bytes(self, far: bytes | None, near: bytes) -> bytes:
        """`process` for little-endian int16 frames as bytes (a line's); `far` None or
        empty is silence. On the C path no numpy array is made."""
        if len(near) % (2 * BLOCK_SAMPLES) or (far and len(far) != len(near)):
            raise ValueError(
                f"echo canceller needs far and near audio of the same length in whole "
                f"blocks of {BLOCK_SAMPLES} samples (20 ms), got {len(far or b'')} and "
                f"{len(near)} bytes")
        if self._engine is not None:
            return self._engine.process_bytes(far or None, near)
        sin = np.frombuffer(near, "<i2")
        rin = np.frombuffer(far, "<i2") if far else np.zeros(sin.size, np.int16)
        return self.process(rin, sin).astype("<i2", copy=False).tobytes()

    def process(self, far: npt.ArrayLike, near: npt.ArrayLike) -> npt.NDArray[np.int16]:
        """Sin with the echo of Rin removed; both in whole blocks of the same length."""
        # Kept as given (int16 from a line): the block's rows take them as float64.
        rin = np.asarray(far).reshape(-1)
        sin = np.asarray(near).reshape(-1)
        if rin.size != sin.size or sin.size % BLOCK_SAMPLES:
            raise ValueError(
                f"echo canceller needs far and near audio of the same length in whole "
                f"blocks of {BLOCK_SAMPLES} samples (20 ms), got {rin.size} and {sin.size}")
        if self._engine is not None:
            return self._engine.process(rin, sin)
        if sin.size == BLOCK_SAMPLES:  # the usual call: one 20 ms frame
            out = np.rint(self._block(rin, sin))
        else:
            out = np.empty(sin.size)
            for start in range(0, sin.size, BLOCK_SAMPLES):
                end = start + BLOCK_SAMPLES
                out[start:end] = self._block(rin[start:end], sin[start:end])
            np.rint(out, out=out)
        # np.clip's Python wrapper costs more than these two ufuncs.
        np.minimum(out, 32767.0, out=out)
        np.maximum(out, -32768.0, out=out)
        return out.astype(np.int16)

    def _block(self, far: FloatArray, near: FloatArray) -> FloatArray:
        n = BLOCK_SAMPLES
        # The block's signals as rows of one kept array (no vstack, no new arrays). What
        # this method returns may be a row: the caller uses it before the next block.
        rows = self._rows
        rows[0] = far
        rows[1] = near
        near = rows[1]
        background: FloatArray = rows[2]
        foreground: FloatArray = rows[3]
        self._filter.push_far(rows[0])
        rows[4:] = self._filter.estimates()
        np.subtract(rows[1], rows[4:], out=rows[2:4])
        # Every block energy at once, by einsum rather than BLAS: OpenBLAS may spin
        # threads even for vectors this short, which costs more than the products.
        energies = np.einsum("ij,ij->i", rows, rows)
        (far_energy, near_power, background_power, foreground_power, background_echo,
         echo_power) = energies.tolist()
        magnitudes = np.abs(rows[:4], out=self._magnitudes)
        far_peak, near_peak, _, residual_peak = magnitudes.max(axis=1).tolist()
        # A handful of numbers: Python lists are quicker than numpy for these.
        self._far_energies.pop(0)
        self._far_energies.append(far_energy)
        self._far_peaks.pop(0)
        self._far_peaks.append(far_peak)
        far_level = sum(self._far_energies) / (len(self._far_energies) * n)
        far_active = far_level > self._far_active

        self._geigel(near_peak, residual_peak)
        if far_active:
            self._two_path(background_power, foreground_power)
            if self._copied:
                foreground, foreground_power = background, background_power
                echo_power = background_echo
            self._filter.adapt(background)
            if self._geigel_hold == 0:
                self._track(far_level * n, echo_power, near_power, foreground_power)
        if foreground_power > near_power * self._worse:
            # The foreground adds more than it takes (a path that has just changed): do not
            # send back more than came in.
            foreground, foreground_power = near, near_power
        self._noise.observe(foreground, foreground_power)
        near_speech = self._detect_near_speech(far_active, near_power, foreground_power,
                                               echo_power)
        if not self.nlp:
            return foreground
        return self._nonlinear_processor(foreground, far_active and not near_speech)

    def _geigel(self, near_peak: float, residual_peak: float) -> None:
        """Geigel's detector on both the near end and the residual: near-end speech is in
        both, loud echo leaves the residual once the filter has learnt a little, and a
        foreground left over from an old echo path adds to the residual only."""
        bound = GEIGEL_THRESHOLD * max(self._far_peaks)
        if near_peak > bound and residual_peak > bound:
            self._geigel_hold = DOUBLE_TALK_HANGOVER_BLOCKS
        elif self._geigel_hold > 0:
            self._geigel_hold -= 1

    def _nonlinear_processor(self, residual: FloatArray, echo_only: bool) -> FloatArray:
        """Comfort noise instead of the residual in blocks of echo alone, faded in and out."""
        target = 0.0 if echo_only else 1.0
        if target == self._passing:
            return residual if target else self._noise.generate()
        ramp = self._fade_in if target else 1.0 - self._fade_in
        self._passing = target
        blended: FloatArray = ramp * residual + (1.0 - ramp) * self._noise.generate()
        return blended

    def _two_path(self, background_power: float, foreground_power: float) -> None:
        """Copy a better background to the foreground, or a lost background back."""
        a = self._smooth
        self._background_level += a * (background_power - self._background_level)
        self._foreground_level += a * (foreground_power - self._foreground_level)
        # Near-end speech in both residuals makes a small difference a coin toss, so while
        # it may be present the background must be clearly better.
        doubt = self._geigel_hold > 0 or self._double_talk_hold > 0
        margin = self._copy_in_doubt if doubt else self._copy
        self._copied = (self._background_level < self._foreground_level * margin
                        and background_power < foreground_power * margin)
        if self._copied:
            self._filter.copy_background_to_foreground()
            self._foreground_level = self._background_level
        elif self._background_level > self._foreground_level * self._reset_ratio:
            self._filter.copy_foreground_to_background()
            self._background_level = self._foreground_level

    def _track(self, far: float, echo: float, near: float, residual: float) -> None:
        """Smoothed levels for the status and the convergence state."""
        a = ERLE_SMOOTHING
        self._far_level += a * (far - self._far_level)
        self._echo_level += a * (echo - self._echo_level)
        self._near_level += a * (near - self._near_level)
        self._residual_level += a * (residual - self._residual_level)
        self._converged = self._near_level > self._residual_level * self._converged_ratio
        self._learnt = self._learnt or self._converged

    def _detect_near_speech(self, far_active: bool, near_power: float, residual_power: float,
                            echo_power: float) -> bool:
        """Double talk (or, with the far end silent, plain near-end speech) in this block."""
        if not far_active:
            self._lost_blocks = 0
            return True
        geigel = self._geigel_hold > 0
        # The linear filter could have cancelled this block (its echo stands well clear
        # of the noise) but did not.
        audible = echo_power > self._cancelled * self._noise.level * BLOCK_SAMPLES
        lost = (self._learnt and audible
                and residual_power * self._cancelled > near_power)
        self._relearn_wait = max(self._relearn_wait - 1, 0)
        if lost:
            # A changed path, or double talk: either way the background may start afresh,
            # as the two-path rule keeps near-end speech out of the foreground.
            self._lost_blocks += 1
            if self._lost_blocks >= PATH_CHANGE_BLOCKS and self._relearn_wait == 0:
                self._filter.open_uncertainty(forget=True)
                self._relearn_wait = RELEARN_BLOCKS
                self._lost_blocks = 0
        else:
            self._lost_blocks = 0
        if geigel or lost:
            self._double_talk_hold = DOUBLE_TALK_HANGOVER_BLOCKS
        elif self._double_talk_hold > 0:
            self._double_talk_hold -= 1
        return self._double_talk_hold > 0
