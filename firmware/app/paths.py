"""Where runtime files live: the state dir holds the control socket, call records and
recordings. In a source checkout it defaults to ``.state/`` there; on a device to
``/var/lib/minipbx``; ``MINIPBX_STATE_DIR`` or ``--state-dir`` overrides both."""

from __future__ import annotations

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
