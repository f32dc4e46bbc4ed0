"""The echo canceller's C block filter (firmware/dsp/native/echo.c) against the numpy one.

firmware.dsp.fdaf (numpy) is the reference: the C transforms, the C filter's weights and
estimates, and the whole canceller's output on the same calls must match it closely, and
both must meet the targets of tests/dsp/test_echo.py (ERLE, double talk). Without the
library (or with a stale one) the canceller must fall back to numpy and say so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp import fdaf, fdaf_native
from firmware.dsp.echo import BLOCK_SAMPLES, EchoCanceller
from firmware.dsp.fdaf_native import NativeBlockFilter, NativeUnavailable, load, make_filter
from tests.dsp import echo_material as m

ROOT = Path(__file__).resolve().parents[2]
SECOND = m.FS
TARGET_ERLE_DB = 30.0
DOUBLE_TALK_TOLERANCE_DB = 3.0
# The two paths round differently (FFT, sums) and the canceller makes thresholded
# decisions on those sums, so outputs may part by a sample unit now and then; a real
# disagreement (a wrong sign, a missed update) shows as far more.
MAX_ERLE_GAP_DB = 0.5
MOST_SAMPLES_WITHIN = 1  # int16 units


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)
    load()  # raises (the test fails) if it was built but does not load or match


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, m.FloatArray]:
    folder: Path = tmp_path_factory.mktemp("espeak")
    return {"far": m.far_speech(folder), "near": m.near_speech(folder)}


@pytest.mark.parametrize("block", [160, 1, 2, 5, 7, 12, 40])
def test_transforms_match_numpy(block: int) -> None:
    f = NativeBlockFilter(block, 2 * block, 1.0)
    rng = np.random.default_rng(block)
    x = rng.standard_normal(2 * block) * 1000.0
    want = np.fft.rfft(x)
    assert np.allclose(f.rfft(x), want, rtol=0.0, atol=1e-12 * np.abs(want).max())
    # Imaginary parts in the first and last bins are ignored, as numpy's irfft does.
    spectrum = want + 1j * rng.standard_normal(block + 1)
    back = np.fft.irfft(spectrum, 2 * block)
    assert np.allclose(f.irfft(spectrum), back, rtol=0.0, atol=1e-12 * np.abs(back).max())


@pytest.mark.parametrize(("block", "taps"), [(160, 512), (160, 64), (16, 40)])
def test_filter_follows_the_numpy_filter(block: int, taps: int) -> None:
    """Step by step, with copies, a reopened uncertainty and a reset on the way."""
    floor = 3.0
    numpy_filter = fdaf.PartitionedBlockFilter(block, taps, floor)
    native = NativeBlockFilter(block, taps, floor)
    assert native.partitions == numpy_filter.partitions
    rng = np.random.default_rng(taps)
    path = rng.standard_normal(taps) * np.exp(-np.arange(taps) / (taps / 4.0))
    far = rng.standard_normal(60 * block) * 1000.0
    near = np.convolve(far, path)[: far.size] + rng.standard_normal(far.size) * 10.0
    for k in range(60):
        if k == 20:
            for f in (numpy_filter, native):
                f.copy_background_to_foreground()
        if k == 30:
            for f in (numpy_filter, native):
                f.open_uncertainty(forget=True)
        if k == 35:
            for f in (numpy_filter, native):
                f.copy_foreground_to_background()
        if k == 45:
            for f in (numpy_filter, native):
                f.reset()
        a = k * block
        estimates = []
        for f in (numpy_filter, native):
            f.push_far(far[a:a + block])
            e = f.estimates().copy()
            f.adapt(near[a:a + block] - e[0])
            estimates.append(e)
        scale = max(float(np.abs(estimates[0]).max()), 1.0)
        assert np.allclose(estimates[1], estimates[0], rtol=0.0, atol=1e-9 * scale), k
        for which in (fdaf.BACKGROUND, fdaf.FOREGROUND):
            want = numpy_filter.weights[which]
            got = native.weights(foreground=which == fdaf.FOREGROUND)
            assert np.allclose(got, want, rtol=0.0,
                               atol=1e-9 * max(float(np.abs(want).max()), 1e-6)), (k, which)


def _front_numpy(rows: npt.NDArray[np.float64], f: fdaf.PartitionedBlockFilter) -> list[float]:
    f.push_far(rows[0])
    rows[4:] = f.estimates()
    rows[2:4] = rows[1] - rows[4:]
    return [*(rows * rows).sum(axis=1), *np.abs(rows[:4]).max(axis=1)]


def test_front_matches_its_numpy_steps() -> None:
    numpy_filter = fdaf.PartitionedBlockFilter(BLOCK_SAMPLES, 256, 1.0)
    native = NativeBlockFilter(BLOCK_SAMPLES, 256, 1.0)
    rows = np.zeros((6, BLOCK_SAMPLES))
    native.bind_rows(rows)
    reference = np.zeros((6, BLOCK_SAMPLES))
    rng = np.random.default_rng(3)
    for _ in range(10):
        far, near = rng.standard_normal((2, BLOCK_SAMPLES)) * 3000.0
        rows[0], rows[1] = far, near
        reference[0], reference[1] = far, near
        got = native.front()
        want = _front_numpy(reference, numpy_filter)
        assert np.allclose(rows, reference, rtol=1e-12, atol=1e-9)
        assert np.allclose(got, want, rtol=1e-12)
        for f in (native, numpy_filter):
            f.adapt(rows[2])


def test_bind_rows_refuses_the_wrong_array() -> None:
    native = NativeBlockFilter(BLOCK_SAMPLES, 256, 1.0)
    with pytest.raises(RuntimeError):
        native.front()
    for wrong in (np.zeros((5, BLOCK_SAMPLES)), np.zeros((6, BLOCK_SAMPLES), np.float32),
                  np.zeros((BLOCK_SAMPLES, 6)).T):
        with pytest.raises(ValueError):
            native.bind_rows(wrong)


def _run(call: m.Call, tail_ms: int, nlp: bool, native: bool) -> npt.NDArray[np.int16]:
    canceller = EchoCanceller(tail_ms, nlp=nlp, seed=7, native=native)
    assert canceller.native is native
    out = [canceller.process(call.far[a:a + BLOCK_SAMPLES], call.near[a:a + BLOCK_SAMPLES])
           for a in range(0, call.far.size - BLOCK_SAMPLES + 1, BLOCK_SAMPLES)]
    return np.concatenate(out)


def _close(a: npt.NDArray[np.int16], b: npt.NDArray[np.int16]) -> tuple[int, float]:
    """The largest difference and the share of samples more than a unit apart."""
    d = np.abs(a.astype(np.int64) - b)
    return int(d.max()), float((d > MOST_SAMPLES_WITHIN).mean())


@pytest.mark.parametrize(("tail_ms", "erl_db", "seed"), [(8, 6.0, 1), (64, 10.0, 4)])
def test_canceller_in_c_matches_numpy_on_speech(
        material: dict[str, m.FloatArray], tail_ms: int, erl_db: float, seed: int) -> None:
    far = material["far"]
    echo = m.echo(far, m.hybrid(tail_ms, seed), erl_db)
    noisy = m.make_call(far, echo, m.noise(far.size, m.NOISE_LEVEL_DBM0, seed))
    quiet = m.make_call(far, echo, np.zeros(far.size))
    for call, nlp in ((noisy, False), (quiet, True), (noisy, True)):
        outs = [_run(call, tail_ms, nlp, native) for native in (False, True)]
        erle = [m.erle_db(call, out, SECOND, far.size) for out in outs]
        largest, apart = _close(*outs)
        print(f"\ntail {tail_ms} ms, ERL {erl_db:.0f} dB, NLP {nlp}: ERLE from 1 s numpy "
              f"{erle[0]:.2f} dB, C {erle[1]:.2f} dB; outputs differ by {largest} at most, "
              f"{100 * apart:.3f} % of samples by more than {MOST_SAMPLES_WITHIN}")
        assert abs(erle[1] - erle[0]) <= MAX_ERLE_GAP_DB or min(erle) >= 60.0
        assert apart <= 1e-3
        if nlp and call is quiet:
            assert min(erle) >= TARGET_ERLE_DB
        else:
            assert m.erle_db(call, outs[1], 3 * SECOND, far.size) >= TARGET_ERLE_DB


def test_double_talk_in_c_as_in_numpy(material: dict[str, m.FloatArray]) -> None:
    tail_ms, erl_db, seed = 32, 6.0, 11
    talk, near_speech = material["far"], m.at_level(material["near"], m.NEAR_LEVEL_DBM0)
    far = np.concatenate((talk, talk[: 6 * SECOND]))
    near = np.zeros(far.size)
    start = 6 * SECOND
    near[start:start + near_speech.size] = near_speech
    added = near + m.noise(far.size, m.NOISE_LEVEL_DBM0, seed)
    call = m.make_call(far, m.echo(far, m.hybrid(tail_ms, seed), erl_db), added)
    both = [_run(call, tail_ms, True, native) for native in (False, True)]
    largest, apart = _close(*both)
    blocks = far.size // BLOCK_SAMPLES
    speech = (near[: blocks * BLOCK_SAMPLES].reshape(blocks, -1) ** 2).sum(axis=1)
    talking = speech > speech.max() * 1e-3
    levels = []
    for out in both:
        o = out[: blocks * BLOCK_SAMPLES].reshape(blocks, -1).astype(np.float64)[talking]
        w = call.near_added[: blocks * BLOCK_SAMPLES].reshape(blocks, -1)[talking]
        levels.append(10.0 * np.log10((o * o).sum() / (w * w).sum()))
    print(f"\ndouble talk, tail {tail_ms} ms: near-end speech level numpy {levels[0]:+.2f} dB, "
          f"C {levels[1]:+.2f} dB; outputs differ by {largest} at most, "
          f"{100 * apart:.3f} % of samples by more than {MOST_SAMPLES_WITHIN}")
    assert all(abs(level) <= DOUBLE_TALK_TOLERANCE_DB for level in levels)
    assert abs(levels[1] - levels[0]) <= 0.2
    assert apart <= 1e-3


def test_comfort_noise_is_the_same_in_c_and_numpy(
        material: dict[str, m.FloatArray]) -> None:
    """The NLP's comfort noise comes from the same xorshift32 lanes in both paths: on a
    noisy line, where it replaces most of the echo, the outputs agree sample for sample
    but for the FFTs' rounding."""
    tail_ms, erl_db, seed = 32, 15.0, 3
    far = material["far"]
    call = m.make_call(far, m.echo(far, m.hybrid(tail_ms, seed), erl_db),
                       m.noise(far.size, m.NOISE_LEVEL_DBM0, seed))
    outs = [_run(call, tail_ms, True, native) for native in (False, True)]
    largest, _ = _close(*outs)
    same = float((outs[0] == outs[1]).mean())
    print(f"\ncomfort noise, tail {tail_ms} ms: {100 * same:.3f} % of samples equal, "
          f"{largest} apart at most")
    assert largest <= MOST_SAMPLES_WITHIN
    assert same >= 0.999
    # The noise is there: quiet blocks are not silent.
    assert float(np.abs(outs[1]).mean()) > 1.0


def test_frames_as_bytes_in_c_as_in_numpy() -> None:
    """process_bytes (a line's frames, far end missing now and then) gives what process
    gives, on both paths."""
    far = m.noise(2 * SECOND, m.FAR_LEVEL_DBM0, 5)
    call = m.make_call(far, m.echo(far, m.hybrid(16, 5), 10.0),
                       m.noise(far.size, m.NOISE_LEVEL_DBM0, 5))
    far16 = np.clip(np.rint(call.far), -32768, 32767).astype("<i2")
    near16 = np.clip(np.rint(call.near), -32768, 32767).astype("<i2")
    results = []
    for native in (False, True):
        by_bytes = EchoCanceller(16, seed=4, native=native)
        by_arrays = EchoCanceller(16, seed=4, native=native)
        got, want = [], []
        for k, a in enumerate(range(0, far16.size, BLOCK_SAMPLES)):
            f, n = far16[a:a + BLOCK_SAMPLES], near16[a:a + BLOCK_SAMPLES]
            silent = k % 7 == 3
            got.append(by_bytes.process_bytes(None if silent else f.tobytes(), n.tobytes()))
            want.append(by_arrays.process(np.zeros_like(f) if silent else f, n).tobytes())
        assert got == want
        results.append(b"".join(got))
        batch = EchoCanceller(16, seed=4, native=native)
        framed = EchoCanceller(16, seed=4, native=native)
        assert batch.process_bytes(far16[:800].tobytes(), near16[:800].tobytes()) == b"".join(
            framed.process_bytes(far16[a:a + 160].tobytes(), near16[a:a + 160].tobytes())
            for a in range(0, 800, 160))
        with pytest.raises(ValueError):
            batch.process_bytes(b"\0" * 320, b"\0" * 318)
    d = np.abs(np.frombuffer(results[0], "<i2").astype(np.int64)
               - np.frombuffer(results[1], "<i2"))
    assert int(d.max()) <= MOST_SAMPLES_WITHIN


def test_status_in_c_as_in_numpy(material: dict[str, m.FloatArray]) -> None:
    far = material["far"][: 4 * SECOND]
    call = m.make_call(far, m.echo(far, m.hybrid(32, 2), 10.0),
                       m.noise(far.size, m.NOISE_LEVEL_DBM0, 2))
    statuses = []
    for native in (False, True):
        canceller = EchoCanceller(32, seed=2, native=native)
        canceller.process(call.far, call.near)
        statuses.append(canceller.status)
    numpy_status, c_status = statuses
    assert c_status.converged == numpy_status.converged
    assert c_status.nlp_active == numpy_status.nlp_active
    assert c_status.double_talk == numpy_status.double_talk
    assert abs(c_status.erl_db - numpy_status.erl_db) < 0.01
    assert abs(c_status.erle_db - numpy_status.erle_db) < 0.01


def test_default_is_c_when_built() -> None:
    assert EchoCanceller().native


def test_missing_library_falls_back_to_numpy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "libecho.so"
    monkeypatch.setenv(fdaf_native.ENV_LIB, str(missing))
    with caplog.at_level(logging.INFO, logger=fdaf_native.__name__):
        chosen = make_filter(BLOCK_SAMPLES, 512, 1.0)
    assert isinstance(chosen, fdaf.PartitionedBlockFilter)
    assert "numpy block filter" in caplog.text and str(missing) in caplog.text
    canceller = EchoCanceller(64, seed=1)
    assert not canceller.native
    far = m.noise(2 * SECOND, m.FAR_LEVEL_DBM0, 1)
    call = m.make_call(far, m.echo(far, m.hybrid(64, 1), 10.0), np.zeros(far.size))
    out = canceller.process(call.far, call.near)
    assert m.erle_db(call, out, SECOND, far.size) >= TARGET_ERLE_DB
    with pytest.raises(NativeUnavailable):
        EchoCanceller(64, native=True)


def test_numpy_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fdaf_native.ENV_NATIVE, "0")
    assert not EchoCanceller().native
    assert EchoCanceller(native=True).native


def test_a_library_that_disagrees_with_fdaf_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A constant changed in fdaf.py but not in echo.c (or the other way round)."""
    copy = tmp_path / "libecho.so"
    shutil.copy(fdaf_native.DEFAULT_LIB, copy)
    monkeypatch.setattr(fdaf, "PROCESS_NOISE", 2 * fdaf.PROCESS_NOISE)
    with pytest.raises(NativeUnavailable, match="disagrees"):
        load(copy)
    monkeypatch.setenv(fdaf_native.ENV_LIB, str(copy))
    assert not EchoCanceller().native


def test_line_status_names_the_filter() -> None:
    from firmware.app.lineecho import FRAME_BYTES, LineEcho

    said = (m.noise(BLOCK_SAMPLES, m.FAR_LEVEL_DBM0, 2)).astype("<i2").tobytes()
    echo = LineEcho("fxs1", lambda: said, lambda frame: None)
    echo.set_active(True)
    echo.write(bytes(FRAME_BYTES))
    echo.read()
    assert echo.status()["filter"] == "C"
