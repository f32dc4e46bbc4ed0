"""``minipbx voicemail list [--extension N] [--json]`` and ``minipbx voicemail delete N UID``:
the running box's voicemail messages."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir


def add_voicemail_parser(sub: Any) -> None:
    vm = sub.add_parser("voicemail", help="voicemail messages of the running box")
    verbs = vm.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="messages, newest first")
    listing.add_argument("--extension", help="one mailbox (the extension's number)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)
    delete = verbs.add_parser("delete", help="delete one message")
    delete.add_argument("extension")
    delete.add_argument("uid")
    delete.set_defaults(func=_delete)


def _list(args: argparse.Namespace) -> int:
    query = {"extension": args.extension} if args.extension else {}
    rows: list[dict[str, Any]] = call(chosen_state_dir(args), "voicemail.list",
                                      query)["messages"]
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    if not rows:
        print("no messages")
        return 0
    print(f"{'mailbox':<8} {'id':<21} {'when':<16} {'from':<20} {'secs':>5}  state")
    for m in rows:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(m["start"]))
        who = " ".join(x for x in (m.get("caller_number"), m.get("caller_name")) if x)
        print(f"{m['mailbox']:<8} {m['uid']:<21} {when:<16} {who or '-':<20} "
              f"{m['duration_s']:>5.1f}  {'new' if m['new'] else 'heard'}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    call(chosen_state_dir(args), "voicemail.delete",
         {"extension": args.extension, "uid": args.uid})
    print(f"deleted {args.extension}/{args.uid}")
    return 0
