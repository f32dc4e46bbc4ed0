#!/usr/bin/env python3
"""Bench the line-board drivers on this host, with no hardware.

1. Host CPU of the direct-GPIO backend (gpiozero MockFactory), per port: idle, ringing with
   the ring wave on a PWM pin, and ringing with the software toggle thread. Process CPU
   time over a few seconds of each, as % of one core.
2. The audio drift buffer between a codec clock and the bridge clock at +-100 ppm and +-1 %
   (simulated clocks, 20 minutes each): depth range and drift corrections per minute.

    .venv/bin/python tools/bench_board.py [--seconds 2] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from drivers.alsa.audio import drift_buffer_for
from drivers.alsa.clocksim import simulate_drift
from drivers.gpio import GpioBoard
from drivers.profile import load_board_profile

PROFILE = "ag1171-gpio-2p"
US_CADENCE = [2000, 4000]  # TELEPHONY.md: US, 20 Hz
RING_HZ = 20.0


def cpu_percent(seconds: float) -> float:
    wall0, cpu0 = time.monotonic(), time.process_time()
    time.sleep(seconds)
    return 100.0 * (time.process_time() - cpu0) / (time.monotonic() - wall0)


def bench_gpio(seconds: float) -> dict[str, float]:
    saved = Device.pin_factory
    out: dict[str, float] = {}
    try:
        for label, pin_class in (("pwm", MockPWMPin), ("software", MockPin)):
            factory = MockFactory(pin_class=pin_class)
            Device.pin_factory = factory
            profile = load_board_profile(PROFILE)
            if label == "software":
                fxs = tuple(dataclasses.replace(p, ring_drive="software") for p in profile.fxs)
                profile = dataclasses.replace(profile, fxs=fxs)
            board = GpioBoard(profile, pin_factory=factory)
            board.start(lambda signal: None)
            try:
                if label == "pwm":
                    out["idle_board"] = cpu_percent(seconds)
                port = board.fxs[0]
                # Ring continuously so the whole window is a burst (the worst case).
                port.start_ringing([int(seconds * 1000) + 1000, 1000], RING_HZ)
                out[f"ringing_{label}"] = cpu_percent(seconds)
                port.stop_ringing()
            finally:
                board.close()
                factory.reset()
    finally:
        Device.pin_factory = saved
    ports = len(load_board_profile(PROFILE).fxs) + len(load_board_profile(PROFILE).fxo)
    out["idle_per_port"] = out["idle_board"] / ports
    return out


def bench_drift(minutes: float) -> list[dict[str, float]]:
    rows = []
    for ppm in (100, -100, 10_000, -10_000):
        for period_ms in (20, 10):
            buf = drift_buffer_for(period_ms)
            run = simulate_drift(buf, ppm=ppm, seconds=minutes * 60,
                                 push_samples=period_ms * 8, pop_samples=160)
            rows.append({
                "ppm": ppm, "alsa_period_ms": period_ms,
                "depth_min_ms": run.min_depth / 8, "depth_max_ms": run.max_depth / 8,
                "target_ms": buf.target / 8,
                "corrections_per_min": run.corrections_per_minute,
                "expected_per_min": abs(ppm) * 1e-6 * 8000 * 60,
                "underruns": run.stats.underruns, "overruns": run.stats.overruns,
            })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="CPU sampling window per case (default 2)")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="simulated minutes per drift case (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    started = time.monotonic()
    gpio = bench_gpio(args.seconds)
    drift = bench_drift(args.minutes)
    result = {"gpio_cpu_percent": gpio, "drift": drift,
              "elapsed_s": time.monotonic() - started}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"GPIO backend ({PROFILE}, MockFactory), process CPU in % of one core:")
    print(f"  idle, whole board       {gpio['idle_board']:6.3f} %  "
          f"({gpio['idle_per_port']:.3f} % per port)")
    print(f"  one port ringing, PWM   {gpio['ringing_pwm']:6.3f} %")
    print(f"  one port ringing, soft  {gpio['ringing_software']:6.3f} %  "
          f"(F/R toggled from Python at {RING_HZ:g} Hz)")
    print(f"Drift buffer, {args.minutes:g} simulated minutes per case (band +-15 ms):")
    print("     ppm  period  target  depth ms      corr/min  (drift/min)  underruns  overruns")
    for r in drift:
        print(f"  {r['ppm']:+6d}  {r['alsa_period_ms']:4d} ms  {r['target_ms']:4.0f} ms  "
              f"{r['depth_min_ms']:5.1f}..{r['depth_max_ms']:5.1f}  {r['corrections_per_min']:8.1f}"
              f"  ({r['expected_per_min']:7.1f})  {r['underruns']:9d}  {r['overruns']:8d}")
    print(f"done in {result['elapsed_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
