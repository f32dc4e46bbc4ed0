"""Ring cadence plans and FXO disconnect supervision (busy cadence, long silence)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from firmware.dsp.cadence import RingCadence, distinctive_patterns, ring_cadence
from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.levels import dbm0_to_amplitude
from firmware.dsp.profiles import load_profile
from firmware.dsp.supervision import BusyToneDetector, SilenceDetector
from firmware.dsp.tones import generate_tone


def test_uk_double_ring_plan() -> None:
    uk = ring_cadence(load_profile("uk"))
    assert uk.period_ms == 3000 and uk.rings_per_period == 2
    assert [uk.state_at(t) for t in (0, 399, 400, 599, 600, 999, 1000, 2999, 3000)] == [
        True, True, False, False, True, True, False, False, True]
    assert [uk.next_change(t) for t in (0, 400, 650, 2000, 3100)] == [400, 600, 1000, 3000,
                                                                        3400]
    assert uk.gap(0) == (400, 600) and uk.gap(1) == (1000, 3000) and uk.gap(2) == (3400, 3600)
    assert list(itertools.islice(uk.changes(), 5)) == [
        (0.0, True), (400.0, False), (600.0, True), (1000.0, False), (3000.0, True)]
    assert uk.ring_time_ms(3500) == 800 + 400


def test_distinctive_patterns_and_bad_cadences() -> None:
    us = distinctive_patterns(load_profile("us"))
    assert us["normal"].steps_ms == (2000, 4000) and us["dr2"].steps_ms == (800, 400, 800, 4000)
    with pytest.raises(KeyError, match="dr2"):
        ring_cadence(load_profile("de"), "dr2")
    for bad in ((), (1000,), (1000, 0)):
        with pytest.raises(ValueError):
            RingCadence(bad)


def _first_hit(detector: BusyToneDetector, signal: np.ndarray) -> float | None:
    for start in range(0, signal.size, 160):
        if detector.feed(signal[start:start + 160]):
            return start / 8
    return None


@pytest.mark.parametrize("code", ["us", "uk", "de", "fr", "ru", "in", "jp", "au", "et"])
def test_busy_and_congestion_cadences_mean_disconnect(code: str) -> None:
    profile = load_profile(code)
    for name in ("busy", "congestion"):
        hit = _first_hit(BusyToneDetector(profile), generate_tone(profile.tone(name), 12.0))
        assert hit is not None, name
    for name in ("dial", "ringback"):
        assert _first_hit(BusyToneDetector(profile), generate_tone(profile.tone(name), 12.0)) \
            is None, name
    assert _first_hit(BusyToneDetector(profile), generate_dtmf("1234567890" * 3)) is None


def test_silence_detector_counts_only_unbroken_quiet() -> None:
    detector = SilenceDetector(threshold_dbm0=-50.0, seconds=2.0)
    quiet = np.full(8000, 3, dtype=np.int16)  # about -77 dBm0 of noise floor
    loud = np.rint(dbm0_to_amplitude(-20) * np.sin(np.arange(800) * 0.4)).astype(np.int16)
    assert not detector.feed(quiet)
    assert not detector.feed(loud)
    assert not detector.feed(quiet) and detector.silent_ms == 1000
    assert detector.feed(quiet)
    assert detector.feed(loud)  # latched until reset
    detector.reset()
    assert not detector.feed(quiet)
