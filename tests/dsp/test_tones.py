"""Country profiles, the tone generator, and the tone detector reading every tone back."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.goertzel import goertzel, power_per_sine
from firmware.dsp.levels import dbm0_to_mean_square
from firmware.dsp.profiles import ProfileError, _Reader, available_profiles, load_profile
from firmware.dsp.tone_detect import ToneDetector, detect_tones
from firmware.dsp.tones import MODULATION_DEPTH, TONE_NAMES, ToneGenerator, generate_tone

COUNTRIES = ["us", "uk", "de", "fr", "ru", "in", "jp", "au", "et"]


def test_every_required_country_ships_with_every_tone_and_a_source() -> None:
    assert set(COUNTRIES) <= set(available_profiles())
    for code in COUNTRIES:
        profile = load_profile(code)
        assert profile.source and [t.name for t in profile.tones] == list(TONE_NAMES)
        assert profile.ring.cadence_ms and profile.ring.frequency_hz > 0
    assert "E.180" in load_profile("et").name + load_profile("et").source


def test_profiles_match_the_telephony_table() -> None:
    us, de, india = load_profile("us"), load_profile("de"), load_profile("in")
    assert us.tone("busy").steps[0].freqs == (480.0, 620.0)
    assert [s.duration_ms for s in us.tone("congestion").steps] == [250.0, 250.0]
    assert us.ring.cadence_ms == (2000, 4000) and us.ring.frequency_hz == 20
    assert de.ring.frequency_hz == 25 and de.tone("busy").steps[0].duration_ms == 480
    assert india.tone("dial").steps[0].modulation_hz == 25
    assert us.caller_id.standard == "bell202" and india.caller_id.standard == "dtmf"
    assert india.caller_id.alert == "polarity_reversal"
    assert load_profile("uk").caller_id.alert == "polarity_reversal_dual_tone"


def test_bad_profiles_name_the_file_and_key() -> None:
    with pytest.raises(ProfileError, match=r"zz\.toml: no such country profile"):
        load_profile("zz")
    good = {"name": "X", "source": "test", "ring": {"frequency_hz": 25, "cadence_ms": [1, 2]},
            "caller_id": {"standard": "v23", "alert": "ring_pulse"},
            "tones": {n: {"level_dbm0": -10, "steps": [{"freqs": [425]}]} for n in TONE_NAMES},
            "numbers": {"source": "test", "country_code": "9", "trunk_prefix": "0",
                        "international": ["00"], "premium": [], "national": ["0"],
                        "emergency": ["112"]}}
    _Reader("x.toml").profile("x", good)
    with pytest.raises(ProfileError, match=r"x\.toml: numbers\.premium: '09x' must be a string"):
        _Reader("x.toml").profile("x", dict(good, numbers={**good["numbers"],
                                                            "premium": ["09x"]}))
    broken = dict(good, tones={**good["tones"], "busy": {"level_dbm0": -10}})
    with pytest.raises(ProfileError, match=r"x\.toml: tones\.busy\.steps: missing"):
        _Reader("x.toml").profile("x", broken)
    bad_step = dict(good, tones={**good["tones"],
                                 "busy": {"level_dbm0": -10, "steps": [{"freqs": [425, 9000]}]}})
    with pytest.raises(ProfileError, match=r"tones\.busy\.steps\[0\]\.freqs"):
        _Reader("x.toml").profile("x", bad_step)
    with pytest.raises(ProfileError, match=r"caller_id\.standard"):
        _Reader("x.toml").profile("x", dict(good, caller_id={"standard": "x", "alert": "x"}))


def test_generator_is_phase_continuous_and_cadenced() -> None:
    tone = load_profile("uk").tone("ringback")
    whole = generate_tone(tone, 6.0)
    gen = ToneGenerator(tone)
    pieces = np.concatenate([gen.read(n) for n in [1, 159, 160, 7, 4000] * 10][:])
    assert np.array_equal(pieces, whole[:pieces.size])
    on = np.abs(whole.astype(np.int32)).reshape(-1, 80).max(axis=1) > 100  # 10 ms blocks
    # 400 on, 200 off, 400 on, 2000 off: 40 + 20 + 40 + 200 blocks, then again.
    assert on[:40].all() and not on[40:60].any() and on[60:100].all()
    assert not on[100:300].any() and on[300:340].all()


def test_stutter_plays_its_intro_once_then_continues() -> None:
    tone = load_profile("us").tone("stutter")
    signal = generate_tone(tone, 3.0)
    on = np.abs(signal.astype(np.int32)).reshape(-1, 800).max(axis=1) > 100  # 100 ms
    assert list(on[:20]) == [True, False] * 10 and on[20:].all()


def test_india_modulated_tone_has_its_carrier_and_sidebands() -> None:
    step = load_profile("in").tone("dial").steps[0]
    signal = generate_tone(load_profile("in").tone("dial"), 1.0).astype(np.float64)
    freqs = [375.0, 400.0, 425.0, 450.0]
    power = power_per_sine(goertzel(signal, freqs, 8000), signal.size)[0]
    assert abs(power[1] / dbm0_to_mean_square(step.level_dbm0) - 1) < 0.05
    side = (MODULATION_DEPTH / 2) ** 2
    assert abs(power[0] / power[1] - side) < 0.01 and abs(power[2] / power[1] - side) < 0.01
    assert power[3] / power[1] < 1e-4


def _same_sound(profile_code: str, a: str, b: str) -> bool:
    p = load_profile(profile_code)
    ta, tb = p.tone(a), p.tone(b)
    return (ta.steps, ta.intro, ta.intro_times) == (tb.steps, tb.intro, tb.intro_times)


@pytest.mark.parametrize("code", COUNTRIES)
def test_every_tone_is_detected_back(code: str) -> None:
    profile = load_profile(code)
    for tone in profile.tones:
        intro = sum(s.duration_ms or 0 for s in tone.intro) * tone.intro_times
        seconds = min(22.0, max(3.0, (2 * (tone.period_ms or 0) + intro) / 1000 + 1.5))
        signal = np.concatenate([np.zeros(800, dtype=np.int16), generate_tone(tone, seconds)])
        found = detect_tones(signal, profile)
        names = {s.name for s in found}
        assert len(found) == 1, (tone.name, found)
        (name,) = names
        assert name == tone.name or _same_sound(code, name, tone.name), (tone.name, found)
        assert found[0].start_ms == pytest.approx(100, abs=20)


def test_japan_uses_one_tone_for_busy_and_congestion() -> None:
    assert _same_sound("jp", "busy", "congestion")


@pytest.mark.parametrize("code", [c for c in COUNTRIES if not _same_sound(c, "busy", "congestion")])
def test_busy_and_congestion_are_told_apart(code: str) -> None:
    profile = load_profile(code)
    for name in ("busy", "congestion"):
        found = detect_tones(generate_tone(profile.tone(name), 6.0), profile)
        assert [s.name for s in found] == [name]


def test_streaming_events_and_no_tone_in_dtmf_or_silence() -> None:
    profile = load_profile("de")
    detector = ToneDetector(profile)
    events = []
    signal = np.concatenate([generate_tone(profile.tone("dial"), 2.0),
                             np.zeros(4000, dtype=np.int16),
                             generate_tone(profile.tone("busy"), 3.0)])
    for start in range(0, signal.size, 160):
        events += detector.feed(signal[start:start + 160])
    events += detector.flush()
    assert [(e.name, e.kind) for e in events] == [
        ("dial", "start"), ("dial", "end"), ("busy", "start"), ("busy", "end")]
    assert detect_tones(generate_dtmf("123456789"), profile) == []
    assert detect_tones(np.zeros(16000, dtype=np.int16), profile) == []
