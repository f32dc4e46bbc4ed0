"""The MCU program itself: its pure modules against the golden vectors under CPython, and
every module compiled by mpy-cross (what goes to the RP2040), and type-checked against the
MicroPython stubs when pyright is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mcu_checks
import pytest
from coproc_helpers import MCU_DIR, ROOT, VECTORS, load_tool

PYRIGHT = ROOT / "tests" / "coproc" / "mpy_wasm" / "node_modules" / ".bin" / "pyright"


def run_checks() -> list[str]:
    mods = load_tool("coproc_emulator").load_mcu()
    lines: list[str] = []
    mcu_checks.run(mods, lambda name: json.loads((VECTORS / name).read_text()), lines.append)
    return lines


def test_golden_vectors_under_cpython() -> None:
    lines = run_checks()
    failures = [line for line in lines if line.startswith("FAIL")]
    assert failures == []
    passed, failed = map(int, lines[-1].split()[1:])
    assert failed == 0 and passed > 100


def test_pure_modules_need_no_hardware() -> None:
    for name in ("proto", "lines", "link", "core"):
        source = (MCU_DIR / f"{name}.py").read_text()
        assert "import machine" not in source and "from machine" not in source, name
        assert "import hw" not in source, name


def mpy_cross() -> list[str]:
    exe = Path(sys.executable).with_name("mpy-cross")
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "mpy_cross"]


@pytest.mark.parametrize("module", sorted(p.name for p in MCU_DIR.glob("*.py")))
def test_every_module_compiles_with_mpy_cross(module: str, tmp_path: Path) -> None:
    out = tmp_path / module.replace(".py", ".mpy")
    result = subprocess.run([*mpy_cross(), "-o", str(out), str(MCU_DIR / module)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:1] == b"M"  # the .mpy magic


def test_mcu_program_type_checks_against_the_micropython_stubs() -> None:
    if not PYRIGHT.exists():
        pytest.skip("pyright is not installed: npm ci --prefix tests/coproc/mpy_wasm")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    result = subprocess.run([str(PYRIGHT), "-p", str(MCU_DIR)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    assert "0 errors" in result.stdout
