"""Benchmark of call recording: the real daemon on the simulated board (4 handsets), figures
printed, never asserted.

1. CPU per recorded call: two internal calls with both handsets of each playing a tone;
   the daemon's share of one core with the calls not recorded, then with both recorded
   (the on-demand code keyed on each), per recorded call = (recorded - plain) / 2.
   The writer thread's own share is shown too.
2. Encode time per call minute: opusenc (at nice 19, as the daemon runs it) on a 60 s
   stereo and a 60 s mono 8 kHz WAV of speech-like audio (espeak-ng speech in each
   channel when it is installed, else tones with noise): CPU seconds and wall seconds,
   and how many times smaller than the WAV the Ogg Opus file is.

    .venv/bin/python tools/bench_recording.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.procstat import cpu_percent, thread_seconds  # noqa: E402

from firmware.app import recencode  # noqa: E402
from tests.e2e.harness import Daemon, sine  # noqa: E402
from tests.e2e.peers import box_config  # noqa: E402

PHONES = 4


def connect(d: Daemon, a: int, b: int) -> None:
    d.phone(a, "offhook")
    d.dial(a, str(100 + b))
    d.wait_for("ringing", lambda: d.port(f"fxs{b}")["ringing"])
    d.phone(b, "offhook")
    d.wait_for("connected", lambda: d.port(f"fxs{a}")["with"] == f"fxs{b}")


def talk(d: Daemon, seconds: float) -> None:
    for port, hz in zip(range(1, PHONES + 1), (500, 700, 900, 1100), strict=True):
        d.speak(port, sine(hz, seconds))


def writer_seconds(pid: int) -> float:
    return sum(s for name, s in thread_seconds(pid).values() if name.startswith("rec-"))


def recorded_call_cpu(window: float) -> dict[str, float]:
    phones = [{"port": n, "extension": str(100 + n), "record": "on_demand"}
              for n in range(1, PHONES + 1)]
    with TemporaryDirectory(prefix="bench-rec-") as tmp:
        d = Daemon(Path(tmp), box_config(fxs=phones), extra_args=["--board", "sim"])
        try:
            d.wait_ready()
            pid = d.proc.pid
            connect(d, 1, 2)
            connect(d, 3, 4)
            talk(d, 3 * window + 10)
            time.sleep(0.5)
            plain = cpu_percent([pid], window)[0]
            d.dial(1, "*1")
            d.dial(3, "*1")
            d.wait_for("two recordings", lambda: d.call("status")["recording"]["active"] == 2)
            time.sleep(0.5)
            before = writer_seconds(pid)
            recorded = cpu_percent([pid], window)[0]
            writer = 100.0 * (writer_seconds(pid) - before) / window
            status = d.call("status")["recording"]
            for port in range(1, PHONES + 1):
                d.phone(port, "onhook")
        finally:
            d.stop()
    return {"plain": plain, "recorded": recorded, "per_call": (recorded - plain) / 2,
            "writer": writer, "dropped": float(status["dropped_frames"])}


def speechlike(seconds: float, seed: int, tmp: Path) -> np.ndarray:
    """8 kHz int16: espeak-ng reading a text, repeated, else tones with noise."""
    if shutil.which("espeak-ng"):
        out = tmp / f"speech{seed}.wav"
        text = ("The quick brown fox jumps over the lazy dog. " if seed == 0
                else "Please hold, your call is important to us. ") * 3
        subprocess.run(["espeak-ng", "-w", str(out), text], check=True, capture_output=True)
        with wave.open(str(out)) as w:
            raw = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)
            rate = w.getframerate()
        step = rate / 8000
        voice = raw[(np.arange(int(len(raw) / step)) * step).astype(int)]
        reps = int(np.ceil(seconds * 8000 / len(voice)))
        return np.tile(voice, reps)[: int(seconds * 8000)].astype(np.int16)
    rng = np.random.default_rng(seed)
    tone = sine(400 + 300 * seed, seconds).astype(np.float64)
    return np.clip(tone + rng.normal(0, 500, tone.size), -32768, 32767).astype(np.int16)


def encode_figures(tmp: Path, seconds: float) -> list[str]:
    lines = []
    left, right = speechlike(seconds, 0, tmp), speechlike(seconds, 1, tmp)
    for channels in (2, 1):
        wav = tmp / f"call{channels}.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(8000)
            data = (np.stack([left, right], 1) if channels == 2
                    else np.clip(left.astype(np.int32) + right, -32768, 32767).astype("<i2"))
            w.writeframes(data.astype("<i2").tobytes())
        t0 = time.monotonic()
        done = recencode.encode(wav, tmp / f"call{channels}.opus", channels, seconds)
        wall = time.monotonic() - t0
        per_minute = 60.0 / seconds
        ratio = wav.stat().st_size / done.bytes
        lines.append(f"encode {'stereo' if channels == 2 else 'mono'}: "
                     f"{done.cpu_s * per_minute:.2f} s CPU and {wall * per_minute:.2f} s wall "
                     f"per call minute (check included), {done.bytes * per_minute / 1024:.0f} "
                     f"KiB per minute, {ratio:.1f} times smaller than the WAV")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    window = 3.0 if args.quick else 10.0
    missing = recencode.tools_missing()
    if missing:
        print(f"skipped: {' and '.join(missing)} not installed (Debian: opus-tools)")
        return 0
    with TemporaryDirectory(prefix="bench-rec-enc-") as tmp:
        for line in encode_figures(Path(tmp), 20.0 if args.quick else 60.0):
            print(line, flush=True)
    c = recorded_call_cpu(window)
    print(f"daemon CPU (% of one core), 2 internal calls talking: not recorded "
          f"{c['plain']:.1f}, both recorded {c['recorded']:.1f}; per recorded call "
          f"{c['per_call']:.2f} (writer and encoder threads {c['writer']:.2f} in all); "
          f"frames dropped {c['dropped']:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
