"""``make bench``: every benchmark of tools/, one after another, then a summary.

Runs those of the SCRIPTS below that exist (signals, echo canceller, co-processor, board,
INVITE flood, configuration commit, console, web page), each as its own process with the
project's interpreter (.venv/bin/python), its output under a heading; a script that fails
or overruns its share of the time is reported and the next one runs. Then
tools/bench_box.py (the daemon with real SIP peers), and a summary: how each script ended,
and the box's figures against the issue's goals. Figures are printed, never asserted; the
exit status is 1 only if a script failed.

    .venv/bin/python tools/bench.py [--quick]

--quick shortens every measurement window (a smoke run of a few minutes); the full run
keeps within about ten minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
SCRIPTS = ("bench_dsp.py", "bench_cid.py", "bench_echo.py", "bench_coproc.py", "bench_board.py",
           "bench_flood.py", "bench_config.py", "bench_console.py", "bench_web.py",
           "bench_prompts.py", "bench_recording.py", "bench_rectap.py", "bench_informer.py",
           "bench_records.py",
           "bench_office.py", "bench_hub.py")
BOX = "bench_box.py"
BOX_JSON = ROOT / "bench-out" / "box.json"


@dataclass(frozen=True)
class Budget:
    total_s: float  # the whole run
    box_s: float  # kept for bench_box.py whatever the others take
    script_s: float  # at most, for each of the other scripts


# bench_prompts.py alone takes about 130 s since its SIP part (2026-12-07).
FULL = Budget(total_s=780.0, box_s=120.0, script_s=150.0)
QUICK = Budget(total_s=240.0, box_s=60.0, script_s=30.0)


@dataclass
class Outcome:
    script: str
    status: str  # "ok", "FAILED (exit N)", "TIMED OUT", "not present", "skipped: ..."
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status.startswith(("FAILED", "TIMED OUT"))


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def quick_args(path: Path) -> list[str]:
    """What makes a script short: its own --quick, else a small --seconds."""
    source = path.read_text(errors="replace")
    if '"--quick"' in source:
        return ["--quick"]
    if '"--seconds"' in source:
        return ["--seconds", "1"]
    return []


def run_script(path: Path, args: list[str], timeout: float) -> Outcome:
    """Run one script, its output streamed under a heading; kill its process group if it
    overruns ``timeout``."""
    cmd = [python(), str(path), *args]
    print(f"\n=== {path.name} {' '.join(args)}".rstrip(), flush=True)
    print(f"    (at most {timeout:.0f} s)", flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def pump() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            sys.stdout.write(raw.decode("utf-8", "replace"))
            sys.stdout.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(2)
        seconds = time.monotonic() - start
        print(f"=== {path.name}: TIMED OUT after {seconds:.0f} s, stopped; going on",
              flush=True)
        return Outcome(path.name, "TIMED OUT", seconds)
    reader.join(5)
    seconds = time.monotonic() - start
    if code != 0:
        print(f"=== {path.name}: FAILED with exit status {code} after {seconds:.0f} s; "
              "going on", flush=True)
        return Outcome(path.name, f"FAILED (exit {code})", seconds)
    return Outcome(path.name, "ok", seconds)


def box_table(since: float) -> list[str]:
    """The box figures from bench-out/box.json, if this run wrote it."""
    try:
        if BOX_JSON.stat().st_mtime < since:
            return ["(bench-out/box.json was not written by this run)"]
        data = json.loads(BOX_JSON.read_text())
    except (OSError, ValueError) as exc:
        return [f"(no box results: {exc})"]
    rows = [(r["figure"], r["measured"], r["goal"], r["result"]) for r in data["table"]]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  [{r[2]}]  {r[3]}" for r in rows]
    m = data["machine"]
    lines.append(f"machine: {m['arch']}, {m['cpu']}, {m['cores']} cores; {m['date']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="short windows in every benchmark (a smoke run)")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    wall_start = time.time()
    start = time.monotonic()
    outcomes: list[Outcome] = []
    for name in SCRIPTS:
        path = TOOLS / name
        if not path.exists():
            outcomes.append(Outcome(name, "not present"))
            continue
        left = budget.total_s - (time.monotonic() - start) - budget.box_s
        timeout = min(budget.script_s, left)
        if timeout < 5:
            print(f"\n=== {name}: skipped, no time left in the {budget.total_s:.0f} s budget")
            outcomes.append(Outcome(name, "skipped: no time left"))
            continue
        outcomes.append(run_script(path, quick_args(path) if args.quick else [], timeout))
    box = TOOLS / BOX
    box_args = ["--quick"] if args.quick else []
    left = max(budget.box_s, budget.total_s - (time.monotonic() - start))
    outcomes.append(run_script(box, box_args, left) if box.exists()
                    else Outcome(BOX, "not present"))
    total = time.monotonic() - start

    print("\n=== summary" + (" (quick)" if args.quick else ""))
    width = max(len(o.script) for o in outcomes)
    for o in outcomes:
        took = f"{o.seconds:5.0f} s" if o.seconds else "      -"
        print(f"  {o.script:<{width}}  {took}  {o.status}")
    print(f"  {'total':<{width}}  {total:5.0f} s")
    print("\nbox figures (goals from the issue; a MISS is reported, not a failure):")
    for line in box_table(wall_start):
        print(f"  {line}")
    failed = [o.script for o in outcomes if o.failed]
    if failed:
        print(f"\nbench: {', '.join(failed)} did not finish cleanly (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
