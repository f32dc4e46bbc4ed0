"""CPU time and resident memory of a process, from /proc (Linux)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _stat_cpu(path: str) -> float:
    with open(path) as f:
        text = f.read()
    # The command name (field 2) may hold spaces; the fields after it are plain.
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S  # fields 14 and 15 of stat(5)


def cpu_seconds(pid: int) -> float:
    """utime + stime of every thread of ``pid`` so far, in seconds."""
    return _stat_cpu(f"/proc/{pid}/stat")


def thread_seconds(pid: int) -> dict[str, tuple[str, float]]:
    """Thread id -> (thread name, utime + stime so far) for each live thread of ``pid``;
    the main thread is named "main" (other threads may share the process name)."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = "main" if task == str(pid) else f.read().strip()
            out[task] = (name, _stat_cpu(f"/proc/{pid}/task/{task}/stat"))
        except OSError:  # the thread ended meanwhile
            continue
    return out


def thread_ns(pid: int) -> dict[str, tuple[str, int]]:
    """Thread id -> (thread name, nanoseconds on a CPU so far) for each live thread of
    ``pid``, from /proc/PID/task/TID/schedstat: exact, where stat's utime and stime count
    whole clock ticks (10 ms), which a thread waking every 20 ms may hit in step, too
    coarse for figures of a few tenths of a percent over 10 s."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = "main" if task == str(pid) else f.read().strip()
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                out[task] = (name, int(f.read().split()[0]))
        except (OSError, ValueError, IndexError):  # ended meanwhile, or no schedstat
            continue
    return out


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_percent(pids: Sequence[int], seconds: float) -> list[float]:
    """Percent of one core each process used over the next ``seconds`` (side by side)."""
    return cpu_window(pids, seconds)[0]


def cpu_window(pids: Sequence[int], seconds: float, threads_of: int | None = None,
               precise: bool = False) -> tuple[list[float], dict[str, float]]:
    """Percent of one core each process used over the next ``seconds`` (side by side),
    and per thread name of process ``threads_of`` (threads sharing a name are summed).
    ``precise``: from each thread's schedstat (nanoseconds; a thread that ends within the
    window loses its share), not from clock ticks."""
    if precise:
        return _cpu_window_ns(pids, seconds, threads_of)
    t_start = thread_seconds(threads_of) if threads_of is not None else {}
    start = [cpu_seconds(p) for p in pids]
    t0 = time.monotonic()
    time.sleep(seconds)
    end = [cpu_seconds(p) for p in pids]
    wall = time.monotonic() - t0
    t_end = thread_seconds(threads_of) if threads_of is not None else {}
    by_name: dict[str, float] = {}
    for tid, (name, spent) in t_end.items():
        before = t_start.get(tid, (name, 0.0))[1]
        by_name[name] = by_name.get(name, 0.0) + 100.0 * (spent - before) / wall
    return [100.0 * (b - a) / wall for a, b in zip(start, end, strict=True)], by_name


def _cpu_window_ns(pids: Sequence[int], seconds: float,
                   threads_of: int | None) -> tuple[list[float], dict[str, float]]:
    start = [thread_ns(p) for p in pids]
    t0 = time.monotonic()
    time.sleep(seconds)
    end = [thread_ns(p) for p in pids]
    wall = time.monotonic() - t0
    totals: list[float] = []
    by_name: dict[str, float] = {}
    for pid, before, after in zip(pids, start, end, strict=True):
        total = 0.0
        for tid, (name, spent) in after.items():
            pct = 100.0 * (spent - before.get(tid, (name, 0))[1]) / 1e9 / wall
            total += pct
            if pid == threads_of:
                by_name[name] = by_name.get(name, 0.0) + pct
        totals.append(total)
    return totals, by_name
