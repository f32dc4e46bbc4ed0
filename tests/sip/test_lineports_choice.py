"""Which line ports the switch gets when the native library cannot be used: the Python
port, with the reason, and a bad setting named."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from firmware.sip.lineports import ENV_KIND, choose_line_ports


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
