from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.coproc_support import COPROC
from tests.e2e.harness import Daemon, free_even_port
from tests.e2e.peers import Peers


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    """SIP peers (sipp, baresip, kamailio) for one test, every one killed after it."""
    owner = Peers(tmp_path)
    yield owner
    owner.close()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[object]:
    """Start daemons with a config; every one is stopped (SIGTERM, exit 0) after the test."""
    started: list[Daemon] = []

    def start(config: str | None = None, name: str = "box", **kw: object) -> Daemon:
        d = Daemon(tmp_path / name, config, **kw)  # type: ignore[arg-type]
        started.append(d)
        d.wait_ready()
        return d

    yield start
    codes = [(d, d.stop()) for d in started]
    for d, code in codes:
        assert code == 0, f"daemon exited {code}:\n{d.log()}"


def default_config_text(web_port: int = 0) -> str:
    """The built-in configuration `make run` uses, with the SIP and web ports left to the
    OS so tests never collide with each other or with a box already running."""
    from dataclasses import replace

    from firmware.config import default_config, to_toml

    config = default_config()
    return to_toml(replace(config, sip=replace(config.sip, port=0, rtp_port=free_even_port()),
                           web=replace(config.web, port=web_port)))


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon with the built-in default configuration, shared by a module."""
    d = Daemon(tmp_path_factory.mktemp("box"), default_config_text(),
               extra_args=["--board", "sim"])
    d.wait_ready()
    yield d
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Any]]:
    """Co-processor emulators behind real ptys, every one stopped after the test."""
    made: list[Any] = []

    def make(**kwargs: Any) -> Any:
        emu = COPROC.CoprocEmulator("SSO", **kwargs).start()
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()
