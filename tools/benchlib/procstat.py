"""CPU time and resident memory of a process, from /proc (Linux)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name (field 2) may hold spaces; the fields after it are plain.
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S  # fields 14 and 15 of stat(5)


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_percent(pids: Sequence[int], seconds: float) -> list[float]:
    """Percent of one core each process used over the next ``seconds`` (side by side)."""
    start = [cpu_seconds(p) for p in pids]
    t0 = time.monotonic()
    time.sleep(seconds)
    end = [cpu_seconds(p) for p in pids]
    wall = time.monotonic() - t0
    return [100.0 * (b - a) / wall for a, b in zip(start, end, strict=True)]
