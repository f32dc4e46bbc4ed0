"""Benchmark of the call records (issue 10): write 100,000 calls into cdr.sqlite, then time
the queries the CLI, the Calls page and the dashboard make, and what one update of the
dashboard's load chart costs. Figures are printed, never asserted.

    .venv/bin/python tools/bench_records.py [--quick] [-n CALLS]

- write: batches of 1000 (the import path), and one record per commit (the daemon's
  path: WAL, synchronous=FULL, a connection per write) on this machine's disk;
- queries: the median of several runs of each, with the total count the page shows;
- chart: the live load figures from 100,000 records (LoadMeter, the minute buckets of the
  last hour), the SVG and table the feed sends, and the two together (what the dashboard
  feed pays at most every 2 s, whoever watches).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware.app.load import LoadMeter  # noqa: E402
from firmware.records.model import CallRow, Leg  # noqa: E402
from firmware.records.store import CallQuery, CallStore  # noqa: E402
from firmware.web.chart import load_part  # noqa: E402

STATUSES = (["ANSWERED"] * 60 + ["NO_ANSWER"] * 15 + ["BUSY"] * 8 + ["ABANDONED"] * 10
            + ["CONGESTION"] * 5 + ["DENIED"] * 2)
EXTENSIONS = [str(100 + i) for i in range(1, 41)]
TRUNKS = ["provider", "backup", "fxo1"]


def make_rows(n: int, now: float, rng: random.Random) -> list[CallRow]:
    """``n`` calls over the last 90 days, newest last; a few in the last hour."""
    rows = []
    span = 90 * 86400.0
    for i in range(n):
        start = now - span * (1 - i / n) + rng.uniform(0, 30)
        status = rng.choice(STATUSES)
        a = rng.choice(EXTENSIONS)
        outbound = rng.random() < 0.4
        b = None if outbound else rng.choice(EXTENSIONS)
        answer = start + rng.uniform(2, 20) if status == "ANSWERED" else None
        end = (answer + rng.uniform(5, 600)) if answer else start + rng.uniform(1, 60)
        trunk = rng.choice(TRUNKS) if outbound else None
        rows.append(CallRow(
            start=start, end=end, answer=answer, status=status, call_id=i + 1,
            caller_leg=f"fxs{a[-2:]}", caller_number=a, caller_name=f"Person {a}",
            caller_ext=a, called_number=b or f"0049301{i:06d}", callee_ext=b,
            callee_leg=f"fxs{b[-2:]}" if b else f"sip{i}", trunk=trunk,
            direction="outbound" if outbound else "internal",
            route="0." if outbound else None,
            hangup_side=rng.choice(("caller", "callee", "box")), cause=16,
            cause_name="NORMAL_CLEARING", reason="callee hung up",
            legs=(Leg(f"fxs{a[-2:]}", "caller"), Leg(f"sip{i}", "callee", trunk=trunk))))
    return rows


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median milliseconds of ``runs`` calls, and the last result."""
    times = []
    result = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-n", type=int, default=100_000, help="calls in the database")
    args = parser.parse_args()
    runs = 5 if args.quick else 15
    rng = random.Random(2026)
    now = time.time()
    with TemporaryDirectory(prefix="bench-records-") as tmp:
        path = Path(tmp) / "cdr.sqlite"
        store = CallStore(path)
        rows = make_rows(args.n, now, rng)
        t0 = time.perf_counter()
        for i in range(0, len(rows), 1000):
            store.add(rows[i:i + 1000])
        bulk_s = time.perf_counter() - t0
        print(f"records: {args.n} calls written in batches of 1000: {bulk_s:.1f} s "
              f"({args.n / bulk_s:.0f} records/s); database "
              f"{path.stat().st_size / 1e6:.1f} MB")
        one_ms, _ = timed(lambda: store.add([make_rows(1, now, rng)[0]]), 20 if args.quick
                          else 50)
        print(f"records: one record per commit (the daemon's write): {one_ms:.1f} ms median")

        queries: list[tuple[str, CallQuery]] = [
            ("newest 50 (minipbx calls)", CallQuery()),
            ("--since 1h", CallQuery(since=now - 3600)),
            ("--since 7d --extension 101", CallQuery(since=now - 7 * 86400,
                                                     extension="101")),
            ("--extension 101 --disposition missed",
             CallQuery(extension="101", disposition="missed")),
            ("a user's own calls, page 1", CallQuery(mine="117", limit=25)),
            ("sorted by talk time", CallQuery(sort="billsec", limit=25)),
            ("page 2000 (offset 50000)", CallQuery(limit=25, offset=50_000)),
            ("disposition answered, oldest first", CallQuery(disposition="answered",
                                                             descending=False, limit=25)),
        ]
        for name, q in queries:
            ms, (page, total) = timed(lambda q=q: store.query(q), runs)
            print(f"records query: {name:<40} {ms:7.1f} ms  ({len(page)} of {total})")
        uid = store.query(CallQuery(limit=1))[0][0]["uid"]
        ms, _ = timed(lambda: store.get(uid, mine="117"), runs)
        print(f"records query: {'one record with its legs (calls.get)':<40} {ms:7.1f} ms")

        meter = LoadMeter(lambda: store, lambda: {"calls": [], "ports": []})
        stats_ms, stats = timed(lambda: meter._compute(time.time()), runs)
        render_ms, html = timed(lambda: load_part(dict(stats)), runs)  # a new object: drawn
        both_ms, _ = timed(lambda: load_part(meter._compute(time.time())), runs)
        print(f"dashboard chart: load figures from {args.n} records {stats_ms:.1f} ms, "
              f"SVG and table {render_ms:.2f} ms ({len(html) / 1024:.1f} KiB), "
              f"one update {both_ms:.1f} ms (at most every 2 s while someone watches)")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
