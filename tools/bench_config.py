"""Benchmark of a configuration commit on the running box: the real daemon on the
simulated board, an internal call up (phones 1 and 2), and N commits, each staged with
``config.set`` and applied with ``config.commit`` over the control socket. Figures are
printed, never asserted.

Commit-to-applied is the round trip of ``config.commit``: the daemon answers once the
candidate is checked, saved (atomic write, fsync, history copy: in a thread) and applied
to the running box. Three kinds of change take turns: a name (the dial plan only), a ring
pattern on an idle line (a new line machine), and a trunk's password (the pjsua2 account
modified in place). At the end: whether the call still carried a tone both ways.

    .venv/bin/python tools/bench_config.py [--quick] [-n N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import Daemon, dominant_hz, sine  # noqa: E402
from tests.e2e.peers import box_config, trunk_to  # noqa: E402

CHANGES = (
    ("fxs.1.name", lambda i: f"Desk {i}"),
    ("fxs.3.ring_pattern", lambda i: "dr2" if i % 2 else "1000/2000"),
    ("trunk.provider.password", lambda i: f"secret-{i}"),
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=None, help="commits (default 60, quick 15)")
    args = parser.parse_args()
    count = args.n or (15 if args.quick else 60)
    phones = [{"port": n, "extension": str(100 + n)} for n in (1, 2, 3)]
    with TemporaryDirectory(prefix="bench-config-") as tmp:
        box = Daemon(Path(tmp), box_config(trunks=[trunk_to("provider", 5060)], fxs=phones))
        try:
            box.wait_ready()
            box.phone(1, "offhook")
            box.dial(1, "102")
            box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"], timeout=10)
            box.phone(2, "offhook")
            box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2")
            stage_ms: dict[str, list[float]] = {path: [] for path, _ in CHANGES}
            commit_ms: dict[str, list[float]] = {path: [] for path, _ in CHANGES}
            print(f"config: {count} commits, internal call 101-102 up", flush=True)
            for i in range(count):
                path, value = CHANGES[i % len(CHANGES)]
                t0 = time.perf_counter()
                box.call("config.set", path=path, value=value(i))
                t1 = time.perf_counter()
                box.call("config.commit", message=f"bench {i}")
                t2 = time.perf_counter()
                stage_ms[path].append((t1 - t0) * 1e3)
                commit_ms[path].append((t2 - t1) * 1e3)
            every = [ms for values in commit_ms.values() for ms in values]
            staged = [ms for values in stage_ms.values() for ms in values]
            box.speak(1, sine(800, 1.0))
            one_way = abs(dominant_hz(box.hear(2, 0.8)) - 800) < 10
            box.speak(2, sine(1200, 1.0))
            other_way = abs(dominant_hz(box.hear(1, 0.8)) - 1200) < 10
            commit = {"median": round(statistics.median(every), 1),
                      "p99": round(percentile(every, 0.99), 1)}
            by_change = {p: round(statistics.median(v), 1) for p, v in commit_ms.items()}
            stage = {"median": round(statistics.median(staged), 1),
                     "p99": round(percentile(staged, 0.99), 1)}
            kept = one_way and other_way
            figures = {"commits": count, "commit_to_applied_ms": commit,
                       "by_change_median_ms": by_change, "stage_ms": stage,
                       "history_versions": len(box.call("config.history")),
                       "call_kept_audio_both_ways": kept}
            print(f"  commit-to-applied: median {commit['median']} ms, p99 {commit['p99']} ms"
                  f" over {count} commits")
            for p, ms in by_change.items():
                print(f"    {p:<26} median {ms} ms")
            print(f"  config.set: median {stage['median']} ms, p99 {stage['p99']} ms")
            print(f"  the call kept its audio both ways: {kept}")
            print("json: " + json.dumps(figures), flush=True)
        finally:
            box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
