"""DTMF detector streaming behaviour, timing, and the generator."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.dsp.dtmf import (
    DTMF_DIGITS,
    DtmfDetector,
    DtmfDigit,
    detect_dtmf,
    dtmf_frequencies,
    generate_dtmf,
)
from firmware.dsp.goertzel import goertzel, power_per_sine
from firmware.dsp.levels import mean_square_to_dbm0
from tests.ref.spandsp_dtmf import spandsp_detect, spandsp_generate

SEQUENCE = "0123456789*#ABCD"


def _stream(samples: np.ndarray, frame: int) -> list[DtmfDigit]:
    detector = DtmfDetector()
    found: list[DtmfDigit] = []
    for start in range(0, samples.size, frame):
        found += detector.feed(samples[start:start + frame])
    return found + detector.flush()


@pytest.mark.parametrize("frame", [40, 80, 160, 320])
def test_any_frame_size_gives_the_same_digits(frame: int) -> None:
    signal = generate_dtmf(SEQUENCE)
    whole = detect_dtmf(signal)
    assert "".join(d.digit for d in whole) == SEQUENCE
    assert _stream(signal, frame) == whole


def test_times_are_measured_from_the_first_sample() -> None:
    signal = np.concatenate([np.zeros(4000, dtype=np.int16),
                             generate_dtmf("42", on_ms=120, off_ms=80)])
    first, second = detect_dtmf(signal)
    assert abs(first.start_ms - 500) <= 13 and abs(first.duration_ms - 120) <= 13
    assert abs(second.start_ms - 700) <= 13 and abs(second.duration_ms - 120) <= 13


def test_each_digit_is_reported_once_after_its_pause_and_in_digit_tracks_it() -> None:
    detector = DtmfDetector(batch_blocks=1)
    tone = generate_dtmf("7", on_ms=200, off_ms=0)
    assert detector.feed(tone[:800]) == []
    assert detector.in_digit == "7"  # a caller can stop dial tone now
    assert detector.feed(tone[800:]) == []
    digits = detector.feed(np.zeros(800, dtype=np.int16))
    assert [d.digit for d in digits] == ["7"]
    assert detector.in_digit is None
    assert detector.feed(np.zeros(1600, dtype=np.int16)) == []


def test_reset_restarts_the_clock_and_float_input_is_accepted() -> None:
    detector = DtmfDetector()
    detector.feed(np.zeros(12345, dtype=np.int16))
    detector.reset()
    digits = detector.feed(generate_dtmf("9").astype(np.float32)) + detector.flush()
    assert [d.digit for d in digits] == ["9"] and digits[0].start_ms < 13


def test_spandsp_generated_dtmf_decodes_in_ours() -> None:
    for level in (-10, -20):
        signal = spandsp_generate(SEQUENCE, on_ms=50, off_ms=55, level_dbm0=level, twist_db=2)
        assert "".join(d.digit for d in detect_dtmf(signal)) == SEQUENCE


def test_our_generated_dtmf_decodes_in_spandsp() -> None:
    assert spandsp_detect(generate_dtmf(SEQUENCE)) == SEQUENCE


def test_generator_levels_twist_and_timing() -> None:
    signal = generate_dtmf("5D", on_ms=100, off_ms=50)
    assert signal.dtype == np.int16 and signal.size == 2 * 1200
    tone = signal[:800].astype(np.float64)
    f_low, f_high = dtmf_frequencies("5")
    power = power_per_sine(goertzel(tone, [f_low, f_high], 8000), 800)[0]
    low_db, high_db = (mean_square_to_dbm0(float(p)) for p in power)
    assert abs(high_db - -7.0) < 0.2 and abs(low_db - -9.0) < 0.2
    assert not signal[800:1200].any()


def test_generator_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="not a DTMF key"):
        generate_dtmf("12E")
    assert len(DTMF_DIGITS) == 16
