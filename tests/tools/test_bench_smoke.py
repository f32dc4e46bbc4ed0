"""Smoke run of the box benchmark: tools/bench_box.py --quick starts the daemon with real
SIP peers, measures every figure with short windows and exits 0. Only that it ran and
printed every figure is checked: the figures themselves are never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELS = (
    "1. Off-hook to dial tone",
    "2. Last digit to INVITE on the wire",
    "3. Audio delay one way (internal call)",
    "3b. Audio delay via SIP (sipp echo RTT / 2)",
    "4. CPU per call",
    "5. Resident memory",
    "6. Idle daemon, 9 lines",
)


@pytest.mark.slow
@pytest.mark.serial  # measures CPU and latency: alone, after the parallel part
def test_bench_box_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "box.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_box.py"), "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    assert result.returncode == 0, report
    for label in LABELS:
        assert label in result.stdout, f"{label!r} not printed:\n{report}"
    data = json.loads(out.read_text())
    assert {row["figure"] for row in data["table"]} == set(LABELS), data["table"]
