"""FSK modulator and demodulator (firmware.dsp.fsk): framing, tones, phase, robustness."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.fsk import (
    BELL202,
    SAMPLE_RATE_HZ,
    V23,
    FskDemodulator,
    FskStandard,
    async_bits,
    mark_bits,
    modulate,
    seizure_bits,
)
from firmware.dsp.levels import dbm0_to_amplitude, signal_dbm0

MESSAGE = bytes([0x80, 0x10, 0x02, 0x0A]) + b"5551234567" + bytes([0x07, 0x02]) + b"AB\x42"


def burst(std: FskStandard = BELL202, data: bytes = MESSAGE, level: float = -13.5,
          seizure: int = 300, marks: int = 180) -> npt.NDArray[np.int16]:
    bits = np.concatenate([seizure_bits(seizure), mark_bits(marks), async_bits(data),
                           mark_bits(8)])
    quiet = np.zeros(400, dtype=np.int16)
    return np.concatenate([quiet, modulate(bits, std, level), quiet])


def received(x: npt.ArrayLike, block: int | None = None) -> bytes:
    """Bytes framed after the first long idle mark run (the message), as a receiver sees."""
    demod = FskDemodulator()
    arr = np.asarray(x)
    step = block or len(arr)
    chars = []
    for start in range(0, len(arr), step):
        chars += demod.feed(arr[start:start + step])
    chars += demod.feed(np.zeros(800))
    first = next(i for i, c in enumerate(chars) if c.idle_bits >= 10)
    message = chars[first:first + len(MESSAGE)]  # noise after the burst may frame more
    assert all(c.framing_ok for c in message)
    return bytes(c.value for c in message)


def test_async_framing_is_start_lsb_first_stop() -> None:
    assert async_bits(b"\x41").tolist() == [0, 1, 0, 0, 0, 0, 0, 1, 0, 1]
    assert async_bits(b"\x01", stop_bits=2).tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1]


def test_seizure_is_0x55_characters_with_their_start_and_stop_bits() -> None:
    assert seizure_bits(300).tolist() == async_bits(b"\x55" * 30).tolist()
    assert seizure_bits(4).tolist() == [0, 1, 0, 1]


@pytest.mark.parametrize(("std", "bit", "hz"), [(BELL202, 1, 1200.0), (BELL202, 0, 2200.0),
                                                (V23, 1, 1300.0), (V23, 0, 2100.0)])
def test_tone_frequencies(std: FskStandard, bit: int, hz: float) -> None:
    x = modulate(np.full(1200, bit, dtype=np.uint8), std, -10.0).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak = np.argmax(spectrum) * SAMPLE_RATE_HZ / len(x)
    assert peak == pytest.approx(hz, abs=1.0)


def test_length_follows_the_exact_bit_clock() -> None:
    # 6.667 samples a bit: 3 bits are 20 samples, 1200 bits one second.
    assert len(modulate(mark_bits(3), BELL202, -10.0)) == 20
    assert len(modulate(seizure_bits(1200), BELL202, -10.0)) == SAMPLE_RATE_HZ


@pytest.mark.parametrize("std", [BELL202, V23], ids=lambda s: s.name)
def test_phase_is_the_exact_integral_of_the_keyed_frequency(std: FskStandard) -> None:
    # Reference on a 24 kHz grid, where a 1200 bit/s bit is exactly 20 samples: the phase
    # is the running sum of the piecewise-constant frequency; every third sample is an
    # 8 kHz sample. Continuous phase and fractional bit edges must match it to 1 LSB.
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, 500).astype(np.uint8)
    ours = modulate(bits, std, 0.0).astype(np.float64)
    freq = np.repeat(np.where(bits == 1, std.mark_hz, std.space_hz), 20)
    cycles = np.concatenate([[0.0], np.cumsum(freq) / 24000.0])[:-1:3]
    reference = dbm0_to_amplitude(0.0) * np.sin(2 * np.pi * cycles[:len(ours)])
    assert len(ours) == round(len(bits) * 8000 / 1200)
    assert np.max(np.abs(ours - reference)) <= 1.0


def test_level_in_dbm0() -> None:
    x = modulate(seizure_bits(2400), V23, -13.5)
    assert signal_dbm0(x) == pytest.approx(-13.5, abs=0.05)


@pytest.mark.parametrize("std", [BELL202, V23], ids=lambda s: s.name)
@pytest.mark.parametrize("block", [None, 1, 7, 160])
def test_round_trip_in_any_block_size(std: FskStandard, block: int | None) -> None:
    assert received(burst(std), block) == MESSAGE


@pytest.mark.parametrize("level", [0.0, -10.0, -20.0, -30.0, -40.0])
def test_any_level_from_0_to_minus_40_dbm0(level: float) -> None:
    assert received(burst(level=level)) == MESSAGE


def test_below_the_carrier_threshold_nothing_is_heard() -> None:
    demod = FskDemodulator()
    assert demod.feed(burst(level=-55.0)) == []
    assert not demod.carrier_seen


@pytest.mark.parametrize("offset", [-0.01, 0.01])
@pytest.mark.parametrize("std", [BELL202, V23], ids=lambda s: s.name)
def test_one_per_cent_frequency_and_rate_offset(std: FskStandard, offset: float) -> None:
    skewed = FskStandard(std.name, std.mark_hz * (1 + offset), std.space_hz * (1 + offset),
                         std.baud * (1 + offset))
    assert received(burst(skewed)) == MESSAGE


@pytest.mark.parametrize("std", [BELL202, V23], ids=lambda s: s.name)
def test_twenty_db_signal_to_noise(std: FskStandard) -> None:
    rng = np.random.default_rng(1234)
    x = burst(std).astype(np.float64)
    signal_ms = float(np.mean(x[x != 0] ** 2))
    noisy = x + rng.normal(0.0, np.sqrt(signal_ms / 100.0), len(x))
    assert received(noisy) == MESSAGE


@pytest.mark.parametrize("drift", [-0.02, 0.02])
def test_bit_timing_drift(drift: float) -> None:
    # The clock slides smoothly from nominal to `drift` off over the burst.
    x = burst().astype(np.float64)
    n = np.arange(len(x), dtype=np.float64)
    t = n + drift * n * n / (2 * len(x))
    warped = np.interp(t, n, x)
    assert received(warped) == MESSAGE


@pytest.mark.parametrize(("std", "mark"), [(BELL202, 1200.0), (V23, 1300.0)])
def test_measured_mark_frequency(std: FskStandard, mark: float) -> None:
    demod = FskDemodulator()
    demod.feed(burst(std))
    assert demod.measured_mark_hz == pytest.approx(mark, abs=10.0)


@pytest.mark.parametrize("seizure", [0, 300])
def test_idle_bits_count_the_mark_run_before_a_character(seizure: int) -> None:
    # To within a character: after a seizure the receiver may frame its last 0/1 pair
    # and the first marks as one more character (0xFF), as any async receiver would.
    demod = FskDemodulator()
    chars = demod.feed(np.concatenate([burst(seizure=seizure, marks=60),
                                       np.zeros(800, dtype=np.int16)]))
    long_runs = [c.idle_bits for c in chars if c.idle_bits > 5]
    assert len(long_runs) == 1
    assert 60 - 10 <= long_runs[0] <= 60 + 1


def test_speech_like_low_tones_are_not_carrier() -> None:
    t = np.arange(8000) / SAMPLE_RATE_HZ
    hum = dbm0_to_amplitude(-10.0) * (np.sin(2 * np.pi * 300 * t) + np.sin(2 * np.pi * 150 * t))
    demod = FskDemodulator()
    assert demod.feed(hum) == []
    assert not demod.carrier_seen
