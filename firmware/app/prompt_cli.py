"""``minipbx prompt list | play NAME --port N | stop --port N | upload FILE``: the running
box's prompts, over the control socket (firmware/commands/prompt_cmds.py)."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any

from firmware.app.client import call
from firmware.app.paths import chosen_state_dir


def add_prompt_parser(sub: Any) -> None:
    prompt = sub.add_parser("prompt", help="the box's voice prompts: list, play, upload")
    verbs = prompt.add_subparsers(metavar="VERB")
    ls = verbs.add_parser("list", help="name, language, duration and source of each prompt")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    play = verbs.add_parser("play", help="play a prompt into an off-hook handset (hear it)")
    play.add_argument("name", help="builtin:goodbye, file:welcome.wav, say:en:Hello, or a "
                                   "bare name (an upload, else a builtin)")
    play.add_argument("--port", type=int, required=True, help="the FXS port of the handset")
    play.add_argument("--language", default="", help="language of a builtin (default: the "
                                                     "box's)")
    play.set_defaults(func=_play)
    stop = verbs.add_parser("stop", help="stop the prompt playing into a handset")
    stop.add_argument("--port", type=int, required=True)
    stop.set_defaults(func=_stop)
    up = verbs.add_parser("upload", help="store a WAV file as prompts/NAME (file:NAME)")
    up.add_argument("file", type=Path)
    up.add_argument("--name", default=None, help="name in prompts/ (default: the file's)")
    up.set_defaults(func=_upload)


def _list(args: argparse.Namespace) -> int:
    rows = call(chosen_state_dir(args), "prompt.list")
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        seconds = f"{r['duration_s']:.1f} s" if r.get("duration_s") is not None else "not built"
        warning = f"  ({r['warning']})" if r.get("warning") else ""
        print(f"{r['name']:<30} {r['language'] or '-':<4} {seconds:>9}  {r['source']}{warning}")
    return 0


def _play(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "prompt.play",
                  {"name": args.name, "port": args.port, "language": args.language})
    print(f"playing {result['prompt']} ({result['language']}, {result['seconds']} s) "
          f"into port {result['port']}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    call(chosen_state_dir(args), "prompt.stop", {"port": args.port})
    return 0


def _upload(args: argparse.Namespace) -> int:
    data = args.file.read_bytes()
    name = args.name or args.file.name
    result = call(chosen_state_dir(args), "prompt.upload",
                  {"name": name, "data": base64.b64encode(data).decode("ascii")}, timeout=120)
    print(f"{result['name']}: {result['seconds']} s stored")
    return 0
