"""`minipbx mcu flash`: the mpremote commands it runs, and a clear error with no device."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.app.cli import main
from firmware.app.mcu_cmd import flash_commands
from firmware.core.errors import CommandError

ROOT = Path(__file__).resolve().parents[2]


def test_flash_copies_every_program_module_and_resets() -> None:
    copy, reset = flash_commands("/dev/ttyACM7", ROOT / "board" / "mcu")
    assert copy[1:3] == ["connect", "/dev/ttyACM7"] and copy[3:5] == ["fs", "cp"]
    copied = {Path(p).name for p in copy[5:-1]}
    assert copied == {p.name for p in (ROOT / "board" / "mcu").glob("*.py")}
    assert "main.py" in copied and copy[-1] == ":"
    assert reset[1:] == ["connect", "/dev/ttyACM7", "reset"]


def test_dry_run_prints_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcu", "flash", "--dry-run", "--device", "/dev/ttyACM7"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "fs cp" in out[0] and out[1].endswith("reset")


def test_no_device_is_one_clear_error(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    assert main(["mcu", "flash", "--device", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "no co-processor at" in err and "Traceback" not in err


def test_an_empty_source_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no co-processor program"):
        flash_commands("/dev/ttyACM0", tmp_path)
