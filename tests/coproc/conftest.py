"""Fixtures for the co-processor tests: an emulated MCU behind a real pty, and the host
backend connected to it; both always stopped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from coproc_helpers import Signals, load_tool

from drivers.coproc import CoprocBoard


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Any]]:
    tool = load_tool("coproc_emulator")
    made: list[Any] = []

    def make(ports: str = "SSO", **kwargs: Any) -> Any:
        emu = tool.CoprocEmulator(ports, **kwargs).start()
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


@pytest.fixture
def emulator(emulator_factory: Callable[..., Any]) -> Any:
    return emulator_factory("SSO")


@pytest.fixture
def signals() -> Signals:
    return Signals()


@pytest.fixture
def board_factory(signals: Signals) -> Iterator[Callable[..., CoprocBoard]]:
    boards: list[CoprocBoard] = []

    def make(url: str, *, fxs: dict[int, int] | None = None, fxo: dict[int, int] | None = None,
             connect: bool = True, **kwargs: Any) -> CoprocBoard:
        board = CoprocBoard(url, fxs={1: 0, 2: 1} if fxs is None else fxs,
                            fxo={1: 2} if fxo is None else fxo, **kwargs)
        boards.append(board)
        board.start(signals)
        if connect:
            assert board.wait_connected(5.0), "the host never connected to the co-processor"
        return board

    yield make
    for board in boards:
        board.close()


@pytest.fixture
def board(emulator: Any, board_factory: Callable[..., CoprocBoard]) -> CoprocBoard:
    return board_factory(emulator.path)
