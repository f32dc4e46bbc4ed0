"""Which costs less CPU for a SIP leg's audio: a pjsua2 AudioMediaRecorder or a Python
AudioMediaPort tap? Runs pjsua2 alone (null sound device, no SIP call): N tone generators
stand for N call legs' audio, each connected to (a) a recorder writing a WAV, or (b) a
Python port whose ``onFrameReceived`` copies the frame into a bounded deque (what a tap
for the recording writer would do), or (c) nothing (the baseline). Prints the process's
share of one core for each; figures, never asserted.

    .venv/bin/python tools/bench_rectap.py [--seconds 5] [--legs 4]

Each variant runs in a child process of its own (pjsua2 aborts the interpreter on some
teardown mistakes; a child keeps that away from the caller).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def child(kind: str, legs: int, seconds: float, out_dir: str) -> None:
    import collections

    import pjsua2 as pj

    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    cfg.medConfig.clockRate = 8000
    cfg.medConfig.sndClockRate = 8000
    cfg.medConfig.channelCount = 1
    cfg.medConfig.audioFramePtime = 20
    cfg.medConfig.sndAutoCloseTime = -1
    ep.libInit(cfg)
    ep.libStart()
    ep.audDevManager().setNullDev()

    class Tap(pj.AudioMediaPort):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.frames: collections.deque[bytes] = collections.deque(maxlen=500)
            fmt = pj.MediaFormatAudio()
            fmt.type = pj.PJMEDIA_TYPE_AUDIO
            fmt.clockRate, fmt.channelCount, fmt.bitsPerSample = 8000, 1, 16
            fmt.frameTimeUsec, fmt.avgBps, fmt.maxBps = 20000, 128000, 128000
            self.createPort("tap", fmt)

        def onFrameRequested(self, frame: object) -> None:
            pass

        def onFrameReceived(self, frame: object) -> None:
            try:
                self.frames.append(bytes(frame.buf))  # type: ignore[attr-defined]
            except Exception:  # a callback must never raise into pjsua2
                self.frames.clear()

    tones, sinks = [], []
    for i in range(legs):
        tone = pj.ToneGenerator()
        tone.createToneGenerator(8000, 1)
        desc = pj.ToneDesc()
        desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = 400 + 100 * i, 0, 1000, 0
        vec = pj.ToneDescVector()
        vec.append(desc)
        tone.play(vec, True)
        tones.append(tone)
        if kind == "recorder":
            rec = pj.AudioMediaRecorder()
            rec.createRecorder(os.path.join(out_dir, f"leg{i}.wav"))
            tone.startTransmit(rec)
            sinks.append(rec)
        elif kind == "tap":
            tap = Tap()
            tone.startTransmit(tap)
            sinks.append(tap)
        else:
            tone.startTransmit(ep.audDevManager().getPlaybackDevMedia())
    warm = time.monotonic() + 1.0
    while time.monotonic() < warm:
        ep.libHandleEvents(50)
    t0, c0 = time.monotonic(), time.process_time()
    while time.monotonic() - t0 < seconds:
        ep.libHandleEvents(50)
    cpu = 100.0 * (time.process_time() - c0) / (time.monotonic() - t0)
    # The figure first, then leave without pjsua2's teardown (objects alive at libDestroy
    # abort the interpreter; this child has nothing to clean up).
    print(json.dumps({"cpu": cpu}), flush=True)
    os._exit(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--legs", type=int, default=4)
    parser.add_argument("--child", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.legs, args.seconds, args.out)
        return 0
    results = {}
    for kind in ("none", "recorder", "tap"):
        with tempfile.TemporaryDirectory(prefix="bench-rectap-") as out:
            done = subprocess.run([sys.executable, __file__, "--child", kind, "--legs",
                                   str(args.legs), "--seconds", str(args.seconds),
                                   "--out", out], capture_output=True, text=True, timeout=120)
            lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
            if done.returncode != 0 or not lines:
                print(f"{kind}: failed ({done.returncode}) {done.stderr[-300:]}")
                return 1
            results[kind] = json.loads(lines[-1])["cpu"]
    base = results["none"]
    print(f"{args.legs} legs' audio, % of one core: baseline {base:.2f}; pjsua2 recorders "
          f"{results['recorder']:.2f} ({(results['recorder'] - base) / args.legs:+.3f} per "
          f"leg); Python taps {results['tap']:.2f} ({(results['tap'] - base) / args.legs:+.3f}"
          " per leg)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
