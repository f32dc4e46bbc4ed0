"""The MCU program's pure modules under real MicroPython (1.27, WebAssembly port, in Node):
the same golden-vector checks as under CPython must pass, and the same number of them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from coproc_helpers import ROOT
from test_coproc_mcu import run_checks

HARNESS = ROOT / "tests" / "coproc" / "mpy_wasm"
PACKAGE = HARNESS / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


def node_major() -> int | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    match = re.match(r"v(\d+)", out.stdout.strip())
    return int(match.group(1)) if match else None


def ensure_package() -> str | None:
    """None when the MicroPython package is there, else why it cannot be."""
    if PACKAGE.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    result = subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=HARNESS,
                            capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0 or not PACKAGE.exists():
        return ("cannot install @micropython/micropython-webassembly-pyscript: "
                + (result.stderr.strip().splitlines() or ["npm ci failed"])[-1])
    return None


def test_golden_vectors_under_micropython() -> None:
    major = node_major()
    if major is None or major < 20:
        pytest.skip(f"Node 20 or later is needed (found {major})")
    why = ensure_package()
    if why is not None:
        pytest.skip(why)
    result = subprocess.run(["node", str(HARNESS / "run.mjs"), str(ROOT)], capture_output=True,
                            text=True, timeout=120, check=False)
    lines = result.stdout.splitlines()
    assert lines and lines[0].startswith("IMPL micropython 1."), result.stdout + result.stderr
    failures = [line for line in lines if line.startswith("FAIL")]
    assert failures == [], "\n".join(failures)
    summary = [line for line in lines if line.startswith("SUMMARY")]
    assert summary, result.stderr
    cpython_summary = run_checks()[-1]
    assert summary[0] == cpython_summary  # every check ran in both interpreters
    assert result.returncode == 0


def test_harness_files_are_there() -> None:
    assert (HARNESS / "package.json").exists() and (HARNESS / "package-lock.json").exists()
    assert Path(HARNESS / "run.mjs").exists()
