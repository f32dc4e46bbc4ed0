"""Helpers for the co-processor tests (imported by name: pytest puts this folder on the
path). The emulator is the tool in tools/coproc_emulator.py, loaded by its path; the
helpers every test package shares live in tests/support.py."""

from __future__ import annotations

import json
from typing import Any

from tests.support import ROOT, Signals, load_tool, wait_until

__all__ = ["MCU_DIR", "ROOT", "VECTORS", "Signals", "load_tool", "vectors", "wait_until"]

VECTORS = ROOT / "board" / "vectors"
MCU_DIR = ROOT / "board" / "mcu"


def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())
