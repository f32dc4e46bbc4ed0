"""Line echo canceller (firmware.dsp.echo) on simulated hybrids, side by side with speexdsp.

The material is espeak-ng speech (and white noise) sent into simulated hybrids of 8 to
64 ms tail and 6 to 20 dB echo return loss (tests/dsp/echo_material.py). Figures for
ours and for speexdsp's canceller on the same audio are printed (pytest -s); the
assertions are on ours against the targets of issue 11, not against speexdsp.

ERLE here is G.168's: the echo's power over the echo left in the output. "Linear" is the
adaptive filter alone (NLP off, as speexdsp's canceller is); "with NLP" is the canceller
as it runs on a line, measured without near-end noise so that the comfort noise is not
counted as echo (G.168 measures returned echo with the NLP on the same way).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.echo import BLOCK_SAMPLES, TAIL_MS_MAX, TAIL_MS_MIN, EchoCanceller
from tests.dsp import echo_material as m
from tests.ref.speexdsp_echo import SpeexEchoCanceller

FS = m.FS
SECOND = FS
TARGET_ERLE_DB = 30.0
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
    assert figures["ours with NLP"] >= TARGET_ERLE_DB
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
