"""Benchmark caller ID: Bell 202 MDMF generation time, and decode throughput of our
receiver against spandsp's adsi_rx on the same audio (a 4 s US ring gap holding the
caller ID), both fed 20 ms frames as the line layer does.

    .venv/bin/python tools/bench_cid.py [--seconds 1.0]

Throughput is "x real time": seconds of audio decoded per second of CPU. Runs in a few
seconds. Nothing imports tools/.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware.dsp.callerid import CallerIdInfo
from firmware.dsp.cid_gen import fsk_cid, silence
from firmware.dsp.cid_rx import CidReceiver

FRAME = 160
RATE = 8000
INFO = CallerIdInfo(number="5551234567", name="ALICE SMITH", datetime="01021230")


def _repeat(run: Callable[[], object], budget_s: float) -> tuple[float, int]:
    """Run until `budget_s` has passed (at least 3 times); seconds per run and runs."""
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < budget_s:
        run()
        runs += 1
    return (time.perf_counter() - start) / runs, runs


def _ours(audio: npt.NDArray[np.int16]) -> None:
    receiver = CidReceiver("bell202")
    found = None
    for start in range(0, len(audio), FRAME):
        found = receiver.feed(audio[start:start + FRAME]) or found
    if found is None or found.info != INFO:
        raise SystemExit("bench_cid: our receiver failed to decode the benchmark audio")


def _spandsp(audio: npt.NDArray[np.int16]) -> Callable[[], None] | None:
    try:
        from tests.ref.spandsp_adsi import ADSI_STANDARD_CLASS, SpandspAdsiRx
    except OSError:
        return None
    pcm = np.ascontiguousarray(audio, dtype=np.int16)
    base, step = pcm.ctypes.data, FRAME * pcm.itemsize

    def run() -> None:
        rx = SpandspAdsiRx(ADSI_STANDARD_CLASS)
        for k in range(0, len(pcm), FRAME):
            rx.feed_raw(base + (k // FRAME) * step, min(FRAME, len(pcm) - k))
        if len(rx.messages) != 1:
            raise SystemExit("bench_cid: spandsp failed to decode the benchmark audio")
        rx.close()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="time budget per measurement (default 1.0)")
    args = parser.parse_args(argv)

    per_gen, runs = _repeat(lambda: fsk_cid(INFO, "bell202").samples, args.seconds)
    signal = fsk_cid(INFO, "bell202")
    print(f"Bell 202 MDMF generation: {per_gen * 1000:.2f} ms per caller ID "
          f"({signal.duration_ms:.0f} ms of schedule, {runs} runs)")

    # The 4 s silence between US rings with the caller ID in it; and the FSK burst alone.
    gap = np.concatenate([signal.samples, silence(4000 - signal.duration_ms)])
    burst = signal.samples[signal.samples.nonzero()[0][0]:]
    for label, audio in (("4 s ring gap", gap), ("FSK burst only", burst)):
        audio_s = len(audio) / RATE
        ours, _ = _repeat(partial(_ours, audio), args.seconds / 2)
        line = f"decode {label:15s} ours {audio_s / ours:6.0f} x real time"
        spandsp = _spandsp(audio)
        if spandsp is None:
            line += ", spandsp: libspandsp.so.2 not installed"
        else:
            theirs, _ = _repeat(spandsp, args.seconds / 2)
            line += f", spandsp adsi_rx {audio_s / theirs:6.0f} x real time"
        print(f"{line}  ({audio_s:.2f} s of audio, 20 ms frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
