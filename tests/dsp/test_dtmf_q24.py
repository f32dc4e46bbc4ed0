"""The ITU-T Q.24 receiver matrix, through our detector and spandsp's side by side.

Our detector must meet every must-accept and must-reject figure; spandsp's result is
printed next to ours (run pytest with -s to see the table) and must agree on the clear
cases (nominal frequencies, levels and timing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.dtmf import (
    DTMF_DIGITS,
    Q24_ACCEPT_DEVIATION,
    Q24_MIN_LEVEL_DBM0,
    Q24_MIN_PAUSE_MS,
    Q24_MIN_SNR_DB,
    Q24_MIN_TONE_MS,
    Q24_NORMAL_TWIST_DB,
    Q24_REJECT_DEVIATION,
    Q24_REVERSE_TWIST_DB,
    detect_dtmf,
    dtmf_frequencies,
)
from firmware.dsp.levels import dbm0_to_amplitude, dbm0_to_mean_square, to_int16
from tests.ref.spandsp_dtmf import spandsp_detect

FS = 8000


def _pair(key: str, ms: float, low_dbm0: float = -9.0, high_dbm0: float = -7.0,
          low_dev: float = 0.0, high_dev: float = 0.0, lead_ms: float = 37.0
          ) -> npt.NDArray[np.float64]:
    f_low, f_high = dtmf_frequencies(key)
    t = np.arange(round(ms * FS / 1000)) / FS
    tone = (dbm0_to_amplitude(low_dbm0) * np.sin(2 * np.pi * f_low * (1 + low_dev) * t + 0.3)
            + dbm0_to_amplitude(high_dbm0) * np.sin(2 * np.pi * f_high * (1 + high_dev) * t))
    return np.concatenate([np.zeros(round(lead_ms * 8)), tone, np.zeros(2400)])


@dataclass(frozen=True)
class Case:
    name: str
    expect: bool  # Q.24: must the key be detected?
    clear: bool  # a clear case both detectors must get right
    build: Callable[[str], npt.NDArray[np.float64]]  # key -> signal


def _cases() -> list[Case]:
    cases = [Case("nominal", True, True, lambda k: _pair(k, 100))]
    for dev in (-Q24_ACCEPT_DEVIATION, Q24_ACCEPT_DEVIATION):
        cases.append(Case(f"both {dev:+.1%}", True, False,
                          lambda k, d=dev: _pair(k, 100, low_dev=d, high_dev=d)))
        cases.append(Case(f"low {dev:+.1%}", True, False,
                          lambda k, d=dev: _pair(k, 100, low_dev=d)))
        cases.append(Case(f"high {dev:+.1%}", True, False,
                          lambda k, d=dev: _pair(k, 100, high_dev=d)))
    for dev in (-Q24_REJECT_DEVIATION, Q24_REJECT_DEVIATION):
        cases.append(Case(f"low {dev:+.1%}", False, False,
                          lambda k, d=dev: _pair(k, 100, low_dev=d)))
        cases.append(Case(f"high {dev:+.1%}", False, False,
                          lambda k, d=dev: _pair(k, 100, high_dev=d)))
    # Normal twist: high group weaker; reverse: high group stronger.
    cases += [
        Case("twist 8 dB normal", True, False,
             lambda k: _pair(k, 100, low_dbm0=-4, high_dbm0=-4 - Q24_NORMAL_TWIST_DB)),
        Case("twist 4 dB reverse", True, False,
             lambda k: _pair(k, 100, low_dbm0=-8, high_dbm0=-8 + Q24_REVERSE_TWIST_DB)),
        Case("twist 10 dB normal", False, False,
             lambda k: _pair(k, 100, low_dbm0=-4, high_dbm0=-4 - Q24_NORMAL_TWIST_DB - 2)),
        Case("twist 6 dB reverse", False, False,
             lambda k: _pair(k, 100, low_dbm0=-8, high_dbm0=-8 + Q24_REVERSE_TWIST_DB + 2)),
        Case("tone 40 ms", True, False, lambda k: _pair(k, Q24_MIN_TONE_MS)),
        Case("tone 20 ms", False, False, lambda k: _pair(k, 20)),
        Case(f"level {Q24_MIN_LEVEL_DBM0:.0f} dBm0", True, True,
             lambda k: _pair(k, 100, Q24_MIN_LEVEL_DBM0, Q24_MIN_LEVEL_DBM0)),
        Case("level -40 dBm0", False, False, lambda k: _pair(k, 100, -40, -40)),
    ]
    return cases


def _with_noise(signal: npt.NDArray[np.float64], tone_dbm0: float, seed: int
                ) -> npt.NDArray[np.float64]:
    """White noise Q24_MIN_SNR_DB below the two tones' total power, over the whole signal."""
    noise_power = 2 * dbm0_to_mean_square(tone_dbm0) / 10 ** (Q24_MIN_SNR_DB / 10)
    rng = np.random.default_rng(seed)
    return signal + rng.normal(0.0, np.sqrt(noise_power), signal.size)


def _run_matrix() -> list[tuple[Case, int, int]]:
    rows = []
    for case in _cases():
        signals = {k: to_int16(case.build(k)) for k in DTMF_DIGITS}
        ours = sum(1 for k, x in signals.items() if [d.digit for d in detect_dtmf(x)] == [k])
        theirs = sum(1 for k, x in signals.items() if spandsp_detect(x) == k)
        rows.append((case, ours, theirs))
    return rows


@pytest.fixture(scope="module")
def matrix() -> list[tuple[Case, int, int]]:
    rows = _run_matrix()
    print("\nQ.24 matrix: keys detected out of 16")
    print(f"{'case':<22} {'Q.24':>6} {'ours':>5} {'spandsp':>8}")
    for case, ours, theirs in rows:
        print(f"{case.name:<22} {'accept' if case.expect else 'reject':>6} {ours:>5} "
              f"{theirs:>8}")
    return rows


def test_our_detector_meets_q24(matrix: list[tuple[Case, int, int]]) -> None:
    for case, ours, _ in matrix:
        assert ours == (16 if case.expect else 0), case.name


def test_spandsp_agrees_on_the_clear_cases(matrix: list[tuple[Case, int, int]]) -> None:
    for case, ours, theirs in matrix:
        if case.clear:
            assert ours == theirs == 16, case.name


@pytest.mark.parametrize("level", [-7.0, Q24_MIN_LEVEL_DBM0])
def test_15_db_signal_to_noise(level: float) -> None:
    missed_ours, missed_spandsp = [], []
    for n, key in enumerate(DTMF_DIGITS):
        signal = to_int16(_with_noise(_pair(key, 60, level, level), level, seed=n))
        if [d.digit for d in detect_dtmf(signal)] != [key]:
            missed_ours.append(key)
        if spandsp_detect(signal) != key:
            missed_spandsp.append(key)
    print(f"\nS/N {Q24_MIN_SNR_DB} dB at {level} dBm0: ours missed {missed_ours}, "
          f"spandsp missed {missed_spandsp}")
    assert missed_ours == []


def test_min_pause_separates_digits_and_a_dropout_does_not() -> None:
    key_a, key_b = "5", "5"
    gap = np.zeros(round(Q24_MIN_PAUSE_MS * 8))
    two = np.concatenate([_pair(key_a, 60, lead_ms=10)[:560], gap, _pair(key_b, 60, lead_ms=0)])
    assert [d.digit for d in detect_dtmf(to_int16(two))] == ["5", "5"]
    assert spandsp_detect(to_int16(two)) == "55"
    tone = _pair("8", 120, lead_ms=10)
    tone[80 + 480:80 + 560] = 0.0  # a 10 ms drop-out in the middle of the tone
    assert [d.digit for d in detect_dtmf(to_int16(tone))] == ["8"]
