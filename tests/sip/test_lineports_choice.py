"""Which line ports the switch gets when the native library cannot be used: the Python
port, with the reason, and a bad setting named; the start-up layout check of
pjmedia_port_info against the running library."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest

from firmware.sip.lineports import ENV_KIND, choose_line_ports
from firmware.sip.nativelib import load
from firmware.sip.nativeport import BridgeApi, layout_problem

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_library_falls_back_and_says_where(tmp_path: Path) -> None:
    missing = tmp_path / "liblineport.so"
    ports = choose_line_ports({"MINIPBX_LINEPORT_LIB": str(missing)})
    assert ports.kind == "python"
    assert str(missing) in ports.why and "not built" in ports.why
    assert ports.status() == {"kind": "python", "why": ports.why}


def test_python_can_be_chosen() -> None:
    ports = choose_line_ports({ENV_KIND: "python"})
    assert ports.kind == "python"
    assert ports.why == f"{ENV_KIND}=python"


def test_a_bad_setting_is_named_and_auto_is_used(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="firmware.sip.lineports"):
        ports = choose_line_ports({ENV_KIND: "fast",
                                   "MINIPBX_LINEPORT_LIB": str(tmp_path / "none.so")})
    assert f"{ENV_KIND}='fast' is not one of auto, native, python" in caplog.text
    assert ports.kind == "python"


def test_the_port_info_layout_matches_the_running_library() -> None:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)
    assert layout_problem(load(), BridgeApi()) is None


def test_a_different_port_info_layout_is_refused_with_its_size() -> None:
    class Longer:
        """A library whose pjmedia_port_info would be 8 bytes longer."""

        def __init__(self, real: BridgeApi) -> None:
            self.real = real

        def info_image(self, name: Any, signature: int) -> bytes:
            image = self.real.info_image(name, signature)
            size = len(image.rstrip(b"\xa5"))
            return image[:size] + bytes(8) + image[size + 8:]

    problem = layout_problem(load(), Longer(BridgeApi()))  # type: ignore[arg-type]
    assert problem is not None and "differs" in problem
    assert "written by pjmedia_port_info_init" in problem
