"""Line echo canceller (firmware.dsp.echo) on simulated hybrids, side by side with speexdsp.

The material is espeak-ng speech (and white noise) sent into simulated hybrids of 8 to
64 ms tail and 6 to 20 dB echo return loss (tests/dsp/echo_material.py). Figures for
ours and for speexdsp's canceller on the same audio are printed (pytest -s); the
assertions are on ours against the targets of issue 11, not against speexdsp.

ERLE here is G.168's: the echo's power over the echo left in the output. "Linear" is the
adaptive filter alone (NLP off, as speexdsp's canceller is); "with NLP" is the canceller
as it runs on a line, measured without near-end noise so that the comfort noise is not
counted as echo (G.168 measures returned echo with the NLP on the same way).

Where the issue's target (30 dB within 1 s of speech) is met: by the canceller with its
NLP on every simulated hybrid, on white noise by the linear filter too, and on speech by
the linear filter for tails up to 16 ms; with 32 and 64 ms tails the linear filter needs
about 3 s of espeak-ng speech (speexdsp's about as long or longer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.echo import BLOCK_SAMPLES, TAIL_MS_MAX, TAIL_MS_MIN, EchoCanceller
from tests.dsp import echo_material as m
from tests.ref.speexdsp_echo import SpeexEchoCanceller

FS = m.FS
SECOND = FS
TARGET_ERLE_DB = 30.0
LINEAR_WITHIN_1_S_MAX_TAIL_MS = 16
DOUBLE_TALK_TOLERANCE_DB = 3.0
# (tail of the canceller in ms, echo return loss in dB, seed of the hybrid)
HYBRIDS = [(8, 6.0, 1), (16, 10.0, 2), (32, 15.0, 3), (64, 20.0, 4), (64, 6.0, 5)]
NO_NOISE = np.zeros(0)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, m.FloatArray]:
    folder: Path = tmp_path_factory.mktemp("espeak")
    return {"far": m.far_speech(folder), "near": m.near_speech(folder)}


def _call(far: m.FloatArray, path: m.FloatArray, erl_db: float, near: m.FloatArray,
          noise_dbm0: float | None, seed: int) -> m.Call:
    added = np.zeros(far.size)
    added[: min(near.size, far.size)] += near[: far.size]
    if noise_dbm0 is not None:
        added += m.noise(far.size, noise_dbm0, seed)
    return m.make_call(far, m.echo(far, path, erl_db), added)


def _ours(call: m.Call, tail_ms: int, nlp: bool) -> npt.NDArray[np.int16]:
    return EchoCanceller(tail_ms, nlp=nlp, seed=7).process(call.far, call.near)


def _speex(call: m.Call, tail_ms: int) -> npt.NDArray[np.int16]:
    canceller = SpeexEchoCanceller(BLOCK_SAMPLES, tail_ms * FS // 1000)
    try:
        return canceller.process(call.far, call.near)
    finally:
        canceller.close()


def _curve(call: m.Call, out: npt.NDArray[np.int16], seconds: float = 0.5) -> str:
    step = int(seconds * SECOND)
    return " ".join(f"{m.erle_db(call, out, a, a + step):3.0f}"
                    for a in range(0, call.far.size - step + 1, step))


@pytest.mark.parametrize(("tail_ms", "erl_db", "seed"), HYBRIDS)
def test_speech_converges_within_one_second(
        material: dict[str, m.FloatArray], tail_ms: int, erl_db: float, seed: int) -> None:
    far = material["far"]
    path = m.hybrid(tail_ms, seed)
    noisy = _call(far, path, erl_db, NO_NOISE, m.NOISE_LEVEL_DBM0, seed)
    quiet = _call(far, path, erl_db, NO_NOISE, None, seed)
    linear = _ours(noisy, tail_ms, nlp=False)
    theirs = _speex(noisy, tail_ms)
    with_nlp = _ours(quiet, tail_ms, nlp=True)
    end = far.size
    figures = {
        "ours linear": m.erle_db(noisy, linear, SECOND, end),
        "speex linear": m.erle_db(noisy, theirs, SECOND, end),
        "ours with NLP": m.erle_db(quiet, with_nlp, SECOND, end),
    }
    print(f"\ntail {tail_ms} ms, ERL {erl_db:.0f} dB, speech {end / SECOND:.1f} s; "
          f"ERLE from 1 s on: " + ", ".join(f"{k} {v:.1f} dB" for k, v in figures.items()))
    print(f"  per 0.5 s, ours linear: {_curve(noisy, linear)}")
    print(f"  per 0.5 s, speex:       {_curve(noisy, theirs)}")
    print(f"  per 0.5 s, ours NLP:    {_curve(quiet, with_nlp)}")
    # The canceller as it runs on a line meets the target within 1 s on every hybrid; its
    # linear filter alone does for tails up to 16 ms, and within 3 s for the longer ones
    # (speexdsp's does no better: see the figures printed).
    assert figures["ours with NLP"] >= TARGET_ERLE_DB
    if tail_ms <= LINEAR_WITHIN_1_S_MAX_TAIL_MS:
        assert figures["ours linear"] >= TARGET_ERLE_DB
    assert m.erle_db(noisy, linear, 3 * SECOND, end) >= TARGET_ERLE_DB


@pytest.mark.parametrize(("tail_ms", "erl_db", "seed"), HYBRIDS)
def test_noise_converges_within_one_second(tail_ms: int, erl_db: float, seed: int) -> None:
    far = m.noise(4 * SECOND, m.FAR_LEVEL_DBM0, seed + 100)
    call = _call(far, m.hybrid(tail_ms, seed), erl_db, NO_NOISE, m.NOISE_LEVEL_DBM0, seed)
    ours = _ours(call, tail_ms, nlp=False)
    theirs = _speex(call, tail_ms)
    erle, speex_erle = (m.erle_db(call, out, SECOND, far.size) for out in (ours, theirs))
    print(f"\nwhite noise, tail {tail_ms} ms, ERL {erl_db:.0f} dB: linear ERLE from 1 s on: "
          f"ours {erle:.1f} dB, speex {speex_erle:.1f} dB; per 0.25 s ours "
          f"{_curve(call, ours, 0.25)}")
    assert erle >= TARGET_ERLE_DB


def _active_blocks(signal: m.FloatArray, below_peak_db: float = 30.0) -> npt.NDArray[np.bool_]:
    blocks = signal[: signal.size // BLOCK_SAMPLES * BLOCK_SAMPLES].reshape(-1, BLOCK_SAMPLES)
    power = (blocks * blocks).sum(axis=1)
    active: npt.NDArray[np.bool_] = power > power.max() * 10.0 ** (-below_peak_db / 10.0)
    return active


def _loudest_second_db(out: npt.ArrayLike, near: npt.ArrayLike) -> float:
    """The most a second of output exceeds the same second of input by, in dB."""
    whole = np.asarray(out).size // SECOND * SECOND
    o, i = (np.asarray(x, dtype=np.float64)[:whole].reshape(-1, SECOND) for x in (out, near))
    return float((10.0 * np.log10((o * o).sum(axis=1) / (i * i).sum(axis=1))).max())


def _blocks(signal: npt.ArrayLike) -> m.FloatArray:
    x = np.asarray(signal, dtype=np.float64)
    out: m.FloatArray = x[: x.size // BLOCK_SAMPLES * BLOCK_SAMPLES].reshape(-1, BLOCK_SAMPLES)
    return out


@pytest.mark.parametrize(("tail_ms", "erl_db", "seed", "near_dbm0"),
                         [(32, 6.0, 11, m.NEAR_LEVEL_DBM0), (64, 15.0, 12, m.NEAR_LEVEL_DBM0),
                          (32, 6.0, 11, -30.0)])
def test_double_talk_keeps_near_speech_and_the_filter(
        material: dict[str, m.FloatArray], tail_ms: int, erl_db: float, seed: int,
        near_dbm0: float) -> None:
    """The last case is hard: the near-end talker 14 dB below the far end's, and 8 dB below
    the echo itself."""
    talk, near_speech = material["far"], m.at_level(material["near"], near_dbm0)
    far = np.concatenate((talk, talk[: 6 * SECOND]))
    near = np.zeros(far.size)
    start = 6 * SECOND
    near[start:start + near_speech.size] = near_speech
    call = _call(far, m.hybrid(tail_ms, seed), erl_db, near, m.NOISE_LEVEL_DBM0, seed)
    with_nlp = _ours(call, tail_ms, nlp=True)
    linear = _ours(call, tail_ms, nlp=False)
    theirs = _speex(call, tail_ms)

    speech_blocks = _active_blocks(near)[: with_nlp.size // BLOCK_SAMPLES]
    double_talk = speech_blocks & _active_blocks(far)[: speech_blocks.size]
    out, wanted, s = (_blocks(x)[double_talk] for x in (with_nlp, call.near_added, near))
    level = 10.0 * np.log10((out * out).sum() / (wanted * wanted).sum())
    gain = 20.0 * np.log10((out * s).sum() / (s * s).sum())
    after = start + near_speech.size + SECOND
    during = (m.erle_db(call, linear, start, start + near_speech.size),
              m.erle_db(call, theirs, start, start + near_speech.size))
    afterwards = (m.erle_db(call, linear, after, far.size),
                  m.erle_db(call, theirs, after, far.size))
    print(f"\ndouble talk, tail {tail_ms} ms, ERL {erl_db:.0f} dB, near end at {near_dbm0:.0f} "
          f"dBm0 (far end {m.FAR_LEVEL_DBM0:.0f}), "
          f"{double_talk.sum() * BLOCK_SAMPLES / SECOND:.1f} s of it: near-end speech level "
          f"{level:+.1f} dB, gain {gain:+.1f} dB (with NLP); linear ERLE during: ours "
          f"{during[0]:.1f} dB, speex {during[1]:.1f} dB; after: ours {afterwards[0]:.1f} dB, "
          f"speex {afterwards[1]:.1f} dB")
    assert abs(level) <= DOUBLE_TALK_TOLERANCE_DB
    assert abs(gain) <= DOUBLE_TALK_TOLERANCE_DB
    assert afterwards[0] >= TARGET_ERLE_DB


@pytest.mark.parametrize(("tail_ms", "before", "after"),
                         [(32, (10.0, 21), (6.0, 22)), (64, (20.0, 23), (8.0, 24)),
                          (64, (6.0, 25), (15.0, 26))])
def test_changed_echo_path_is_learnt_again(
        material: dict[str, m.FloatArray], tail_ms: int, before: tuple[float, int],
        after: tuple[float, int]) -> None:
    far = material["far"]
    change = 8 * SECOND
    echoes = [m.echo(far, m.hybrid(tail_ms, seed), erl) for erl, seed in (before, after)]
    echo = np.concatenate((echoes[0][:change], echoes[1][change:]))
    noisy = m.make_call(far, echo, m.noise(far.size, m.NOISE_LEVEL_DBM0, 3))
    quiet = m.make_call(far, echo, np.zeros(far.size))
    linear = _ours(noisy, tail_ms, nlp=False)
    theirs = _speex(noisy, tail_ms)
    with_nlp = _ours(quiet, tail_ms, nlp=True)
    one_s_on = change + SECOND
    figures = (m.erle_db(noisy, linear, one_s_on, far.size),
               m.erle_db(noisy, theirs, one_s_on, far.size),
               m.erle_db(quiet, with_nlp, one_s_on, far.size))
    print(f"\npath change at 8 s, tail {tail_ms} ms, ERL {before[0]:.0f} to {after[0]:.0f} dB: "
          f"ERLE from 1 s after: ours linear {figures[0]:.1f} dB, speex {figures[1]:.1f} dB, "
          f"ours with NLP {figures[2]:.1f} dB")
    print(f"  per 0.5 s, ours linear: {_curve(noisy, linear)}")
    print(f"  per 0.5 s, speex:       {_curve(noisy, theirs)}")
    print(f"  per 0.5 s, ours NLP:    {_curve(quiet, with_nlp)}")
    assert figures[2] >= TARGET_ERLE_DB
    assert m.erle_db(noisy, linear, change + 3 * SECOND, far.size) >= TARGET_ERLE_DB


def _ten_minutes(talk: m.FloatArray, near_speech: m.FloatArray, seed: int
                 ) -> tuple[m.FloatArray, m.FloatArray]:
    """Far-end speech with pauses and level changes, and near-end speech now and then."""
    rng = np.random.default_rng(seed)
    total = TEN_MINUTES_S * SECOND
    far = np.zeros(total)
    at = 0
    while at < total:
        piece = talk * 10.0 ** (rng.uniform(-6.0, 4.0) / 20.0)
        piece = piece[: total - at]
        far[at:at + piece.size] = piece
        at += piece.size + int(rng.uniform(0.2, 3.0) * SECOND)
    near = np.zeros(total)
    for start in range(int(20 * SECOND), total - near_speech.size, int(45 * SECOND)):
        near[start:start + near_speech.size] = near_speech
    return far, near


TEN_MINUTES_S = 600
PATH_CHANGE_EVERY_S = 150


@pytest.mark.slow
def test_no_divergence_over_ten_minutes(material: dict[str, m.FloatArray]) -> None:
    tail_ms = 64
    far, near = _ten_minutes(material["far"], material["near"], 5)
    period = PATH_CHANGE_EVERY_S * SECOND
    echo = np.zeros(far.size)
    erls = (12.0, 6.0, 20.0, 9.0)
    for k, start in enumerate(range(0, far.size, period)):
        whole = m.echo(far, m.hybrid(tail_ms, 40 + k), erls[k % len(erls)])
        echo[start:start + period] = whole[start:start + period]
    added = near + m.noise(far.size, m.NOISE_LEVEL_DBM0, 6)
    call = m.make_call(far, echo, added)
    linear = _ours(call, tail_ms, nlp=False)
    with_nlp = _ours(call, tail_ms, nlp=True)
    theirs = _speex(call, tail_ms)
    minute = 60 * SECOND
    # A new path is learnt in seconds (the tests above); here the first 10 s of the call
    # and after each change of path are left out of the figures, the rest counts.
    settled = m.Call(far=call.far, near=call.near, echo=call.echo.copy(),
                     near_clean=call.near_clean)
    for change in range(0, far.size, period):
        settled.echo[change:change + 10 * SECOND] = 0.0
    ours_by_minute = [m.erle_db(settled, linear, a, a + minute)
                      for a in range(0, far.size, minute)]
    speex_by_minute = [m.erle_db(settled, theirs, a, a + minute)
                       for a in range(0, far.size, minute)]
    print(f"\n10 minutes, tail {tail_ms} ms, path changes every {PATH_CHANGE_EVERY_S} s, "
          f"double talk every 45 s; linear ERLE per minute (10 s after a change left out):")
    print("  ours:  " + " ".join(f"{v:5.1f}" for v in ours_by_minute))
    print("  speex: " + " ".join(f"{v:5.1f}" for v in speex_by_minute))
    # Divergence would show as a canceller adding echo: no second of the output may be
    # louder than what came in (comfort noise stands in for the line's noise, so a
    # second of it may differ from that noise by a fraction of a dB either way).
    louder = _loudest_second_db(with_nlp, call.near)
    print(f"  loudest second of output against its input, with NLP: {louder:+.1f} dB")
    assert min(ours_by_minute) >= TARGET_ERLE_DB
    assert louder <= 1.0


def _coloured_noise(samples: int, dbm0: float, seed: int) -> m.FloatArray:
    """Noise with more low than high frequencies, as line noise often is (hum, crosstalk)."""
    white = m.noise(samples + 1, 0.0, seed)
    shaped = white[1:] + 0.8 * white[:-1]
    return m.at_level(shaped, dbm0)


def _band_tilt_db(signal: m.FloatArray) -> float:
    """Power below 1 kHz over power above 2 kHz, in dB."""
    spectrum = np.abs(np.fft.rfft(_blocks(signal), axis=1)) ** 2
    hz = np.fft.rfftfreq(BLOCK_SAMPLES, 1.0 / FS)
    return float(10.0 * np.log10(spectrum[:, hz < 1000].sum() / spectrum[:, hz > 2000].sum()))


def test_comfort_noise_matches_the_near_end_noise(material: dict[str, m.FloatArray]) -> None:
    far = material["far"]
    line_noise = _coloured_noise(far.size, -50.0, 8)
    call = m.make_call(far, m.echo(far, m.hybrid(32, 9), 10.0), line_noise)
    canceller = EchoCanceller(32, seed=3)
    out, replaced = [], []
    for start in range(0, call.far.size, BLOCK_SAMPLES):
        end = start + BLOCK_SAMPLES
        out.append(canceller.process(call.far[start:end], call.near[start:end]))
        replaced.append(canceller.status.nlp_active)
    output = np.concatenate(out).astype(np.float64)
    mask = np.array(replaced)
    mask[: 3 * SECOND // BLOCK_SAMPLES] = False  # learning the noise and the path first
    comfort = _blocks(output)[mask].reshape(-1)
    noise = _blocks(line_noise)[mask].reshape(-1)
    level = m.level_db(comfort) - m.level_db(noise)
    tilt = _band_tilt_db(comfort) - _band_tilt_db(noise)
    print(f"\ncomfort noise over {mask.sum() * BLOCK_SAMPLES / SECOND:.1f} s of echo: level "
          f"{level:+.1f} dB against the line noise, spectral tilt {tilt:+.1f} dB")
    assert mask.sum() * BLOCK_SAMPLES >= 4 * SECOND
    assert abs(level) <= 2.0
    assert abs(tilt) <= 3.0


def test_any_cut_into_whole_blocks_gives_the_same_output(
        material: dict[str, m.FloatArray]) -> None:
    far = material["far"][: 6 * SECOND]
    call = _call(far, m.hybrid(16, 13), 8.0, material["near"][: 3 * SECOND] * 0.5,
                 m.NOISE_LEVEL_DBM0, 14)
    whole = EchoCanceller(16, seed=1).process(call.far, call.near)
    for size in (BLOCK_SAMPLES, 5 * BLOCK_SAMPLES, 7 * BLOCK_SAMPLES):
        canceller = EchoCanceller(16, seed=1)
        pieces = [canceller.process(call.far[a:a + size], call.near[a:a + size])
                  for a in range(0, call.far.size, size)]
        assert np.array_equal(np.concatenate(pieces), whole)


def test_reset_forgets_the_echo_path(material: dict[str, m.FloatArray]) -> None:
    far = material["far"][: 5 * SECOND]
    call = _call(far, m.hybrid(64, 15), 10.0, NO_NOISE, m.NOISE_LEVEL_DBM0, 16)
    fresh = EchoCanceller(64, seed=2).process(call.far, call.near)
    used = EchoCanceller(64, seed=2)
    used.process(call.far, call.near)
    assert used.status.converged
    used.reset()
    assert not used.status.converged
    assert np.array_equal(used.process(call.far, call.near), fresh)


def test_status_measures_erl_and_erle(material: dict[str, m.FloatArray]) -> None:
    far = material["far"]
    call = _call(far, m.hybrid(32, 17), 12.0, NO_NOISE, m.NOISE_LEVEL_DBM0, 18)
    canceller = EchoCanceller(32, nlp=False)
    out = canceller.process(call.far, call.near)
    status = canceller.status
    print(f"\nstatus after {far.size / SECOND:.0f} s: {status}; measured ERLE of the last "
          f"5 s {m.erle_db(call, out, far.size - 5 * SECOND, far.size):.1f} dB")
    assert status.converged and not status.double_talk
    assert abs(status.erl_db - 12.0) <= 3.0
    assert status.erle_db >= 20.0


def test_near_end_passes_untouched_while_the_far_end_is_silent(
        material: dict[str, m.FloatArray]) -> None:
    talk = material["far"][: 4 * SECOND]
    far = np.concatenate((talk, np.zeros(4 * SECOND)))
    near = np.zeros(far.size)
    near[5 * SECOND: 5 * SECOND + 2 * SECOND] = material["near"][: 2 * SECOND]
    call = _call(far, m.hybrid(32, 19), 10.0, near, m.NOISE_LEVEL_DBM0, 20)
    out = EchoCanceller(32).process(call.far, call.near)
    after_tail = 4 * SECOND + 2 * BLOCK_SAMPLES + 32 * FS // 1000
    assert np.array_equal(out[after_tail:], call.near[after_tail:])


@pytest.mark.parametrize("tail_ms", [TAIL_MS_MIN - 1, TAIL_MS_MAX + 1])
def test_a_tail_out_of_range_is_refused(tail_ms: int) -> None:
    with pytest.raises(ValueError, match=f"{tail_ms} ms is out of range"):
        EchoCanceller(tail_ms)


def test_audio_not_in_whole_blocks_is_refused() -> None:
    canceller = EchoCanceller()
    with pytest.raises(ValueError, match="whole blocks of 160 samples"):
        canceller.process(np.zeros(100, np.int16), np.zeros(100, np.int16))
    with pytest.raises(ValueError, match="got 160 and 320"):
        canceller.process(np.zeros(160, np.int16), np.zeros(320, np.int16))


def test_tones_from_the_far_end_do_not_make_it_diverge(
        material: dict[str, m.FloatArray]) -> None:
    """G.168's narrow-band test: a filter that learnt the path on speech is fed tones
    (one frequency tells it nothing about the others) and must still cancel speech after."""
    talk = material["far"]
    t = np.arange(4 * SECOND) / FS
    tones = np.concatenate((
        m.at_level(np.sin(2 * np.pi * 425.0 * t), -10.0),
        generate_dtmf("159#*0", on_ms=300, off_ms=100, level_dbm0=-8.0).astype(np.float64),
        m.at_level(np.sin(2 * np.pi * 1004.0 * t) + np.sin(2 * np.pi * 2400.0 * t), -12.0)))
    far = np.concatenate((talk[: 8 * SECOND], tones, talk[8 * SECOND:]))
    call = _call(far, m.hybrid(32, 30), 10.0, NO_NOISE, m.NOISE_LEVEL_DBM0, 31)
    linear = _ours(call, 32, nlp=False)
    theirs = _speex(call, 32)
    after = 8 * SECOND + tones.size + SECOND
    figures = (m.erle_db(call, linear, after, far.size), m.erle_db(call, theirs, after, far.size))
    louder = _loudest_second_db(linear, call.near)
    print(f"\nafter {tones.size / SECOND:.1f} s of tones: linear ERLE on speech ours "
          f"{figures[0]:.1f} dB, speex {figures[1]:.1f} dB; loudest second against its input "
          f"{louder:+.1f} dB")
    assert figures[0] >= TARGET_ERLE_DB
    assert louder <= 0.0
