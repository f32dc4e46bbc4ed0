"""Where runtime files live: the state dir holds the control socket, call records and
recordings. In a source checkout it defaults to ``.state/`` there; on a device to
``/var/lib/minipbx``; ``MINIPBX_STATE_DIR`` or ``--state-dir`` overrides both."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

DEVICE_STATE_DIR = Path("/var/lib/minipbx")


def checkout_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "firmware").is_dir() else None


def default_state_dir() -> Path:
    env = os.environ.get("MINIPBX_STATE_DIR")
    if env:
        return Path(env)
    root = checkout_root()
    return root / ".state" if root is not None else DEVICE_STATE_DIR


def chosen_state_dir(args: argparse.Namespace) -> Path:
    """The command line's ``--state-dir``, else :func:`default_state_dir`."""
    state: Path | None = getattr(args, "state_dir", None)
    return state if state is not None else default_state_dir()
