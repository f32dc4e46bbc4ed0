"""``minipbx update FILE``, and the two boot-time steps the image's units run:
``minipbx update --boot-check`` (before the daemon) and ``minipbx update --confirm`` (waits
for READY, then keeps the slot or reboots into the old one). :mod:`firmware.app.update`
has the rules."""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from firmware.app.slots import DEFAULT_LAYOUT, Layout, UpdateError

READY_COMMAND = "systemctl is-active --quiet minipbx.service"


def add_update_parser(sub: Any) -> None:
    p = sub.add_parser("update", help="install a signed update into the other root slot and "
                                      "boot it once (A/B, falls back by itself)")
    p.add_argument("file", nargs="?", type=Path, help="the update file (minipbx-VERSION-arm64"
                                                      ".update)")
    p.add_argument("--layout", type=Path, default=DEFAULT_LAYOUT,
                   help=f"where the slots, boot partition and key are (default {DEFAULT_LAYOUT})")
    p.add_argument("--no-reboot", action="store_true",
                   help="write and arm the other slot, but leave the reboot to you")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--boot-check", action="store_true",
                      help="at boot, before the daemon: settle the last update")
    step.add_argument("--confirm", action="store_true",
                      help="on a slot on trial: wait for READY, then keep it, or reboot into "
                           "the old slot when the time is up")
    step.add_argument("--status", action="store_true", help="the last update's state")
    p.add_argument("--ready-command", default=READY_COMMAND,
                   help=f"--confirm: succeeds once the daemon is READY (default: {READY_COMMAND})")
    p.add_argument("--timeout", type=float, default=None,
                   help="--confirm: seconds to wait for READY (default: the layout's "
                        "ready_timeout_s)")
    p.set_defaults(func=_update)


def _update(args: argparse.Namespace) -> int:
    from firmware.app.update import Updater, read_state

    layout = Layout.load(args.layout)
    updater = Updater(layout, layout.boot_state(),
                      progress=lambda msg: print(f"update: {msg}", file=sys.stderr))
    if args.status:
        slot, tried = updater.boot.running()
        print(json.dumps({"running": slot, "on_trial": tried, "default": updater.boot.default(),
                          **read_state(layout)}, indent=2, sort_keys=True))
        return 0
    if args.boot_check:
        print(updater.boot_check())
        return 0
    if args.confirm:
        command = shlex.split(args.ready_command)

        def ready() -> bool:
            return subprocess.run(command, check=False).returncode == 0

        result = updater.confirm(ready, timeout_s=args.timeout)
        print(result)
        return 0 if result != "timeout" else 1
    if args.file is None:
        raise UpdateError("minipbx update: name the update file (or --boot-check, --confirm, "
                          "--status)")
    target = updater.apply(args.file, reboot=not args.no_reboot)
    print(f"slot {target} written and armed for one boot"
          + ("; rebooting" if not args.no_reboot else "; reboot with: systemctl reboot "
             "'0 tryboot'"))
    return 0
