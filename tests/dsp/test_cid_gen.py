"""Caller ID generation (firmware.dsp.cid_gen): schedules, timing rules, levels, goldens.

Golden vectors: tests/dsp/golden/golden_cid.json holds the sha256 of each generator's
int16 samples. Regenerate deliberately with MINIPBX_REGEN_GOLDEN=1 after a change that is
meant to alter the audio, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.callerid import CallerIdError, CallerIdInfo
from firmware.dsp.cid_gen import (
    SIN227_MARK_BITS,
    SIN227_SEIZURE_BITS,
    AwaitAck,
    CidSignal,
    MuteVoice,
    Play,
    PolarityReversal,
    RingPulse,
    Wait,
    call_waiting_cid,
    dtmf_cid,
    fsk_cid,
    generate_cid,
    mwi_signal,
    sin227_cid,
)
from firmware.dsp.cid_rx import decode_cid
from firmware.dsp.fsk import FskDemodulator
from firmware.dsp.levels import signal_dbm0
from firmware.dsp.profiles import available_profiles, load_profile

GOLDEN = Path(__file__).parent / "golden" / "golden_cid.json"
INFO = CallerIdInfo(number="5551234567", name="ALICE SMITH", datetime="01021230")
# The longest GR-30 MDMF: 15-character name, 10-digit number, date-time.
LONGEST = CallerIdInfo(number="8005551212", name="ABCDEFGHIJKLMNO", datetime="12312359")
US_RING_ON_MS, US_RING_OFF_MS = 2000.0, 4000.0


def tone_peaks(samples: npt.NDArray[np.int16], count: int) -> list[float]:
    x = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x, 8000))  # 1 Hz bins
    bins = np.argsort(spectrum)[::-1]
    peaks: list[float] = []
    for b in bins:
        if all(abs(b - p) > 30 for p in peaks):
            peaks.append(float(b))
        if len(peaks) == count:
            break
    return sorted(peaks)


@pytest.mark.parametrize("info", [INFO, LONGEST])
@pytest.mark.parametrize("fmt", ["mdmf", "sdmf"])
def test_bell202_fits_between_us_rings(info: CallerIdInfo, fmt: str) -> None:
    if fmt == "sdmf":
        info = CallerIdInfo(number=info.number, datetime=info.datetime)
    signal = fsk_cid(info, "bell202", fmt=fmt)  # type: ignore[arg-type]
    assert signal.placement == "after_first_ring"
    first, data = signal.steps
    assert isinstance(first, Wait) and first.ms >= 500.0
    assert signal.min_delay_after_ring_ms >= 500.0
    assert signal.min_gap_before_next_ring_ms >= 200.0
    assert signal.fits_ring_gap(US_RING_OFF_MS)
    # Laid on the cadence: data starts >= 500 ms after ring 1, ends >= 200 ms before ring 2.
    ring1_end = US_RING_ON_MS
    ring2_start = US_RING_ON_MS + US_RING_OFF_MS
    data_start = ring1_end + first.ms
    assert isinstance(data, Play)
    assert data_start - ring1_end >= 500.0
    assert ring2_start - (data_start + data.ms) >= 200.0


def test_bell202_burst_is_300_seizure_180_marks_then_the_message() -> None:
    signal = fsk_cid(INFO, "bell202")
    data = signal.steps[-1]
    assert isinstance(data, Play)
    bits = 300 + 180 + 10 * len(signal.payload) + 8
    assert len(data.samples) == round(bits * 8000 / 1200)
    chars = FskDemodulator().feed(np.concatenate([data.samples, np.zeros(400)]))
    start = next(c for c in chars if c.idle_bits >= 10)
    assert start.value == 0x80
    assert 170 <= start.idle_bits <= 181


def test_a_cid_too_long_for_a_short_gap_says_so() -> None:
    assert not fsk_cid(LONGEST, "bell202").fits_ring_gap(1200.0)


def test_v23_polarity_reversal_dual_tone_schedule() -> None:
    signal = fsk_cid(INFO, "v23", alert="polarity_reversal_dual_tone")
    assert signal.placement == "before_ring"
    reversal, gap, alert, pause, data = signal.steps
    assert isinstance(reversal, PolarityReversal)
    assert isinstance(gap, Wait) and gap.ms >= 100.0
    assert isinstance(alert, Play) and alert.what == "alert" and 88.0 <= alert.ms <= 110.0
    assert tone_peaks(alert.samples, 2) == [2130.0, 2750.0]
    assert isinstance(pause, Wait) and 45.0 <= pause.ms <= 500.0
    assert isinstance(data, Play) and data.what == "fsk"
    assert signal.min_gap_before_next_ring_ms >= 200.0


def test_alert_tone_level_per_tone() -> None:
    alert = fsk_cid(INFO, "v23", alert="polarity_reversal_dual_tone").steps[2]
    assert isinstance(alert, Play)
    # Two equal sines at -15 dBm0 each make -12 dBm0 together.
    assert signal_dbm0(alert.samples) == pytest.approx(-15.0 + 3.01, abs=0.1)


def test_v23_polarity_and_ring_pulse_schedules() -> None:
    polarity = fsk_cid(INFO, "v23", alert="polarity_reversal")
    assert [type(s) for s in polarity.steps] == [PolarityReversal, Wait, Play]
    pulse = fsk_cid(INFO, "v23", alert="ring_pulse")
    ring, wait, data = pulse.steps
    assert isinstance(ring, RingPulse) and 200.0 <= ring.ms <= 300.0
    assert isinstance(wait, Wait) and 500.0 <= wait.ms <= 800.0
    assert isinstance(data, Play)


def test_v23_after_first_ring_keeps_the_gr30_timing() -> None:
    signal = fsk_cid(INFO, "v23")
    assert signal.placement == "after_first_ring"
    assert signal.fits_ring_gap(4000.0)


def test_sin227_seizure_and_marks_in_range() -> None:
    assert 96 <= SIN227_SEIZURE_BITS <= 315
    assert 55 <= SIN227_MARK_BITS <= 90
    signal = sin227_cid(INFO)
    assert [type(s) for s in signal.steps] == [PolarityReversal, Wait, Play, Wait, Play]
    data = signal.steps[-1]
    assert isinstance(data, Play)
    bits = SIN227_SEIZURE_BITS + SIN227_MARK_BITS + 10 * len(signal.payload) + 8
    assert len(data.samples) == round(bits * 8000 / 1200)
    chars = FskDemodulator().feed(np.concatenate([data.samples, np.zeros(800)]))
    start = next(c for c in chars if c.idle_bits >= 10)
    assert start.value == signal.payload[0]
    assert SIN227_MARK_BITS - 10 <= start.idle_bits <= SIN227_MARK_BITS + 1


def test_dtmf_cid_with_polarity_reversal() -> None:
    signal = dtmf_cid(CallerIdInfo(number="9876543210"), alert="polarity_reversal")
    assert signal.placement == "before_ring"
    assert isinstance(signal.steps[0], PolarityReversal)
    assert signal.payload == b"A9876543210C"


def test_call_waiting_steps() -> None:
    signal = call_waiting_cid(INFO, "bell202")
    assert signal.placement == "off_hook" and signal.alert == "cas"
    kinds = [type(s) for s in signal.steps]
    assert kinds == [MuteVoice, Play, Play, AwaitAck, Wait, Play, MuteVoice]
    mute, sas, cas, ack, wait, data, unmute = signal.steps
    assert isinstance(mute, MuteVoice) and mute.on
    assert isinstance(sas, Play) and tone_peaks(sas.samples, 1) == [440.0]
    assert isinstance(cas, Play) and 75.0 <= cas.ms <= 85.0
    assert tone_peaks(cas.samples, 2) == [2130.0, 2750.0]
    assert isinstance(ack, AwaitAck) and set(ack.digits) == {"A", "D"}
    assert ack.timeout_ms == 160.0
    assert isinstance(wait, Wait) and 50.0 <= wait.ms <= 500.0
    assert isinstance(unmute, MuteVoice) and not unmute.on
    assert signal.abort_steps == (MuteVoice(False),)
    # No seizure, 80 marks.
    assert isinstance(data, Play)
    assert len(data.samples) == round((80 + 10 * len(signal.payload) + 8) * 8000 / 1200)
    assert decode_cid(signal.samples).info == INFO


def test_call_waiting_v23_acknowledges_with_d() -> None:
    ack = call_waiting_cid(INFO, "v23").steps[3]
    assert isinstance(ack, AwaitAck) and ack.digits == "D"


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_mwi_is_sent_without_ringing(standard: str) -> None:
    signal = mwi_signal(True, standard)  # type: ignore[arg-type]
    assert signal.placement == "no_ring"
    reversals = sum(isinstance(s, PolarityReversal) for s in signal.steps)
    assert reversals % 2 == 0  # the line ends in its idle polarity


def test_fsk_level_default_and_configurable() -> None:
    data = fsk_cid(INFO, "bell202").steps[-1]
    assert isinstance(data, Play)
    assert signal_dbm0(data.samples) == pytest.approx(-13.5, abs=0.05)
    quiet = fsk_cid(INFO, "bell202", level_dbm0=-30.0).steps[-1]
    assert isinstance(quiet, Play)
    assert signal_dbm0(quiet.samples) == pytest.approx(-30.0, abs=0.05)


def test_samples_render_the_whole_schedule() -> None:
    signal = fsk_cid(INFO, "v23", alert="ring_pulse")
    assert len(signal.samples) == pytest.approx(signal.duration_ms * 8, abs=2)
    assert not signal.samples[: 8 * 800].any()  # ring pulse and wait are silent


def test_invalid_combinations() -> None:
    with pytest.raises(CallerIdError, match="takes no alert"):
        fsk_cid(INFO, "bell202", alert="ring_pulse", placement="after_first_ring")
    with pytest.raises(CallerIdError, match="mdmf or sdmf"):
        generate_cid(INFO, "bell202", fmt="xml")
    with pytest.raises(CallerIdError, match="A_C, A_HASH or D_C"):
        generate_cid(INFO, "dtmf", fmt="mdmf")
    with pytest.raises(CallerIdError, match="no name"):
        fsk_cid(INFO, "bell202", fmt="sdmf")


GENERATORS: dict[str, Callable[[], CidSignal]] = {
    "bell202_mdmf": lambda: fsk_cid(INFO, "bell202"),
    "bell202_sdmf": lambda: fsk_cid(CallerIdInfo(number="5551234567", datetime="01021230"),
                                    "bell202", fmt="sdmf"),
    "bell202_mdmf_private": lambda: fsk_cid(CallerIdInfo(number_absence="P",
                                                         name_absence="P",
                                                         datetime="01021230"), "bell202"),
    "bell202_sdmf_unavailable": lambda: fsk_cid(CallerIdInfo(number_absence="O",
                                                             datetime="01021230"),
                                                "bell202", fmt="sdmf"),
    "v23_after_ring": lambda: fsk_cid(INFO, "v23"),
    "v23_polarity": lambda: fsk_cid(INFO, "v23", alert="polarity_reversal"),
    "v23_polarity_reversal_dual_tone": lambda: fsk_cid(INFO, "v23",
                                                       alert="polarity_reversal_dual_tone"),
    "v23_ring_pulse": lambda: fsk_cid(INFO, "v23", alert="ring_pulse"),
    "sin227": lambda: sin227_cid(INFO),
    "dtmf_a_c": lambda: dtmf_cid(CallerIdInfo(number="0123456789")),
    "dtmf_a_hash": lambda: dtmf_cid(CallerIdInfo(number="0123456789"), fmt="A_HASH"),
    "dtmf_d_c": lambda: dtmf_cid(CallerIdInfo(number="0123456789"), fmt="D_C"),
    "dtmf_private_polarity": lambda: dtmf_cid(CallerIdInfo(number_absence="P"),
                                              alert="polarity_reversal"),
    "mwi_bell202_sdmf_on": lambda: mwi_signal(True, "bell202", fmt="sdmf"),
    "mwi_bell202_mdmf_off": lambda: mwi_signal(False, "bell202"),
    "mwi_v23_mdmf_on": lambda: mwi_signal(True, "v23"),
    "call_waiting_bell202": lambda: call_waiting_cid(INFO, "bell202"),
    "call_waiting_v23": lambda: call_waiting_cid(INFO, "v23"),
}


def _digest(signal: CidSignal) -> str:
    return hashlib.sha256(signal.samples.astype("<i2").tobytes()).hexdigest()


def test_golden_vectors() -> None:
    digests = {name: _digest(make()) for name, make in GENERATORS.items()}
    if os.environ.get("MINIPBX_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"regenerated {GOLDEN.name}")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run with MINIPBX_REGEN_GOLDEN=1"
    expected = json.loads(GOLDEN.read_text())
    changed = sorted(n for n in digests if expected.get(n) != digests[n])
    assert not changed, f"generated audio changed for {changed} (MINIPBX_REGEN_GOLDEN=1 " \
                        "regenerates on purpose)"
    assert sorted(expected) == sorted(digests)


@pytest.mark.parametrize("code", available_profiles())
def test_every_country_profile_generates_its_caller_id(code: str) -> None:
    defaults = load_profile(code).caller_id
    info = CallerIdInfo(number="0123456789", datetime="01021230")
    if defaults.standard == "v23_jp":
        with pytest.raises(CallerIdError, match="not supported"):
            generate_cid(info, defaults.standard, alert=defaults.alert)
        return
    signal = generate_cid(info, defaults.standard, alert=defaults.alert)
    assert signal.standard == defaults.standard
    expected = "after_first_ring" if defaults.alert == "after_first_ring" else "before_ring"
    assert signal.placement == expected
    heard = decode_cid(signal.samples).info
    assert heard == (CallerIdInfo(number="0123456789") if defaults.standard == "dtmf" else info)


def test_unknown_alert_word() -> None:
    with pytest.raises(CallerIdError, match="unknown caller ID alert 'siren'"):
        generate_cid(INFO, "v23", alert="siren")
