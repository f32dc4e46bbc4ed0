"""A commit is refused when its board cannot run it: a restart must never trip over a
port the board lacks. The simulated board grows to what the configuration names."""

from __future__ import annotations

import pytest

from drivers.sim import SimBoard
from firmware.app.boards import build_board, check_board, sim_size
from firmware.config import parse_config
from firmware.core.errors import ConfigError


def phones(*ports: int, board: str = "sim") -> str:
    return f'[box]\nboard = "{board}"\n' + "".join(
        f'[[fxs]]\nport = {p}\nextension = "{100 + p}"\n' for p in ports)


def test_the_simulated_board_is_sized_by_the_configuration_and_grows() -> None:
    config = parse_config(phones(*range(1, 9)))
    assert sim_size(config) == (8, 1)
    built = build_board("sim", config)
    assert isinstance(built.board, SimBoard) and len(built.board.fxs) == 8
    small = SimBoard(fxs=2, fxo=1)
    assert small.grow(5, 2) and [p.index for p in small.fxs] == [1, 2, 3, 4, 5]
    assert [p.index for p in small.fxo] == [1, 2]
    assert not small.grow(9, 1) and len(small.fxs) == 5
    built.close()
    small.close()


def test_ports_past_the_board_are_refused_naming_the_entry() -> None:
    with pytest.raises(ConfigError, match=r"^fxs\.9: the simulated board has at most 8"):
        check_board(parse_config(phones(1, 9)))
    with pytest.raises(ConfigError, match=r"^fxs\.3: board \S+ has 2 FXS port\(s\)"):
        check_board(parse_config(phones(1, 3, board="ag1171-gpio-2p")))
    with pytest.raises(ConfigError, match=r"^box\.board: "):
        check_board(parse_config(phones(1, board="no-such-board")))
    check_board(parse_config(phones(1, 2, board="ag1171-gpio-2p")))
