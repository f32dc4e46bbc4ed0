"""``minipbx calls`` and ``minipbx stats``: the call records and the live load of the
running box, as a table for people or JSON/CSV for programs."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir

CSV_COLUMNS = ("uid", "start", "answer", "end", "duration", "billsec", "caller_number",
               "caller_name", "caller_ext", "called_number", "called_name", "callee_ext",
               "direction", "route", "trunk", "path", "queue_wait", "disposition", "status",
               "cause", "cause_name", "hangup_side", "reason", "recording")
PAGE = 1000


def add_calls_parser(sub: Any) -> None:
    calls = sub.add_parser("calls", help="call records of the running box, newest first")
    calls.add_argument("--since", help="30m, 1h, 7d, or a date (2026-12-07) or time")
    calls.add_argument("--extension", help="calls an extension made or was called in")
    calls.add_argument("--disposition",
                       help="answered, busy, 'no answer', abandoned, failed, or missed "
                            "(no answer, abandoned or busy to the extension)")
    calls.add_argument("--limit", type=int, default=50,
                       help="at most this many (default 50; 0 = all, with --json/--csv)")
    fmt = calls.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    calls.set_defaults(func=_calls)
    stats = sub.add_parser("stats", help="live load: calls in progress, busy channels, "
                                         "calls per minute over 5 and 60 minutes")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=_stats)


def _fetch(args: argparse.Namespace) -> list[dict[str, Any]]:
    query = {k: getattr(args, k) for k in ("since", "extension", "disposition")
             if getattr(args, k)}
    want = args.limit if args.limit > 0 else None
    rows: list[dict[str, Any]] = []
    while want is None or len(rows) < want:
        size = PAGE if want is None else min(PAGE, want - len(rows))
        page = call(chosen_state_dir(args), "calls",
                    {**query, "limit": size, "offset": len(rows)})
        rows += page["calls"]
        if len(page["calls"]) < size:
            break
    return rows


def _calls(args: argparse.Namespace) -> int:
    rows = _fetch(args)
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    elif args.csv:
        out = csv.writer(sys.stdout)
        out.writerow(CSV_COLUMNS)
        for r in rows:
            out.writerow([_csv_value(c, r.get(c)) for c in CSV_COLUMNS])
    else:
        print(format_calls(rows))
    return 0


def _csv_value(column: str, value: Any) -> Any:
    if column in ("start", "answer", "end") and value is not None:
        return _iso(float(value))
    if column == "path":
        return ">".join(value or [])
    if column == "recording":
        return (value or {}).get("state", "") if isinstance(value, dict) else ""
    return "" if value is None else value


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def _party(number: Any, name: Any) -> str:
    number = number or "-"
    return f"{number} ({name})" if name else str(number)


def format_calls(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No calls."
    lines = [f"{'start':<19}  {'from':<22} {'to':<22} {'disposition':<11} "
             f"{'talk':>7} {'ended by':<8} via"]
    for r in rows:
        talk = f"{r['billsec']:.0f} s" if r.get("answer") is not None else "-"
        via = r.get("trunk") or r.get("route") or r.get("direction") or ""
        if r.get("path"):
            via += " " + ">".join(r["path"])
        if r.get("recording"):
            via += " [rec]"
        lines.append(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(r['start']))}  "
                     f"{_party(r.get('caller_number'), r.get('caller_name')):<22.22} "
                     f"{_party(r.get('called_number'), r.get('called_name')):<22.22} "
                     f"{r['disposition']:<11} {talk:>7} {r.get('hangup_side') or '-':<8} "
                     f"{via.strip()}")
    return "\n".join(lines)


def _stats(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "load")
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(format_stats(result))
    return 0


def format_stats(s: dict[str, Any]) -> str:
    lines = [f"Calls in progress: {s['calls_in_progress']}"]
    for kind in ("trunk", "line", "group"):
        busy = s["channels"].get(kind) or {}
        if busy:
            shown = ", ".join(f"{k} {v}" for k, v in sorted(busy.items()))
            lines.append(f"Busy per {kind}: {shown}")
    for name, w in s["windows"].items():
        wait = w.get("avg_queue_wait_s")
        lines.append(f"Last {name}: {w['calls']} calls ({w['calls_per_minute']}/min), "
                     f"{w['answered']} answered, {w['missed']} missed, peak "
                     f"{w['peak_in_progress']} at once"
                     + (f", average queue wait {wait} s" if wait is not None else ""))
    return "\n".join(lines)
