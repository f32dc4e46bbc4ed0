"""Benchmark of the co-processor link: event latency and host CPU per port.

1. Latency: an emulated handset (tools/coproc_emulator.py, the MCU's own code) goes
   off-hook and on-hook; for each edge, the time from the instant the MCU decided it (the
   raw change plus the debounce for an off-hook, the break plus flash_max for a hang-up)
   to the moment the host backend hands the HookEdge to its sink, over a real pty.
   Mean and p99, and the same from the raw hook change (debounce included). The figure
   includes the emulator's 1 ms sampling (as on the RP2040) but not the UART's own time
   on the wire: a 14-byte event frame takes 1.2 ms at 115200 bit/s.
2. Host CPU: the emulator runs in a child process with 8 FXS ports; this process runs only
   the backend. Process CPU time over a few seconds, idle and with all 8 ports ringing the
   UK cadence (the busiest common one: four events per 3 s per port), divided per port.

Runs in about 15 s: ``python tools/bench_coproc.py [--json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from drivers.base import HookEdge, LineSignal
from drivers.coproc import CoprocBoard, FxsTiming

ROOT = Path(__file__).resolve().parent.parent

# Short hook windows so a hang-up is decided quickly and a cycle takes ~100 ms.
BENCH_TIMING = FxsTiming(debounce_ms=10, pulse_break_min_ms=15, pulse_break_max_ms=20,
                         pulse_make_min_ms=15, pulse_make_max_ms=20, flash_min_ms=30,
                         flash_max_ms=40, interdigit_ms=250)
CYCLES = 60
CPU_WINDOW_S = 3.0
PORTS = 8


def load_emulator() -> Any:
    spec = importlib.util.spec_from_file_location("coproc_emulator",
                                                  ROOT / "tools" / "coproc_emulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["coproc_emulator"] = module
    spec.loader.exec_module(module)
    return module


class Sink:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.edges: list[tuple[HookEdge, float]] = []

    def __call__(self, signal: LineSignal) -> None:
        received = time.monotonic()
        if isinstance(signal, HookEdge):
            with self.cond:
                self.edges.append((signal, received))
                self.cond.notify_all()

    def wait(self, count: int, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.edges) >= count, timeout)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def bench_latency() -> dict[str, float]:
    emulator = load_emulator().CoprocEmulator("S")
    sink = Sink()
    decided: list[float] = []
    raw: list[float] = []
    with emulator:
        board = CoprocBoard(emulator.path, fxs={1: 0}, fxs_timing=BENCH_TIMING)
        board.start(sink)
        try:
            if not board.wait_connected(5.0):
                raise SystemExit("the backend never connected to the emulator")
            t0 = emulator._t0  # the emulator's ms 0 on time.monotonic()
            for i in range(2 * CYCLES):
                offhook = i % 2 == 0
                # set() returns the ms after the one whose sample shows the new level
                change_ms = (emulator.offhook(0) if offhook else emulator.onhook(0)) - 1
                if not sink.wait(i + 1):
                    raise SystemExit(f"edge {i} never arrived")
                _, received = sink.edges[i]
                hold = BENCH_TIMING.debounce_ms if offhook else BENCH_TIMING.flash_max_ms + 1
                raw.append((received - (t0 + change_ms / 1000)) * 1000)
                decided.append(raw[-1] - hold)
                time.sleep(0.01)
        finally:
            board.close()
    return {"edges": len(decided), "link_mean_ms": statistics.fmean(decided),
            "link_p99_ms": p99(decided), "link_min_ms": min(decided),
            "hook_mean_ms": statistics.fmean(raw), "hook_p99_ms": p99(raw)}


def bench_cpu() -> dict[str, float]:
    child = subprocess.Popen([sys.executable, str(ROOT / "tools" / "coproc_emulator.py"),
                              "--ports", "S" * PORTS], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        path = child.stdout.readline().strip()
        board = CoprocBoard(path, fxs={i + 1: i for i in range(PORTS)})
        board.start(lambda signal: None)
        try:
            if not board.wait_connected(5.0):
                raise SystemExit("the backend never connected to the emulator process")
            idle = cpu_over(CPU_WINDOW_S)
            for port in board.fxs:
                port.start_ringing([400, 200, 400, 2000], 25.0)
            ringing = cpu_over(CPU_WINDOW_S)
        finally:
            board.close()
    finally:
        child.terminate()
        child.wait(timeout=5)
    return {"ports": PORTS, "idle_pct_per_port": idle / PORTS,
            "ringing_pct_per_port": ringing / PORTS}


def cpu_over(seconds: float) -> float:
    """Percent of one core this process used over ``seconds`` of wall time."""
    cpu0, wall0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = {**bench_latency(), **bench_cpu(), "seconds": 0.0}
    result["seconds"] = time.monotonic() - started
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"co-processor link over a pty, {result['edges']} hook edges:")
    print(f"  MCU decision -> HookEdge at the host: mean {result['link_mean_ms']:.2f} ms, "
          f"p99 {result['link_p99_ms']:.2f} ms, min {result['link_min_ms']:.2f} ms")
    print(f"  raw hook change -> HookEdge (debounce/flash window included): mean "
          f"{result['hook_mean_ms']:.2f} ms, p99 {result['hook_p99_ms']:.2f} ms")
    print(f"host CPU, {PORTS} FXS ports: idle {result['idle_pct_per_port']:.3f} % of a core "
          f"per port, ringing {result['ringing_pct_per_port']:.3f} % per port")
    print(f"({result['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
