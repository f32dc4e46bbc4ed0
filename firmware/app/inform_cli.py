"""``minipbx inform ...`` (the auto-informer's campaigns) and ``minipbx callback status``
(the web call-back's latest requests), over the control socket.

``--numbers`` takes a file (one number a line, or comma separated; ``#`` lines are
comments), ``-`` for stdin, or the list itself (``101,102,95551234``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir

REPORT_COLUMNS = ("number", "result", "attempts", "answered_at", "heard_end", "confirmed",
                  "final", "reason")


def add_inform_parser(sub: Any) -> None:
    inform = sub.add_parser("inform", help="the auto-informer: phone a list of numbers and "
                                           "play them a message")
    verbs = inform.add_subparsers(metavar="VERB")
    start = verbs.add_parser("start", help="start a campaign")
    start.add_argument("name", help="the campaign's name (letters, digits, - and _)")
    start.add_argument("--numbers", required=True, metavar="FILE|LIST",
                       help="a file of numbers, - for stdin, or 101,102,95551234")
    start.add_argument("--message", required=True, metavar="PROMPT",
                       help="what to play: file:NAME.wav, builtin:NAME, say:LANG:TEXT "
                            "(several: comma separated)")
    start.add_argument("--confirm-digit", default="",
                       help="the key that confirms the message was heard (e.g. 1)")
    start.add_argument("--attempts", type=int, default=3, help="calls per number at most")
    start.add_argument("--retry-after", default="2m", help="wait before trying a number "
                                                          "again (90s, 2m, 1h)")
    start.add_argument("--parallel", type=int, default=2, help="calls at once at most")
    start.add_argument("--window", default="", metavar="HH:MM-HH:MM",
                       help="start calls only within these hours (box's local time)")
    start.add_argument("--caller-id", default="", metavar="N",
                       help="number shown to the people called")
    start.set_defaults(func=_start)
    for verb, text in (("status", "a campaign's progress"),
                       ("stop", "stop a campaign; calls in progress are hung up"),
                       ("report", "every number's result")):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("name")
        if verb == "status":
            v.add_argument("--json", action="store_true")
        if verb == "report":
            v.add_argument("--csv", action="store_true", help="CSV for a spreadsheet")
            v.add_argument("--json", action="store_true")
        v.set_defaults(func={"status": _status, "stop": _stop, "report": _report}[verb])
    ls = verbs.add_parser("list", help="every campaign and its state")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)


def add_callback_parser(sub: Any) -> None:
    cb = sub.add_parser("callback", help="the web call-back's requests")
    verbs = cb.add_subparsers(metavar="VERB")
    st = verbs.add_parser("status", help="the latest requests and what became of them")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_callback_status)


def read_numbers(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    path = Path(value)
    if path.is_file():
        return path.read_text("utf-8")
    return value


def _start(args: argparse.Namespace) -> int:
    payload = {"name": args.name, "numbers": read_numbers(args.numbers),
               "message": args.message, "confirm_digit": args.confirm_digit,
               "attempts": args.attempts, "retry_after": args.retry_after,
               "parallel": args.parallel, "window": args.window, "caller_id": args.caller_id}
    summary = call(chosen_state_dir(args), "inform.start", payload)
    print(f"campaign {summary['name']} started: {summary['numbers']} numbers")
    return 0


def _status(args: argparse.Namespace) -> int:
    summary = call(chosen_state_dir(args), "inform.status", {"name": args.name})
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(format_summary(summary))
    return 0


def format_summary(s: dict[str, Any]) -> str:
    results = ", ".join(f"{k} {v}" for k, v in sorted(s["results"].items()))
    return (f"{s['name']}: {s['state']}, {s['done']} of {s['numbers']} numbers done, "
            f"{s['reached']} reached, {s['calling']} calling now, {s['attempts']} calls "
            f"made\n  results: {results}")


def _stop(args: argparse.Namespace) -> int:
    summary = call(chosen_state_dir(args), "inform.stop", {"name": args.name})
    print(format_summary(summary))
    return 0


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def _report(args: argparse.Namespace) -> int:
    report = call(chosen_state_dir(args), "inform.report", {"name": args.name})
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    rows = [{**t, "answered_at": _when(t.get("answered_at"))} for t in report["targets"]]
    if args.csv:
        out = csv.DictWriter(sys.stdout, REPORT_COLUMNS, extrasaction="ignore")
        out.writeheader()
        out.writerows(rows)
        return 0
    print(format_summary(report))
    for r in rows:
        heard = "heard" if r["heard_end"] else ""
        confirmed = f"confirmed {r['confirmed']}" if r["confirmed"] else ""
        extra = ", ".join(x for x in (r["answered_at"] and f"answered {r['answered_at']}",
                                      heard, confirmed, r["reason"]) if x)
        print(f"  {r['number']:<16} {r['result']:<10} {r['attempts']} call(s)"
              f"{'  ' + extra if extra else ''}")
    return 0


def _list(args: argparse.Namespace) -> int:
    campaigns = call(chosen_state_dir(args), "inform.list")
    if args.json:
        print(json.dumps(campaigns, indent=2, sort_keys=True))
        return 0
    for c in campaigns:
        print(f"{c['name']:<20} {c['state']:<8} {c['done']}/{c['numbers']} done, "
              f"{c['reached']} reached")
    return 0


def _callback_status(args: argparse.Namespace) -> int:
    requests = call(chosen_state_dir(args), "callback.status")
    if args.json:
        print(json.dumps(requests, indent=2, sort_keys=True))
        return 0
    if not requests:
        print("no call-back requests since the box started")
    for r in requests:
        who = f" answered by {r['member']}" if r["member"] else ""
        why = f": {r['reason']}" if r["reason"] else ""
        print(f"#{r['id']} {_when(r['created'])} {r['number']} from {r['address']}: "
              f"{r['state']} after {r['attempts']} attempt(s){who}{why}")
    return 0
