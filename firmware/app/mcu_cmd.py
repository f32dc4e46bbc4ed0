"""``minipbx mcu flash``: install the line co-processor's MicroPython program with mpremote.

The program is the ``.py`` files of ``board/mcu`` (pyrightconfig and tests stay behind).
mpremote copies them to the RP2040's filesystem and resets it; the host then sees a new
HELLO on the link and sends its configuration again.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from drivers.profile import board_dir
from firmware.core.errors import CommandError

DEFAULT_DEVICE = "/dev/ttyACM0"


def add_mcu_parser(sub: Any) -> None:
    mcu = sub.add_parser("mcu", help="the RP2040 line co-processor")
    verbs = mcu.add_subparsers(metavar="VERB")
    flash = verbs.add_parser("flash", help="install the co-processor program (mpremote)")
    flash.add_argument("--device", default=DEFAULT_DEVICE,
                       help=f"the RP2040's USB serial port (default {DEFAULT_DEVICE})")
    flash.add_argument("--source", type=Path, default=None,
                       help="folder of the program (default: board/mcu)")
    flash.add_argument("--dry-run", action="store_true",
                       help="print the mpremote commands instead of running them")
    flash.set_defaults(func=_flash)


def flash_commands(device: str, source: Path) -> list[list[str]]:
    files = sorted(p for p in source.glob("*.py"))
    if not files:
        raise CommandError(f"no co-processor program in {source} (no .py files)")
    mpremote = shutil.which("mpremote") or str(Path(sys.executable).with_name("mpremote"))
    copy = [mpremote, "connect", device, "fs", "cp", *(str(f) for f in files), ":"]
    return [copy, [mpremote, "connect", device, "reset"]]


def _flash(args: argparse.Namespace) -> int:
    source = args.source or board_dir() / "mcu"
    commands = flash_commands(args.device, source)
    if args.dry_run:
        for cmd in commands:
            print(" ".join(cmd))
        return 0
    if not Path(args.device).exists():
        raise CommandError(f"no co-processor at {args.device}: plug in the RP2040 by USB, "
                           "or name its port with --device")
    for cmd in commands:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            why = (result.stderr or result.stdout).strip().splitlines()
            raise CommandError(f"mpremote failed ({result.returncode}): "
                               f"{why[-1] if why else 'no output'}")
    print(f"co-processor program from {source} installed on {args.device}")
    return 0
