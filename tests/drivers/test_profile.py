"""Board profiles: the shipped ones load; broken ones say which file, key and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.errors import BoardProfileError, DriverError
from drivers.profile import (
    BOARD_DIR,
    BoardProfile,
    available_boards,
    load_board_profile,
)

GPIO = "ag1171-gpio-2p"


def test_every_shipped_profile_loads() -> None:
    names = available_boards()
    assert {"sim", GPIO, "ag1171-coproc-2p"} <= set(names)
    for name in names:
        profile = load_board_profile(name)
        assert isinstance(profile, BoardProfile) and profile.name == name
        assert profile.fxs or profile.fxo
        assert profile.path == BOARD_DIR / f"{name}.toml"
        hash(profile)  # frozen all the way down


def test_the_sim_board() -> None:
    sim = load_board_profile("sim")
    assert [p.index for p in sim.fxs] == [1, 2] and [p.index for p in sim.fxo] == [1]
    assert sim.backends() == {"sim"} and sim.limits.max_ports == 8


def test_the_gpio_board() -> None:
    gpio = load_board_profile(GPIO)
    assert gpio.backends() == {"gpio"}
    fxs1 = gpio.fxs[0]
    assert dict(fxs1.pins) == {"shk": 17, "fr": 18, "rm": 27, "pd": 22}
    assert fxs1.ring_drive == "pwm"
    assert fxs1.audio is not None and fxs1.audio.capture == "minipbx_fxs1"
    fxo1 = gpio.fxo[0]
    assert fxo1.ring_min_ms >= 40 and "ring_detect" in fxo1.active_low
    assert "NOT APPROVED" in fxo1.certification and "600" in fxo1.line_impedance
    with pytest.raises(TypeError):
        fxs1.pins["shk"] = 4  # type: ignore[index]


def test_the_coproc_board() -> None:
    coproc = load_board_profile("ag1171-coproc-2p")
    assert coproc.backends() == {"coproc"}
    assert coproc.uart is not None and coproc.uart.device == "/dev/serial0"
    assert [p.channel for p in coproc.fxs] == [0, 1]
    assert coproc.fxs[0].audio is not None
    assert coproc.fxs[0].audio.capture == "minipbx_fxs1"


def test_unknown_board_lists_the_shipped_ones() -> None:
    with pytest.raises(BoardProfileError, match="sim") as err:
        load_board_profile("no-such-board")
    assert isinstance(err.value, DriverError) and isinstance(err.value, ValueError)


def broken(tmp_path: Path, old: str, new: str, name: str = GPIO) -> Path:
    text = (BOARD_DIR / f"{name}.toml").read_text()
    assert old in text, old
    path = tmp_path / f"{name}.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


@pytest.mark.parametrize("old, new, key, needle, what", [
    ('revision = "A"\n', "", "board.revision", "[board]", "missing"),
    ("shk = 17, ", "", "fxs[0].pins.shk", "pins = { fr = 18", "missing"),
    ("shk = 23", 'shk = "23"', "fxs[1].pins.shk", 'shk = "23"', "BCM pin number"),
    ("max_ren_per_port = 3.0", 'max_ren_per_port = "3"', "limits.max_ren_per_port",
     "max_ren_per_port", "REN"),
    ('backend = "gpio"\npins = { ring', 'backend = "spi"\npins = { ring', "fxo[0].backend",
     'backend = "spi"', "unknown backend 'spi'"),
    ("rm = 24", "rm = 27", "fxs[1].pins.rm", "rm = 27, pd = 25", "BCM 27 is already used"),
    ("hook = 6", "hook = 14", "fxo[0].pins.hook", "hook = 14", "BCM 14"),
    ("fr = 13", "fr = 12", "fxs[1].pins.fr", "fr = 12", "PWM0 is already driving fxs1"),
    ("fr = 18", "fr = 4", "fxs[0].ring_drive", 'ring_drive = "pwm"', "hardware PWM"),
    ("ring_min_ms = 40", "ring_min_ms = 20", "fxo[0].ring_min_ms", "ring_min_ms = 20",
     "polarity reversal"),
    ("ring_drive = \"pwm\"", "ring_drve = \"pwm\"", "fxs[0].ring_drve", "ring_drve",
     "unknown key"),
    ("period_ms = 10 }", "period_ms = 5 }", "fxs[0].audio.period_ms", "period_ms = 5",
     "not 10 or 20"),
])
def test_broken_profiles_name_the_file_key_and_line(tmp_path: Path, old: str, new: str,
                                                    key: str, needle: str,
                                                    what: str) -> None:
    path = broken(tmp_path, old, new)
    if "BCM 14" in what:  # the UART's pins only count when the board uses the Pi's UART
        path.write_text(path.read_text() + '\n[uart]\ndevice = "/dev/serial0"\nbaud = 115200\n')
    with pytest.raises(BoardProfileError) as err:
        load_board_profile(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line_of(path, needle)}: key '{key}'"), message
    assert what in message


def test_a_coproc_port_needs_a_uart(tmp_path: Path) -> None:
    path = broken(tmp_path, "[uart]", "[uart_gone]", name="ag1171-coproc-2p")
    path.write_text(re.sub(r"\[uart_gone\]\ndevice = .*\nbaud = .*\n", "", path.read_text()))
    with pytest.raises(BoardProfileError, match=r"key 'fxs\[0\]\.backend': a coproc port"):
        load_board_profile(path)


def test_the_name_must_match_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text((BOARD_DIR / "sim.toml").read_text())
    with pytest.raises(BoardProfileError, match=r"other.toml:\d+: key 'board.name'"):
        load_board_profile(path)


def test_not_toml_at_all(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text("[board\nname = ")
    with pytest.raises(BoardProfileError, match=re.escape(f"{path}: not valid TOML")):
        load_board_profile(path)


def test_available_boards_reads_a_directory(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("")
    assert available_boards(tmp_path) == ["x"]
