"""Benchmark: DTMF and call-progress tone detection, ours against spandsp, on one core.

Both detectors get the same audio cut into the same 20 ms (160-sample) int16 frames,
one call per frame, as a line port would feed them. Throughput is printed as multiples
of real time, with the ratio ours / spandsp. Goal for DTMF: at least 1000x real time and
at least half spandsp's speed.

    .venv/bin/python tools/bench_dsp.py [--seconds 16]

--seconds is the whole time budget; each of the four measurements gets a quarter.
spandsp is reached through the test suite's ctypes wrappers (tests/ref), the one copy.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware.dsp.dtmf import DtmfDetector, generate_dtmf  # noqa: E402
from firmware.dsp.profiles import load_profile  # noqa: E402
from firmware.dsp.tone_detect import ToneDetector  # noqa: E402
from firmware.dsp.tones import generate_tone  # noqa: E402
from tests.ref.spandsp_dtmf import SpandspDtmfRx  # noqa: E402
from tests.ref.spandsp_tone import SpandspToneRx  # noqa: E402

FRAME = 160
RATE = 8000


def _frames(signal: npt.NDArray[np.int16]) -> list[npt.NDArray[np.int16]]:
    usable = signal[: signal.size - signal.size % FRAME]
    return [frame.copy() for frame in usable.reshape(-1, FRAME)]


def _rate(run: Callable[[list[npt.NDArray[np.int16]]], int],
          frames: list[npt.NDArray[np.int16]], budget: float) -> tuple[float, int]:
    """Multiples of real time, and how many detections one pass over the audio gave."""
    found = run(frames)  # warm-up pass, and the detection count
    passes, spent = 0, 0.0
    while spent < budget or passes == 0:
        start = time.perf_counter()
        run(frames)
        spent += time.perf_counter() - start
        passes += 1
    audio_seconds = passes * len(frames) * FRAME / RATE
    return audio_seconds / spent, found


def _ours_dtmf(frames: list[npt.NDArray[np.int16]]) -> int:
    detector = DtmfDetector()
    found = 0
    for frame in frames:
        found += len(detector.feed(frame))
    return found + len(detector.flush())


def _spandsp_dtmf(frames: list[npt.NDArray[np.int16]]) -> int:
    rx = SpandspDtmfRx()
    for frame in frames:
        rx.feed_raw(frame.ctypes.data, FRAME)
    found = len(rx.get()) + len(rx.feed(np.zeros(800, dtype=np.int16)))
    rx.close()
    return found


def _tone_runner(profile_code: str) -> tuple[Callable[..., int], Callable[..., int]]:
    profile = load_profile(profile_code)

    def ours(frames: list[npt.NDArray[np.int16]]) -> int:
        detector = ToneDetector(profile)
        found = 0
        for frame in frames:
            found += sum(1 for e in detector.feed(frame) if e.kind == "start")
        return found + sum(1 for e in detector.flush() if e.kind == "start")

    def theirs(frames: list[npt.NDArray[np.int16]]) -> int:
        rx = SpandspToneRx(profile)
        for frame in frames:
            rx.feed_raw(frame.ctypes.data, FRAME)
        found = sum(1 for name, _ in rx.reports if name is not None)
        rx.close()
        return found

    return ours, theirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=16.0, help="total time budget")
    args = parser.parse_args(argv)
    budget = max(0.2, args.seconds / 4)

    # DTMF: 16 keys at 100/100 ms between stretches of silence, 20 s of audio.
    keys = generate_dtmf("0123456789*#ABCD")
    pause = np.zeros(RATE * 2, dtype=np.int16)
    dtmf_audio = np.tile(np.concatenate([keys, pause]), 4)
    # Tones: a call's worth of US call progress.
    us = load_profile("us")
    tone_audio = np.concatenate([generate_tone(us.tone(name), seconds) for name, seconds in
                                 (("dial", 3), ("ringback", 12), ("busy", 4),
                                  ("congestion", 3))])

    print(f"one core, {FRAME}-sample (20 ms) frames; budget {args.seconds:.0f} s")
    print(f"{'detector':<10} {'audio s':>8} {'ours x rt':>10} {'spandsp x rt':>13} "
          f"{'ours/spandsp':>13} {'found ours/spandsp':>19}")
    rows = [("DTMF", dtmf_audio, _ours_dtmf, _spandsp_dtmf),
            ("tones us", tone_audio, *_tone_runner("us"))]
    ok = True
    for name, audio, ours, theirs in rows:
        frames = _frames(audio)
        ours_rate, ours_found = _rate(ours, frames, budget)
        their_rate, their_found = _rate(theirs, frames, budget)
        ratio = ours_rate / their_rate
        print(f"{name:<10} {audio.size / RATE:8.1f} {ours_rate:10.0f} {their_rate:13.0f} "
              f"{ratio:13.2f} {ours_found:>9}/{their_found}")
        if name == "DTMF":
            ok = ours_rate >= 1000 and ratio >= 0.5
    print("DTMF goal (>= 1000x real time, >= 0.5x spandsp):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
