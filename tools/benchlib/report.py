"""The box benchmark's report: figures against the issue's goals, the machine, the table.

Printed, never asserted: a MISS is information, not a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from typing import Any

GOALS = {
    "dialtone": "within 20 ms",
    "invite": "within 10 ms",
    "audio": "under 40 ms",
    "echo": "under 40 ms",
    "cpu": "under 2 % of a core per call, at most 1.5x baresip",
    "rss": "under 80 MB",
    "idle": "under 0.3 % of a core (issue 13)",
}
LABELS = {
    "dialtone": "1. Off-hook to dial tone",
    "invite": "2. Last digit to INVITE on the wire",
    "audio": "3. Audio delay one way (internal call)",
    "echo": "3b. Audio delay via SIP (sipp echo RTT / 2)",
    "cpu": "4. CPU per call",
    "rss": "5. Resident memory",
    "idle": "6. Idle daemon, 9 lines",
}


def summary(values: list[float], unit: str) -> dict[str, Any]:
    return {"n": len(values), "unit": unit, "median": round(statistics.median(values), 2),
            "max": round(max(values), 2), "min": round(min(values), 2),
            "values": [round(v, 2) for v in values]}


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "arch": platform.machine(), "cpu": model, "cores": os.cpu_count(),
            "kernel": platform.release(), "python": platform.python_version()}


def judge(figs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows of (label, measured, goal, PASS/MISS) for every figure."""
    rows = []
    d = figs.get("dialtone")
    if isinstance(d, dict) and "median" in d:
        rows.append((LABELS["dialtone"], f"median {d['median']:.1f} ms, max {d['max']:.1f} ms",
                     GOALS["dialtone"], verdict(d["max"] <= 20.0)))
    else:
        rows.append((LABELS["dialtone"], _err(d), GOALS["dialtone"], "ERROR"))
    d = figs.get("invite")
    if isinstance(d, dict) and "median" in d:
        rows.append((LABELS["invite"], f"median {d['median']:.1f} ms, max {d['max']:.1f} ms",
                     GOALS["invite"], verdict(d["max"] <= 10.0)))
    else:
        rows.append((LABELS["invite"], _err(d), GOALS["invite"], "ERROR"))
    d = figs.get("audio")
    if isinstance(d, dict) and "median" in d:
        rows.append((LABELS["audio"], f"median {d['median']:.1f} ms, max {d['max']:.1f} ms",
                     GOALS["audio"], verdict(d["max"] < 40.0)))
    else:
        rows.append((LABELS["audio"], _err(d), GOALS["audio"], "ERROR"))
    d = figs.get("echo")
    if isinstance(d, dict) and "median" in d:
        rows.append((LABELS["echo"], f"median {d['median']:.1f} ms, max {d['max']:.1f} ms "
                     f"(RTT median {d['rtt_median_ms']:.1f} ms)", GOALS["echo"],
                     verdict(d["max"] < 40.0)))
    else:
        rows.append((LABELS["echo"], _err(d), GOALS["echo"], "ERROR"))
    d = figs.get("cpu")
    if isinstance(d, dict) and "calls_4" in d:
        parts, oks = [], []
        for n in (1, 4):
            c = d[f"calls_{n}"]
            ratio = c["ratio"]
            parts.append(f"{n} call{'s' if n > 1 else ''}: {c['daemon_per_call_pct']:.2f} %"
                         f" (baresip {c['baresip_per_call_pct']:.2f} %, "
                         f"{'x' + format(ratio, '.2f') if ratio is not None else 'ratio n/a'})")
            oks.append(c["daemon_per_call_pct"] < 2.0)
            oks.append(ratio is not None and ratio <= 1.5)
        rows.append((LABELS["cpu"], "; ".join(parts), GOALS["cpu"], verdict(all(oks))))
        rows.append((LABELS["rss"], f"idle {d['rss_idle_mb']:.1f} MB, 4 calls "
                     f"{d['rss_4_calls_mb']:.1f} MB", GOALS["rss"],
                     verdict(max(d["rss_idle_mb"], d["rss_4_calls_mb"]) < 80.0)))
    else:
        rows.append((LABELS["cpu"], _err(d), GOALS["cpu"], "ERROR"))
        rss = d.get("rss_idle_mb") if isinstance(d, dict) else None
        rows.append((LABELS["rss"], f"idle {rss:.1f} MB, 4 calls not measured"
                     if rss is not None else _err(d), GOALS["rss"], "ERROR"))
    if isinstance(d, dict) and "idle" in d:
        idle = d["idle"]
        kind = d.get("line_ports", "?")
        rows.append((LABELS["idle"], f"{idle['daemon_pct']:.2f} % ({kind} line ports; baresip "
                     f"{idle['baresip_pct']:.2f} %)", GOALS["idle"],
                     verdict(idle["daemon_pct"] < 0.3)))
    return rows


def missing(what: str) -> dict[str, Any]:
    raise RuntimeError(f"{what} did not start (see the notes)")


def _err(d: Any) -> str:
    return f"not measured: {d.get('error', '?')}" if isinstance(d, dict) else "not measured"


def print_figure(key: str, figs: dict[str, Any]) -> None:
    row = next(r for r in judge(figs) if r[0] == LABELS[key])
    print(f"{row[0]}: {row[1]}  [goal: {row[2]}] {row[3]}", flush=True)


def print_table(info: dict[str, Any], rows: list[tuple[str, str, str, str]]) -> None:
    print()
    print(f"minipbx box benchmark, {info['date']}")
    print(f"machine: {info['arch']}, {info['cpu']}, {info['cores']} cores, "
          f"Linux {info['kernel']}, Python {info['python']}")
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    print(f"{'figure':<{w0}}  {'measured':<{w1}}  {'goal':<{w2}}  result")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * w2}  ------")
    for r in rows:
        print(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]:<{w2}}  {r[3]}")
