"""Builds the concrete line board named by the configuration or ``--board``.

Only the composition root builds backends (DESIGN.md import rules). A board is "sim" (the
simulated board, sized to the configuration), or a board profile (board/<name>.toml or a
path) whose ports all use one backend: gpio (direct GPIO) or coproc (the RP2040 line
co-processor). Line audio for real boards comes from ALSA, one codec per port.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from drivers.alsa import AlsaAudio, audio_for_profile
from drivers.base import Board, PortKind
from drivers.coproc.board import CoprocBoard
from drivers.errors import DriverError
from drivers.gpio import GpioBoard
from drivers.profile import BoardProfile, load_board_profile
from drivers.sim import SimBoard
from drivers.sim.board import MAX_PORTS as SIM_MAX_PORTS
from firmware.config import Config
from firmware.core.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class BuiltBoard:
    """A board and the audio streams the box must start and stop with it."""

    board: Board
    audio: Sequence[AlsaAudio] = field(default_factory=list)

    def start_audio(self) -> None:
        for stream in self.audio:
            try:
                stream.start()
            except DriverError as exc:  # a missing codec must not stop the exchange
                log.error("line audio %s: %s", stream.name, exc)

    def close(self) -> None:
        for stream in self.audio:
            stream.close()
        self.board.close()


def build_board(name: str, config: Config) -> BuiltBoard:
    if name == "sim":
        # The simulated board grows to fit the configuration (up to 8 ports of each kind).
        fxs, fxo = sim_size(config)
        return BuiltBoard(SimBoard(fxs=fxs, fxo=fxo))
    try:
        profile = load_board_profile(name)
    except DriverError as exc:
        raise ConfigError(str(exc)) from exc
    _check_ports(profile, config)
    backends = {p.backend for p in profile.fxs} | {q.backend for q in profile.fxo}
    if len(backends) != 1:
        raise ConfigError(f"{profile.path}: ports use backends {sorted(backends)}; a board "
                          "profile must use one backend for all its ports")
    backend = backends.pop()
    if backend == "sim":
        return BuiltBoard(SimBoard(fxs=len(profile.fxs), fxo=len(profile.fxo),
                                   name=profile.name))
    audio = audio_for_profile(profile)
    endpoints: Mapping[tuple[PortKind, int], AlsaAudio] = audio
    if backend == "gpio":
        board: Board = GpioBoard(profile, audio=endpoints)
    elif backend == "coproc":
        if profile.uart is None:
            raise ConfigError(f"{profile.path}: a coproc board needs a [uart] table")
        board = CoprocBoard(
            profile.uart.device, baudrate=profile.uart.baud, audio=endpoints,
            fxs={p.index: p.channel if p.channel is not None else p.index - 1
                 for p in profile.fxs},
            fxo={q.index: q.channel if q.channel is not None else len(profile.fxs) + q.index - 1
                 for q in profile.fxo},
            name=profile.name, ring_frequencies_hz=profile.ring_frequencies_hz)
    else:
        raise ConfigError(f"{profile.path}: unknown backend {backend!r}")
    return BuiltBoard(board, list(audio.values()))


def sim_size(config: Config) -> tuple[int, int]:
    """The simulated board for ``config``: its highest FXS and FXO port numbers (at least
    2 and 1, the default office); ConfigError naming the port past the board's limit."""
    for kind, ports in (("fxs", config.fxs), ("fxo", config.fxo)):
        for p in ports:
            if p.port > SIM_MAX_PORTS:
                raise ConfigError(f"{kind}.{p.port}: the simulated board has at most "
                                  f"{SIM_MAX_PORTS} {kind.upper()} ports; number the ports "
                                  f"1 to {SIM_MAX_PORTS}")
    fxs = max([p.port for p in config.fxs], default=0)
    fxo = max([p.port for p in config.fxo], default=0)
    return max(fxs, 2), max(fxo, 1)


def check_board(config: Config) -> None:
    """Raise ConfigError if ``config`` names a board that does not exist, or a port its
    board does not have (a commit checks this before a restart would trip over it)."""
    if config.box.board == "sim":
        sim_size(config)
        return
    try:
        profile = load_board_profile(config.box.board)
    except DriverError as exc:
        raise ConfigError(f"box.board: {exc}") from exc
    missing = _missing_port(profile, config)
    if missing is not None:
        kind, port, count = missing
        raise ConfigError(f"{kind}.{port}: board {profile.name} has {count} {kind.upper()} "
                          "port(s); use one of them, or another board")


def _check_ports(profile: BoardProfile, config: Config) -> None:
    missing = _missing_port(profile, config)
    if missing is not None:
        kind, port, count = missing
        raise ConfigError(f"[[{kind}]] port {port}: board {profile.name} has "
                          f"{count} {kind.upper()} port(s) ({profile.path})")


def _missing_port(profile: BoardProfile, config: Config) -> tuple[str, int, int] | None:
    """The first configured port the board lacks: (kind, port, how many the board has)."""
    have = {("fxs", p.index) for p in profile.fxs} | {("fxo", q.index) for q in profile.fxo}
    for kind, ports in (("fxs", config.fxs), ("fxo", config.fxo)):
        for p in ports:
            if (kind, p.port) not in have:
                return kind, p.port, sum(1 for k, _ in have if k == kind)
    return None
