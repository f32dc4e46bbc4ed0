"""Caller ID FSK at 8 kHz: Bell 202 and V.23 modulator and a streaming demodulator.

Rules this module keeps:

- Bell 202 (Telcordia GR-30): mark 1200 Hz, space 2200 Hz; V.23 forward channel
  (ETSI EN 300 659-1): mark 1300 Hz, space 2100 Hz; both 1200 bit/s, mark is binary 1.
- Async characters: one start bit (0, space), eight data bits least significant first,
  one stop bit (1, mark). Channel seizure is alternating bits starting with 0, which is
  the 0x55 character repeated with its start and stop bits; mark is a run of 1 bits.
- The modulator keeps the phase continuous and the bit clock exact: at 8000 Hz a bit
  lasts 6.667 samples, so bit edges fall between samples and the phase is integrated
  exactly across them (no phase jump, no drift however long the burst).
- The demodulator mixes the line down around the midpoint of mark and space (1700 Hz for
  both standards), low-passes it, and reads the frequency from the phase step between
  samples. That is independent of the level, so one receiver serves both standards and
  any level from 0 to about -45 dBm0. Carrier is present while the in-band power is
  above CARRIER_ON_DBM0 and makes most of the line's power (speech and hum do not).
- Bit timing is recovered UART-style: every start-bit edge (mark to space) is located to
  a fraction of a sample, and the ten bits of that character are decided by integrating
  the middle half of each bit. Re-timing on every character absorbs frequency offset and
  drift of several per cent.
- Sample positions the demodulator reports lag the input by FILTER_DELAY_SAMPLES.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from firmware.dsp.levels import dbm0_to_amplitude, to_int16

SAMPLE_RATE_HZ = 8000

BELL202_MARK_HZ = 1200.0
BELL202_SPACE_HZ = 2200.0
BELL202_BAUD = 1200.0
V23_MARK_HZ = 1300.0
V23_SPACE_HZ = 2100.0
V23_BAUD = 1200.0

MARK = 1
SPACE = 0
DATA_BITS = 8

# Receiver tuning. The low-pass keeps mark and space (±500 Hz around 1700 Hz for Bell 202)
# and their keying sidebands while halving the white noise a 4 kHz channel lets through.
LOWPASS_CUTOFF_HZ = 1000.0
LOWPASS_TAPS = 31
FILTER_DELAY_SAMPLES = (LOWPASS_TAPS - 1) // 2
LO_MAX_PERIOD = 8000
POWER_WINDOW_SAMPLES = 40  # 5 ms, six bits: long enough to average over keying
CARRIER_ON_DBM0 = -46.0
CARRIER_OFF_DBM0 = -50.0
# Fraction of the line's power that lies in the FSK band: near 1 for FSK, about 0.5 for
# white noise, low for speech and hum.
CARRIER_ON_INBAND_RATIO = 0.7
CARRIER_OFF_INBAND_RATIO = 0.5
CARRIER_MIN_ON_SAMPLES = 40  # 5 ms
QUIET_MARGIN_DB = 6.0
BATCH_SAMPLES = 640  # 80 ms: four 20 ms frames per numpy pass
QUIET_MIN_SAMPLES = 2 * POWER_WINDOW_SAMPLES  # a quiet block outlasts every window
# Each bit is decided on its middle half, away from the keying transitions.
BIT_WINDOW_MARGIN = 0.25
# Mark runs at least this long (minus a bit at each end) measure the mark frequency.
MEASURE_MIN_IDLE_BITS = 8.0


@dataclass(frozen=True)
class FskStandard:
    """One FSK signalling standard: tone frequencies and bit rate."""

    name: str
    mark_hz: float
    space_hz: float
    baud: float

    @property
    def center_hz(self) -> float:
        return (self.mark_hz + self.space_hz) / 2.0


BELL202 = FskStandard("bell202", BELL202_MARK_HZ, BELL202_SPACE_HZ, BELL202_BAUD)
V23 = FskStandard("v23", V23_MARK_HZ, V23_SPACE_HZ, V23_BAUD)
FSK_STANDARDS = {s.name: s for s in (BELL202, V23)}

Bits = npt.NDArray[np.uint8]
Samples = npt.NDArray[np.int16]


def async_bits(data: bytes, stop_bits: int = 1) -> Bits:
    """Frame bytes as async characters: start 0, 8 data bits LSB first, stop bits 1."""
    if stop_bits < 1:
        raise ValueError("an async character needs at least one stop bit")
    octets = np.frombuffer(bytes(data), dtype=np.uint8)
    data_bits = (octets[:, None] >> np.arange(DATA_BITS, dtype=np.uint8)) & 1
    start = np.zeros((len(octets), 1), dtype=np.uint8)
    stop = np.ones((len(octets), stop_bits), dtype=np.uint8)
    return np.hstack([start, data_bits.astype(np.uint8), stop]).reshape(-1)


def seizure_bits(count: int) -> Bits:
    """Channel seizure: `count` alternating bits starting with 0 (0x55 characters)."""
    return (np.arange(count) % 2).astype(np.uint8)


def mark_bits(count: int) -> Bits:
    """A run of `count` mark (1) bits."""
    return np.ones(count, dtype=np.uint8)


def modulate(bits: Bits, standard: FskStandard, level_dbm0: float,
             sample_rate: int = SAMPLE_RATE_HZ, start_phase: float = 0.0) -> Samples:
    """Continuous-phase FSK of `bits` (1 = mark) as int16 samples at `sample_rate`.

    The burst lasts round(len(bits) * sample_rate / baud) samples. Within bit k the
    frequency is constant; the phase at each sample is the exact integral of that
    piecewise-constant frequency, so edges between samples are honoured.
    """
    bit_array = np.asarray(bits, dtype=np.uint8)
    if bit_array.size == 0:
        return np.zeros(0, dtype=np.int16)
    freqs = np.where(bit_array == MARK, standard.mark_hz, standard.space_hz)
    n_samples = round(len(bit_array) * sample_rate / standard.baud)
    t = np.arange(n_samples, dtype=np.float64) / sample_rate
    bit_index = np.minimum((t * standard.baud).astype(np.int64), len(bit_array) - 1)
    # Phase (in cycles) at the start of each bit, then within the bit.
    cycles_at_bit = np.concatenate([[0.0], np.cumsum(freqs / standard.baud)])
    cycles = (cycles_at_bit[bit_index]
              + freqs[bit_index] * (t - bit_index / standard.baud))
    amplitude = dbm0_to_amplitude(level_dbm0)
    wave = amplitude * np.sin(2.0 * np.pi * cycles + start_phase)
    return to_int16(wave)


def _lowpass_taps(cutoff_hz: float, taps: int, sample_rate: int) -> npt.NDArray[np.float64]:
    n = np.arange(taps) - (taps - 1) / 2.0
    h = 2.0 * cutoff_hz / sample_rate * np.sinc(2.0 * cutoff_hz / sample_rate * n)
    h *= np.hamming(taps)
    result: npt.NDArray[np.float64] = h / h.sum()
    return result


@dataclass(frozen=True)
class FskByte:
    """One async character the demodulator framed.

    `idle_bits` counts the mark bits heard between this character's start bit and the
    previous character's stop bit (or the start of the carrier); a message begins after
    a run of idle marks. `at_sample` is the stream position of the start-bit edge.
    """

    value: int
    framing_ok: bool
    idle_bits: float
    at_sample: float


class FskDemodulator:
    """Streaming FSK receiver: feed int16 (or float) samples, get framed characters.

    One instance receives both Bell 202 and V.23 (see the module rules); the measured
    mark frequency tells them apart (`measured_mark_hz`).
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE_HZ, baud: float = BELL202_BAUD,
                 center_hz: float = BELL202.center_hz, *,
                 batch_samples: int = BATCH_SAMPLES) -> None:
        self.sample_rate = sample_rate
        self.batch_samples = batch_samples
        self.samples_per_bit = sample_rate / baud
        self._center_hz = center_hz
        self._taps = _lowpass_taps(LOWPASS_CUTOFF_HZ, LOWPASS_TAPS, sample_rate)
        # One period of the local oscillator (80 samples for 1700 Hz at 8 kHz).
        step = Fraction(center_hz / sample_rate).limit_denominator(LO_MAX_PERIOD)
        cycle = np.arange(step.denominator)
        self._lo = np.exp(-2j * np.pi * float(step) * cycle)
        on = dbm0_to_amplitude(CARRIER_ON_DBM0)
        off = dbm0_to_amplitude(CARRIER_OFF_DBM0)
        # Mean |z|^2 of the baseband signal is a quarter of the tone's squared peak.
        self._power_on = on * on / 4.0
        self._power_off = off * off / 4.0
        # Mean square below which a block is skipped: a sine QUIET_MARGIN_DB under "off".
        quiet = off * 10.0 ** (-QUIET_MARGIN_DB / 20.0)
        self._quiet_energy = quiet * quiet / 2.0
        self.reset()

    def reset(self) -> None:
        """Forget everything heard so far (keeps the configuration)."""
        self._queued: list[npt.NDArray[np.float64]] = []
        self._queued_len = 0
        self._consumed = 0  # absolute index of the next input sample
        self._raw_hist = np.zeros(FILTER_DELAY_SAMPLES, dtype=np.float64)
        self._mixed_hist = np.zeros(LOWPASS_TAPS - 1, dtype=np.complex128)
        self._z_last = complex(0.0)
        self._pow_hist = np.zeros((2, POWER_WINDOW_SAMPLES - 1), dtype=np.float64)
        self._on_hist = np.zeros(CARRIER_MIN_ON_SAMPLES - 1, dtype=bool)
        self._carrier = False
        self.carrier_seen = False
        # Demodulated stream kept for the UART: frequency from the centre (Hz; negative
        # is mark) and carrier flags, from absolute index self._base.
        self._base = 0
        self._freq = np.zeros(0, dtype=np.float64)
        self._on = np.zeros(0, dtype=bool)
        self._on_before_base = False
        self._run_start_at_base = 0.0  # where the carrier run holding index _base began
        self._hunt_from = 1.0
        self._last_char_end = -1e18
        self._mark_sum = 0.0
        self._mark_count = 0

    @property
    def carrier_present(self) -> bool:
        return self._carrier

    @property
    def measured_mark_hz(self) -> float | None:
        """Mean frequency over the idle mark runs heard so far (None before any)."""
        if not self._mark_count:
            return None
        return self._center_hz + self._mark_sum / self._mark_count

    def feed(self, samples: npt.ArrayLike) -> list[FskByte]:
        """Take the next samples; return the characters completed so far.

        Input is gathered until `batch_samples` have come (numpy's cost is per call, not
        per sample), so a character is reported up to that much later than it ended.
        """
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        if x.size:
            self._queued.append(x)
            self._queued_len += x.size
        if self._queued_len < self.batch_samples:
            return []
        return self.flush()

    def flush(self) -> list[FskByte]:
        """Demodulate whatever input is gathered, however little."""
        if not self._queued_len:
            return []
        x = self._queued[0] if len(self._queued) == 1 else np.concatenate(self._queued)
        self._queued.clear()
        self._queued_len = 0
        if (x.size >= QUIET_MIN_SAMPLES and not self._carrier
                and float(np.dot(x, x)) < self._quiet_energy * x.size):
            self._skip_quiet(x)
            return []
        self._front_end(x)
        return self._uart()

    def _skip_quiet(self, x: npt.NDArray[np.float64]) -> None:
        """A block far below the carrier threshold with no carrier before it cannot hold a
        character: keep the filters' histories and drop the UART's buffers (idle lines
        cost almost nothing)."""
        n, keep = len(x), LOWPASS_TAPS - 1
        tail = x[-keep:]
        lo = self._lo[(self._consumed + n - len(tail) + np.arange(len(tail))) % len(self._lo)]
        self._mixed_hist = np.concatenate([self._mixed_hist, tail * lo])[-keep:]
        self._raw_hist = np.concatenate([self._raw_hist, x])[-FILTER_DELAY_SAMPLES:]
        self._pow_hist[:] = 0.0
        self._on_hist[:] = False
        self._z_last = complex(0.0)
        self._consumed += n
        self._base = self._consumed
        self._freq = self._freq[:0]
        self._on = self._on[:0]
        self._on_before_base = False
        self._hunt_from = float(self._base + 1)

    def _front_end(self, x: npt.NDArray[np.float64]) -> None:
        n = len(x)
        lo = self._lo[(self._consumed + np.arange(n)) % len(self._lo)]
        mixed = np.concatenate([self._mixed_hist, x * lo])
        self._mixed_hist = mixed[-(LOWPASS_TAPS - 1):]
        z = np.convolve(mixed, self._taps, mode="valid")
        # The line itself, delayed as the filter delays z, for the power comparison.
        line = np.concatenate([self._raw_hist, x])
        self._raw_hist = line[-FILTER_DELAY_SAMPLES:]
        delayed = line[:n]
        self._consumed += n
        # Instantaneous frequency (Hz from the centre) from the phase step per sample.
        prev = np.concatenate([[self._z_last], z[:-1]])
        self._z_last = complex(z[-1])
        freq = np.angle(z * np.conj(prev)) * (self.sample_rate / (2.0 * np.pi))
        # Carrier: in-band power against the whole line's power, both over 5 ms.
        powers = np.concatenate(
            [self._pow_hist, np.stack([z.real ** 2 + z.imag ** 2, delayed ** 2])], axis=1)
        self._pow_hist = powers[:, n:]
        sums = np.cumsum(powers, axis=1)
        sums[:, POWER_WINDOW_SAMPLES:] -= sums[:, :-POWER_WINDOW_SAMPLES].copy()
        window = sums[:, POWER_WINDOW_SAMPLES - 1:] / POWER_WINDOW_SAMPLES
        p_in, p_all = window[0], window[1] + 1e-9
        ratio = 2.0 * p_in / p_all
        on_now = (p_in > self._power_on) & (ratio > CARRIER_ON_INBAND_RATIO)
        # Carrier comes on only after holding for CARRIER_MIN_ON_SAMPLES (not on clicks).
        held = np.concatenate([self._on_hist, on_now])
        self._on_hist = held[n:]
        runs = np.cumsum(held, dtype=np.int32)
        runs[CARRIER_MIN_ON_SAMPLES:] -= runs[:-CARRIER_MIN_ON_SAMPLES].copy()
        on = runs[CARRIER_MIN_ON_SAMPLES - 1:] == CARRIER_MIN_ON_SAMPLES
        off = (p_in < self._power_off) | (ratio < CARRIER_OFF_INBAND_RATIO)
        # Hysteresis: between the thresholds the last decision holds.
        decided = on | off
        last = np.maximum.accumulate(np.where(decided, np.arange(n), -1))
        state = np.where(last >= 0, on[np.maximum(last, 0)], self._carrier)
        self._carrier = bool(state[-1])
        self.carrier_seen = self.carrier_seen or bool(state.any())
        self._freq = np.concatenate([self._freq, freq])
        self._on = np.concatenate([self._on, state])

    def _uart(self) -> list[FskByte]:
        spb = self.samples_per_bit
        freq, on, base = self._freq, self._on, self._base
        soft = -freq  # positive for mark
        out: list[FskByte] = []
        if len(soft) < 3:
            return out
        # Smoothed soft bits locate edges; the raw ones are integrated per bit.
        smooth = np.convolve(soft, [0.25, 0.5, 0.25], mode="same")
        falling = np.flatnonzero((smooth[:-1] > 0) & (smooth[1:] <= 0) & on[1:] & on[:-1])
        rises = self._rises()
        cum = np.concatenate([[0.0], np.cumsum(soft)])
        cum_f = np.concatenate([[0.0], np.cumsum(freq)])
        grid = np.arange(len(cum), dtype=np.float64)
        frame_len = (DATA_BITS + 2) * spb
        bounds = np.arange(DATA_BITS + 2, dtype=np.float64) * spb
        lo_off = bounds + BIT_WINDOW_MARGIN * spb
        hi_off = bounds + (1.0 - BIT_WINDOW_MARGIN) * spb
        k = int(np.searchsorted(falling, self._hunt_from - base - 1.0, side="left"))
        pending = False
        while k < len(falling):
            i = int(falling[k])
            a, b = smooth[i], smooth[i + 1]
            edge = i + (a / (a - b) if a != b else 0.0) + 0.5
            if edge + frame_len + 2 >= len(soft):
                pending = True  # the character is not all here yet
                break
            k += 1
            if edge + base < self._hunt_from:
                continue
            lo, hi = edge + lo_off, edge + hi_off
            values = np.interp(hi, grid, cum) - np.interp(lo, grid, cum)
            if values[0] >= 0 or not on[int(edge):int(edge + frame_len)].all():
                self._hunt_from = base + edge + 0.5 * spb  # a glitch, not a start bit
                continue
            bits = values > 0
            value = int(np.dot(bits[1:1 + DATA_BITS], 1 << np.arange(DATA_BITS)))
            rise_pos = rises[rises <= edge]
            run_start = float(base + rise_pos[-1]) if rise_pos.size else self._run_start_at_base
            idle_start = max(self._last_char_end, run_start)
            idle = max(0.0, (base + edge - idle_start) / spb)
            out.append(FskByte(value, bool(bits[-1]), idle, base + edge))
            self._last_char_end = base + edge + frame_len
            self._hunt_from = base + edge + (DATA_BITS + 1.5) * spb
            if idle >= MEASURE_MIN_IDLE_BITS:
                # A long idle mark run, free of keying, shows the true mark frequency.
                lo_m, hi_m = edge - (idle - 1.0) * spb, edge - spb
                self._mark_sum += float(np.interp(hi_m, grid, cum_f)
                                        - np.interp(lo_m, grid, cum_f))
                self._mark_count += int(hi_m - lo_m)
        if not pending:
            # No character under way: only the last few samples may yet hold an edge
            # (their smoothing still lacks the samples after them).
            self._hunt_from = max(self._hunt_from, float(base + len(freq) - 4))
        self._trim()
        return out

    def _rises(self) -> npt.NDArray[np.intp]:
        """Buffer indices where the carrier came on."""
        before = np.concatenate([[self._on_before_base], self._on[:-1]])
        return np.flatnonzero(self._on & ~before)

    def _trim(self) -> None:
        """Drop what the UART no longer needs (keep the current character's span)."""
        spb = self.samples_per_bit
        keep_from = int(min(self._hunt_from, self._base + len(self._freq)) - 2 * spb) - 2
        drop = min(max(0, keep_from - self._base), len(self._freq) - 1)
        if drop > 0:
            rises = self._rises()
            earlier = rises[rises <= drop]
            if earlier.size:
                self._run_start_at_base = float(self._base + earlier[-1])
            self._on_before_base = bool(self._on[drop - 1])
            self._freq = self._freq[drop:]
            self._on = self._on[drop:]
            self._base += drop
        if self._hunt_from < self._base + 1:
            self._hunt_from = float(self._base + 1)
