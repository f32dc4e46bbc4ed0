"""Hardware-in-the-loop tests: they run only against a real board named with ``--board``.

    .venv/bin/pytest tests/drivers/test_hardware.py --board ag1171-gpio-2p

Nothing here needs a person at the handset: the checks are the ones a board can make on
itself (relays and outputs follow commands, ringing starts and stops, every codec moves
audio). Without ``--board`` every test skips with the reason "no real board named (--board)".
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from board_helpers import Signals, wait_until

from drivers.alsa import AlsaAudio, audio_for_profile
from drivers.gpio import GpioBoard
from drivers.profile import BoardProfile, load_board_profile

pytestmark = pytest.mark.hardware


@pytest.fixture(scope="module")
def real_profile(request: pytest.FixtureRequest) -> BoardProfile:
    name = request.config.getoption("--board")
    if not name:
        pytest.skip("no real board named (--board)")
    profile = load_board_profile(name)
    if profile.backends() == {"sim"}:
        pytest.skip(f"{name} is the simulated board, not real hardware")
    return profile


@pytest.fixture
def gpio_board(real_profile: BoardProfile) -> Iterator[GpioBoard]:
    if "gpio" not in real_profile.backends():
        pytest.skip(f"{real_profile.name} has no direct-GPIO ports")
    board = GpioBoard(real_profile)  # gpiozero's default pin factory: the real pins
    board.start(Signals())
    try:
        yield board
    finally:
        board.close()


def test_fxs_rings_and_stops(gpio_board: GpioBoard) -> None:
    for port in gpio_board.fxs:
        if port.offhook:
            continue  # a handset is off-hook: ringing it would trip at once
        port.start_ringing([400, 200], 25.0)
        assert port.ringing
        time.sleep(1.0)
        port.stop_ringing()
        assert not port.ringing


def test_fxo_hook_relay_follows_commands(gpio_board: GpioBoard) -> None:
    for port in gpio_board.fxo:
        port.seize()
        assert port.seized
        time.sleep(0.5)
        port.release()
        assert not port.seized


@pytest.fixture
def codecs(real_profile: BoardProfile) -> Iterator[dict[tuple[str, int], AlsaAudio]]:
    pytest.importorskip("alsaaudio")
    audio = audio_for_profile(real_profile)
    if not audio:
        pytest.skip(f"{real_profile.name} names no ALSA codecs")
    for endpoint in audio.values():
        endpoint.start()
    try:
        yield dict(audio)
    finally:
        for endpoint in audio.values():
            endpoint.close()


def test_every_codec_moves_audio(codecs: dict[tuple[str, int], AlsaAudio]) -> None:
    for port, endpoint in codecs.items():
        assert wait_until(lambda e=endpoint: e.stats().periods >= 50, timeout=10), port
        for _ in range(50):
            endpoint.write_frame(bytes(320))
            endpoint.read_frame()
            time.sleep(0.02)
        stats = endpoint.stats()
        assert stats.errors == 0, (port, stats)
        assert stats.rx.primed, (port, stats)
