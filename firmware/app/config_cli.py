"""``minipbx config ...`` and ``minipbx restart``: the staged configuration from a shell.

Each verb is one command of the table (config.set, config.commit, ...) sent over the
control socket; what the daemon refuses comes back as its own message, which names the
PATH (``fxs.1.extension: must be digits ...``) or the file and line (``config load``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir
from firmware.core import durations
from firmware.core.errors import CommandError


def parse_duration(text: str) -> float:
    """``--confirm``'s value: a duration as every front end reads it, above zero."""
    try:
        seconds = durations.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the confirm time must be above zero")
    return seconds


def add_config_parser(sub: Any, here: argparse.ArgumentParser) -> None:
    """The ``config`` verbs and ``restart``; ``here`` carries ``--state-dir``."""
    cfg = sub.add_parser("config", help="stage, commit and roll back the configuration",
                         parents=[here])
    verbs = cfg.add_subparsers(metavar="VERB")

    show = verbs.add_parser("show", help="the running configuration (passwords hidden)")
    show.add_argument("--json", action="store_true")
    show.add_argument("--candidate", action="store_true", help="the staged one instead")
    show.set_defaults(func=_show)

    set_ = verbs.add_parser("set", help="stage one setting: PATH VALUE (e.g. fxs.1.name Desk)")
    set_.add_argument("path")
    set_.add_argument("value")
    set_.set_defaults(func=_stage, cmd="config.set", keys=("path", "value"))

    unset = verbs.add_parser("unset", help="stage a setting back to its default")
    unset.add_argument("path")
    unset.set_defaults(func=_stage, cmd="config.unset", keys=("path",))

    add = verbs.add_parser("add", help="stage a new entry: TABLE KEY=VALUE... "
                                       "(e.g. fxs port=3 extension=103)")
    add.add_argument("table")
    add.add_argument("values", nargs="+", metavar="KEY=VALUE")
    add.set_defaults(func=_add)

    delete = verbs.add_parser("delete", help="stage removing an entry (fxs.3, trunk.NAME, "
                                             "outbound.2)")
    delete.add_argument("path")
    delete.set_defaults(func=_stage, cmd="config.delete", keys=("path",))

    load = verbs.add_parser("load", help="stage a whole file (checked as run --config does)")
    load.add_argument("file", type=Path)
    load.set_defaults(func=_load)

    diff = verbs.add_parser("diff", help="the staged changes, as a diff (passwords hidden)")
    diff.set_defaults(func=_diff)

    commit = verbs.add_parser("commit", help="check, save and apply the staged changes")
    commit.add_argument("--confirm", type=parse_duration, default=None, metavar="DURATION",
                        help="roll back by itself unless `config confirm` comes within "
                             "DURATION (90s, 5m, 1h)")
    commit.add_argument("-m", "--message", default="", help="why (kept in the history)")
    commit.set_defaults(func=_commit)

    confirm = verbs.add_parser("confirm", help="keep the last commit made with --confirm")
    confirm.set_defaults(func=_simple, cmd="config.confirm")

    discard = verbs.add_parser("discard", help="drop every staged change")
    discard.set_defaults(func=_simple, cmd="config.discard")

    history = verbs.add_parser("history", help="saved versions: when, who, why")
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=_history)

    rollback = verbs.add_parser("rollback", help="stage saved version N (commit applies it)")
    rollback.add_argument("version", type=int)
    rollback.set_defaults(func=_rollback)

    export = verbs.add_parser("export", help="the running configuration with its passwords")
    export.add_argument("-o", "--output", type=Path, default=None,
                        help="write it to this file (mode 0600) instead of printing it")
    export.set_defaults(func=_export)

    restart = sub.add_parser("restart", help="restart the box (applies what a commit could "
                                             "not: SIP address and port, board)",
                             parents=[here])
    restart.add_argument("--when-idle", action="store_true",
                         help="wait until no call is up")
    restart.set_defaults(func=_restart)


def _show(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "config.show",
                  {"candidate": args.candidate, "json": args.json})
    if args.json:
        print(json.dumps(result["config"], indent=2))
    else:
        print(result["toml"], end="")
    return 0


def _stage(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), args.cmd, {k: getattr(args, k) for k in args.keys})
    _print_staged(result)
    return 0


def _add(args: argparse.Namespace) -> int:
    values: dict[str, str] = {}
    for pair in args.values:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"config add: {pair!r} is not KEY=VALUE")
        values[key.strip()] = value
    result = call(chosen_state_dir(args), "config.add",
                  {"table": args.table, "values": json.dumps(values)})
    _print_staged(result)
    return 0


def _load(args: argparse.Namespace) -> int:
    text = args.file.read_text(encoding="utf-8")
    result = call(chosen_state_dir(args), "config.load", {"text": text, "source": str(args.file)})
    _print_staged(result)
    return 0


def _diff(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "config.diff")
    print(result["diff"], end="" if result["diff"] else "no staged changes\n")
    return 0


def _commit(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"message": args.message}
    if args.confirm is not None:
        payload["confirm_s"] = args.confirm
    result = call(chosen_state_dir(args), "config.commit", payload)
    if result.get("unchanged"):
        print(f"nothing to commit: v{result['version']} runs")
    else:
        applied = ", ".join(result["applied"]) or "nothing changes live"
        print(f"v{result['version']} committed and applied: {applied}")
    print_restart(result["restart_needed"])
    if result.get("confirm_by"):
        print(f"confirm by {_clock(result['confirm_by'])} with `minipbx config confirm`, "
              "or the box rolls back by itself")
    return 0


def _simple(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), args.cmd)
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0


def _history(args: argparse.Namespace) -> int:
    versions = call(chosen_state_dir(args), "config.history")
    if args.json:
        print(json.dumps(versions, indent=2))
        return 0
    for v in versions:
        mark = "*" if v["running"] else " "
        who = v["user"] or "-"
        print(f"{mark} v{v['version']:<4} {v['time']}  {who:<14} {v['message']}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "config.rollback", {"version": args.version})
    print(result["diff"], end="")
    print(f"v{result['staged']} staged; `minipbx config commit` applies it")
    return 0


def _export(args: argparse.Namespace) -> int:
    text = call(chosen_state_dir(args), "config.export")["toml"]
    if args.output is None:
        print(text, end="")
        return 0
    fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{args.output}: the running configuration, passwords included", file=sys.stderr)
    return 0


def _restart(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "box.restart", {"when_idle": args.when_idle})
    if result["restart"] == "now":
        print("restarting")
    else:
        print("the box restarts once no call is up")
    return 0


def _print_staged(result: dict[str, Any]) -> None:
    path = result.get("path") or "configuration"
    state = "staged" if result.get("pending") else "no change from the running configuration"
    print(f"{path}: {state}")
    problems = result.get("problems") or []
    if problems:
        print("commit would refuse it until these are fixed:")
        for p in problems:
            print(f"  {p['path']}: {p['message']}" if p["path"] else f"  {p['message']}")


def print_restart(paths: list[str]) -> None:
    if paths:
        print(f"restart needed for: {', '.join(paths)} (`minipbx restart`, or "
              "`minipbx restart --when-idle`)")


def _clock(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))
