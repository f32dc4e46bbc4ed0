"""``minipbx sip bans`` and ``minipbx sip unban ADDRESS``: the addresses the SIP guard
ignores for now (firmware/sip/guard.py), and lifting a ban, for root on the box."""

from __future__ import annotations

import argparse
import json
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir


def add_sip_parser(sub: Any) -> None:
    sip = sub.add_parser("sip", help="the SIP guard: banned addresses")
    verbs = sip.add_subparsers(metavar="VERB")
    bans = verbs.add_parser("bans", help="addresses whose SIP requests are dropped, and why")
    bans.add_argument("--json", action="store_true")
    bans.set_defaults(func=_bans)
    unban = verbs.add_parser("unban", help="lift an address's ban (and forget its earlier "
                                           "bans)")
    unban.add_argument("address", help="the banned IP address, as `minipbx sip bans` shows")
    unban.set_defaults(func=_unban)


def _bans(args: argparse.Namespace) -> int:
    rows = call(chosen_state_dir(args), "sip.bans")
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    if not rows:
        print("no address is banned")
    for row in rows:
        print(ban_text(row))
    return 0


def _unban(args: argparse.Namespace) -> int:
    lifted = call(chosen_state_dir(args), "sip.unban", {"address": args.address})
    print(f"ban of {lifted['address']} lifted ({lifted['dropped']} requests dropped "
          "while it lasted)")
    return 0


def ban_text(row: dict[str, Any]) -> str:
    """One ban as a line: "203.0.113.9  ban 2, 4 min 10 s left of 5 min: over 5 failed
    authentications (1234 requests dropped)"."""
    return (f"{row['address']:<39} ban {row['ban']}, {_span(row['left_s'])} left of "
            f"{_span(row['for_s'])}: {row['reason']} ({row['dropped']} requests dropped)")


def _span(seconds: float) -> str:
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    return f"{s} s"
