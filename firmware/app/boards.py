"""Builds the concrete line board named by the configuration or ``--board``.

Only the composition root builds backends (DESIGN.md import rules).
"""

from __future__ import annotations

from drivers.base import Board
from drivers.sim import SimBoard
from firmware.config import Config
from firmware.core.errors import ConfigError


def build_board(name: str, config: Config) -> Board:
    if name == "sim":
        # The simulated board grows to fit the configuration (up to 8 ports of each kind).
        fxs = max([p.port for p in config.fxs], default=0)
        fxo = max([p.port for p in config.fxo], default=0)
        return SimBoard(fxs=max(fxs, 2), fxo=max(fxo, 1))
    raise ConfigError(f"board {name!r}: unknown; this build knows: sim")
