"""DTMF (ITU-T Q.23 / Q.24): a streaming detector and a generator.

Rules the detector keeps (figures from Q.24, named Q24_*; our own settings sit between
Q.24's must-accept and must-reject figures):

- Analysis runs on blocks of 12.75 ms (102 samples at 8 kHz) counted from the first
  sample ever fed, so any framing of the same stream gives the same digits. For speed the
  blocks are analysed in batches of `batch_blocks` (12 by default: a digit's start and
  end are seen at most that late, about 150 ms; numpy's cost per call, not per sample,
  is what a batch spreads); `flush()` analyses what is buffered.
- Each block is split into two halves. One matrix product gives both halves' DFT
  coefficients at the eight DTMF frequencies (plus the block sum for DC removal).
  The phase step from the first half to the second measures each tone's frequency
  offset: a tone is accepted within ±DEVIATION_LIMIT (2.5 %): Q.24 asks for ±1.5 %
  accepted and ±3.5 % rejected.
- Both halves must carry each tone at nearly the same strength (HALF_BALANCE, about
  3 dB): a block only partly covered by a tone does not count. So a tone shorter than
  about 23 ms never gives two good blocks, and one of Q24_MIN_TONE_MS (40 ms) always does.
- The strongest qualifying row and column tone must each be at least
  LEVEL_THRESHOLD_DBM0, within the twist limits (high group up to 8 dB weaker,
  "normal", or 4 dB stronger, "reverse"), and together carry MIN_TONE_SHARE of the
  block's power (DC removed). That last rule is the talk-off guard: speech and music
  spread their power over many frequencies and harmonics; a DTMF pair does not.
- A digit starts after CONFIRM_BLOCKS consecutive good blocks of the same key and ends
  after END_BLOCKS blocks without it (a 40 ms pause always spans three; a 10 ms drop-out
  never does, so it is bridged). It is reported once, when it ends. A new digit is only
  looked for once the previous one has ended: a key that follows another with no pause
  (which Q.23 senders never do, but sweeping speech and music do) must last longer.
- Times are in ms from the first sample ever fed, to about one block (±13 ms); the
  start and end of a tone are taken as the middle of the block where it appears or goes.

Input is int16, or float in int16 units (see levels). The generator puts the high group
`twist_db` above the low group, as products do (default -7 / -9 dBm0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware.dsp.goertzel import dft_table
from firmware.dsp.levels import dbm0_to_amplitude, dbm0_to_mean_square, to_int16

DTMF_ROW_HZ = (697.0, 770.0, 852.0, 941.0)
DTMF_COL_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
DTMF_DIGITS = "".join(DTMF_KEYS)

# ITU-T Q.24 receiver figures.
Q24_ACCEPT_DEVIATION = 0.015
Q24_REJECT_DEVIATION = 0.035
Q24_NORMAL_TWIST_DB = 8.0  # high group weaker than low group
Q24_REVERSE_TWIST_DB = 4.0  # high group stronger than low group
Q24_MIN_TONE_MS = 40.0
Q24_MIN_PAUSE_MS = 40.0
Q24_MIN_LEVEL_DBM0 = -26.0
Q24_MIN_SNR_DB = 15.0

# Our detector's settings.
BLOCK_MS = 12.75
DEVIATION_LIMIT = 0.025
NORMAL_TWIST_LIMIT_DB = Q24_NORMAL_TWIST_DB + 1.0
REVERSE_TWIST_LIMIT_DB = Q24_REVERSE_TWIST_DB + 1.0
LEVEL_THRESHOLD_DBM0 = Q24_MIN_LEVEL_DBM0 - 6.0
MIN_TONE_SHARE = 0.8
HALF_BALANCE = 0.94  # 2*sqrt(r)/(1+r) for a power ratio r of 2 (3 dB) between halves
CONFIRM_BLOCKS = 2
END_BLOCKS = 3
BATCH_BLOCKS = 12

# Product generation defaults (TELEPHONY.md): 100 ms on, 100 ms off, -7/-9 dBm0.
DEFAULT_ON_MS = 100.0
DEFAULT_OFF_MS = 100.0
DEFAULT_LEVEL_DBM0 = -7.0
DEFAULT_TWIST_DB = 2.0

_FREQS = DTMF_ROW_HZ + DTMF_COL_HZ
_NO_DIGIT = -1


@dataclass(frozen=True)
class DtmfDigit:
    """One key press: which key, when it started and how long it lasted (ms)."""

    digit: str
    start_ms: float
    duration_ms: float


class DtmfDetector:
    """Streaming DTMF receiver; see the module rules."""

    def __init__(self, sample_rate: int = 8000, *, batch_blocks: int = BATCH_BLOCKS) -> None:
        if sample_rate < 4000:
            raise ValueError(f"sample rate {sample_rate} Hz is too low for DTMF")
        if batch_blocks < 1:
            raise ValueError("batch_blocks must be at least 1")
        self.sample_rate = sample_rate
        half = round(sample_rate * BLOCK_MS / 2000.0)
        self._half = half
        self._block = 2 * half
        self._block_ms = 1000.0 * self._block / sample_rate
        self._batch = batch_blocks * self._block
        # One table gives, per frequency, the coefficient of each half and of the whole
        # block (the sum of the two), then the block sum (for DC): 25 complex columns.
        # A Hann window on each half keeps the strong tone of one group from leaking into
        # the other group's bins (rectangular halves leak -17 dB at 941 -> 1209 Hz).
        window = np.hanning(half + 2)[1:-1]
        width = 2 * len(_FREQS)
        table = np.zeros((self._block, 3 * width + 2), dtype=np.float64)
        table[:half, :width] = dft_table(_FREQS, half, sample_rate) * window[:, None]
        table[half:, width:2 * width] = (dft_table(_FREQS, half, sample_rate, offset=half)
                                         * window[:, None])
        table[:, 2 * width:3 * width] = table[:, :width] + table[:, width:2 * width]
        table[:, 3 * width] = 1.0
        self._table = table
        # A sine of mean square s gives power = s * gain2 (both halves together).
        gain2 = float(window.sum()) ** 2
        self._gain2 = gain2
        # Frequency check: the phase step d between halves within ±limit. With
        # |x1 + x2|^2 = p1 + p2 + 2*|x1|*|x2|*cos(d) that is a bound on cos(d).
        step = 2.0 * np.pi * DEVIATION_LIMIT * np.asarray(_FREQS) * half / sample_rate
        self._cos2_limit = 2.0 * np.cos(np.minimum(step, np.pi))
        self._half_balance = HALF_BALANCE / 2.0
        self._level = dbm0_to_mean_square(LEVEL_THRESHOLD_DBM0) * gain2
        self._quiet = 2.0 * dbm0_to_mean_square(LEVEL_THRESHOLD_DBM0) * self._block
        self._normal = 10.0 ** (NORMAL_TWIST_LIMIT_DB / 10.0)
        self._reverse = 10.0 ** (REVERSE_TWIST_LIMIT_DB / 10.0)
        self._share = self._block / (gain2 * MIN_TONE_SHARE)
        self._inv_block = 1.0 / self._block
        self.reset()

    def reset(self) -> None:
        """Forget all input: the next sample fed is time zero again."""
        self._parts: list[npt.NDArray[np.generic]] = []
        self._buffered = 0
        self._next_block = 0
        self._digit = _NO_DIGIT
        self._start = 0
        self._last = 0
        self._cand = _NO_DIGIT
        self._cand_start = 0
        self._cand_count = 0

    @property
    def in_digit(self) -> str | None:
        """The key whose tone is present now (confirmed, not yet ended), else None."""
        if self._digit == _NO_DIGIT:
            return None
        return DTMF_DIGITS[self._digit]

    def feed(self, samples: npt.ArrayLike) -> list[DtmfDigit]:
        """Take any number of samples; return the digits that ended in them."""
        x = samples if type(samples) is np.ndarray else np.asarray(samples)
        if x.ndim != 1:
            raise ValueError("DTMF input must be a 1-D array of samples")
        self._parts.append(x)
        self._buffered += x.size
        if self._buffered < self._batch:
            return []
        return self._analyse()

    def flush(self) -> list[DtmfDigit]:
        """End of input (for now): analyse what is buffered and end a digit in progress.

        A partial block stays buffered, so feeding may go on afterwards.
        """
        found = self._analyse() if self._buffered >= self._block else []
        if self._digit != _NO_DIGIT:
            found.append(self._emit())
        self._cand = _NO_DIGIT
        return found

    def _analyse(self) -> list[DtmfDigit]:
        buf = np.concatenate(self._parts, dtype=np.float64, casting="unsafe")
        nb = buf.size // self._block
        used = nb * self._block
        self._parts = [buf[used:]] if used < buf.size else []
        self._buffered = buf.size - used
        codes = self._classify(buf[:used].reshape(nb, self._block))
        return self._track(codes)

    def _classify(self, blocks: npt.NDArray[np.float64]) -> list[int]:
        """Key index (0..15) of each block, or -1.

        Numpy does the per-frequency work for all blocks at once; the few per-block
        comparisons left are cheaper in plain Python than as more numpy calls.
        """
        energy = np.einsum("ij,ij->i", blocks, blocks)
        if energy.max() < self._quiet:
            return [_NO_DIGIT] * blocks.shape[0]  # quieter than two tones at threshold
        y = (blocks @ self._table).view(np.complex128)
        mag = np.abs(y[:, :24])
        p = mag * mag
        power = p[:, :8] + p[:, 8:16]
        cross = mag[:, :8] * mag[:, 8:16]
        good = (p[:, 16:24] - power >= self._cos2_limit * cross)
        good &= cross >= self._half_balance * power
        power *= good
        groups = power.reshape(-1, 2, 4)
        best = groups.argmax(axis=2).tolist()
        best_power = groups.max(axis=2).tolist()
        total = y[:, 24].real
        ac_energy = (energy - total * total * self._inv_block).tolist()
        level, normal, reverse, share = self._level, self._normal, self._reverse, self._share
        codes: list[int] = []
        for (p_row, p_col), (row, col), ac in zip(best_power, best, ac_energy, strict=True):
            if (p_row < level or p_col < level or p_col > p_row * reverse
                    or p_row > p_col * normal or (p_row + p_col) * share < ac):
                codes.append(_NO_DIGIT)
            else:
                codes.append(row * 4 + col)
        return codes

    def _track(self, codes: list[int]) -> list[DtmfDigit]:
        found: list[DtmfDigit] = []
        for code in codes:
            i = self._next_block
            self._next_block += 1
            if self._digit != _NO_DIGIT:
                if code == self._digit:
                    self._last = i
                    self._cand = _NO_DIGIT
                    continue
                if i - self._last < END_BLOCKS:
                    continue  # a miss inside a digit: a drop-out, or the start of its end
                found.append(self._emit())
            if code == _NO_DIGIT:
                self._cand = _NO_DIGIT
                continue
            if code == self._cand:
                self._cand_count += 1
            else:
                self._cand, self._cand_start, self._cand_count = code, i, 1
            if self._cand_count >= CONFIRM_BLOCKS:
                self._digit, self._start, self._last = code, self._cand_start, i
                self._cand = _NO_DIGIT
        return found

    def _emit(self) -> DtmfDigit:
        # The tone began somewhere in the block before its first good one and ended in
        # the block after its last: take the middles (but never before the stream).
        start_ms = max(0.0, (self._start - 0.5) * self._block_ms)
        end_ms = (self._last + 1.5) * self._block_ms
        digit = DtmfDigit(digit=DTMF_DIGITS[self._digit], start_ms=start_ms,
                          duration_ms=end_ms - start_ms)
        self._digit = _NO_DIGIT
        return digit


def detect_dtmf(samples: npt.ArrayLike, sample_rate: int = 8000) -> list[DtmfDigit]:
    """All digits in a whole signal (its end counts as a pause)."""
    detector = DtmfDetector(sample_rate)
    return detector.feed(samples) + detector.flush()


def dtmf_frequencies(digit: str) -> tuple[float, float]:
    """(low group Hz, high group Hz) of a key."""
    index = DTMF_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF key: {digit!r} (keys are {DTMF_DIGITS})")
    return DTMF_ROW_HZ[index // 4], DTMF_COL_HZ[index % 4]


def generate_dtmf(digits: str, on_ms: float = DEFAULT_ON_MS, off_ms: float = DEFAULT_OFF_MS,
                  level_dbm0: float = DEFAULT_LEVEL_DBM0, twist_db: float = DEFAULT_TWIST_DB,
                  sample_rate: int = 8000) -> npt.NDArray[np.int16]:
    """Each key as `on_ms` of tone then `off_ms` of silence.

    `level_dbm0` is the high-group tone; the low group is `twist_db` below it.
    """
    if on_ms <= 0 or off_ms < 0:
        raise ValueError("on time must be positive and off time not negative")
    pairs = [dtmf_frequencies(d) for d in digits]
    on = round(on_ms * sample_rate / 1000.0)
    off = round(off_ms * sample_rate / 1000.0)
    t = np.arange(on, dtype=np.float64) / sample_rate
    high = dbm0_to_amplitude(level_dbm0)
    low = dbm0_to_amplitude(level_dbm0 - twist_db)
    out = np.zeros(len(pairs) * (on + off), dtype=np.float64)
    for k, (f_low, f_high) in enumerate(pairs):
        start = k * (on + off)
        out[start:start + on] = (low * np.sin(2.0 * np.pi * f_low * t)
                                 + high * np.sin(2.0 * np.pi * f_high * t))
    return to_int16(out)
