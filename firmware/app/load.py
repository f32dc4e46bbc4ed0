"""Live load: what the box carries now and over the last 5 and 60 minutes (``minipbx
stats``, the dashboard's chart).

- *Now* comes from ``status``: calls in progress, callers waiting in group queues, and the
  channels busy per trunk (calls out through it, and SIP calls in), per line (FXO lines
  seized, FXS phones off hook or ringing) and per group (its members' phones busy).
- *Per minute* comes from the records database: calls that started in each of the last
  60 minutes, answered, missed (see firmware/records/model.py) and the rest, plus the
  average wait in group queues (absent until groups queue calls).
- *Peak* calls in progress per minute comes from samples the daemon takes every
  SAMPLE_S (kept for an hour, in memory: a restart starts a new hour).
- One answer is computed at most every CACHE_S and shared: the dashboard's feed asks five
  times a second, whoever watches.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from firmware.records.model import MISSED
from firmware.records.store import CallStore

SAMPLE_S = 5.0
CACHE_S = 2.0
MINUTES = 60
WINDOWS = (5, 60)

log = logging.getLogger(__name__)

StatusFn = Callable[[], dict[str, Any]]


Groups = Callable[[], dict[str, tuple[str, ...]]]


def channels(status: dict[str, Any],
             groups: dict[str, tuple[str, ...]] | None = None) -> dict[str, dict[str, int]]:
    """Busy channels now, per trunk, line and group (members whose phone is off hook or
    ringing), from one ``status`` reading and the groups' members."""
    trunk: dict[str, int] = {}
    outbound = status.get("outbound") or {}
    for name, n in (outbound.get("calls_out") or {}).items():
        trunk[str(name)] = int(n)
    sip_in = sum(1 for c in ((status.get("sip") or {}).get("calls") or {}).values()
                 if c.get("direction") == "in")
    if sip_in:
        trunk["sip in"] = sip_in
    line: dict[str, int] = {}
    busy_extensions: set[str] = set()
    for p in status.get("ports", []):
        busy = (p.get("seized") if p.get("kind") != "fxs"
                else p.get("hook") == "off" or p.get("ringing"))
        line[str(p.get("leg"))] = 1 if busy else 0
        if busy and p.get("kind") == "fxs" and p.get("extension"):
            busy_extensions.add(str(p["extension"]))
    group = {name: sum(1 for m in members if m in busy_extensions)
             for name, members in (groups or {}).items()}
    return {"trunk": trunk, "line": line, "group": group}


def in_progress(status: dict[str, Any]) -> int:
    return sum(1 for c in status.get("calls", []) if c.get("state") != "ended")


class LoadMeter:
    def __init__(self, store: Callable[[], CallStore | None], status: StatusFn,
                 clock: Callable[[], float] = time.time,
                 groups: Groups = dict) -> None:
        self._store = store
        self._groups = groups
        self._status = status
        self._clock = clock
        # (wall time, calls in progress), one every SAMPLE_S for the last hour.
        self.samples: deque[tuple[float, int]] = deque(maxlen=int(3600 / SAMPLE_S) + 2)
        self._cached: tuple[float, dict[str, Any]] | None = None

    def sample(self) -> None:
        """One reading of the calls in progress (the daemon calls this every SAMPLE_S)."""
        self.samples.append((self._clock(), in_progress(self._status())))

    def stats(self) -> dict[str, Any]:
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < CACHE_S:
            return self._cached[1]
        result = self._compute(now)
        self._cached = (now, result)
        return result

    def _compute(self, now: float) -> dict[str, Any]:
        status = self._status()
        current = in_progress(status)
        # Minute buckets end at the next whole minute, so a bucket does not move under
        # the chart between two updates.
        end = (int(now // 60) + 1) * 60.0
        since = end - MINUTES * 60.0
        minutes = [{"t": since + 60.0 * i, "answered": 0, "missed": 0, "other": 0,
                    "peak": 0, "wait_sum": 0.0, "wait_n": 0} for i in range(MINUTES)]
        store = self._store()
        try:
            buckets = store.buckets(since, 60.0) if store is not None else []
        except sqlite3.Error as exc:  # the figures from the records wait for the disk
            log.warning("live load: cannot read the call records: %s", exc)
            buckets = []
        if buckets:
            for b in buckets:
                i = int(b["bucket"])
                if not 0 <= i < MINUTES:
                    continue
                m = minutes[i]
                calls, missed = int(b["calls"]), int(b["missed"] or 0)
                if b["disposition"] == "answered":
                    m["answered"] += calls
                elif b["disposition"] in MISSED:
                    m["missed"] += missed
                    m["other"] += calls - missed
                else:
                    m["other"] += calls
                m["wait_sum"] += float(b["wait_sum"] or 0.0)
                m["wait_n"] += int(b["wait_n"] or 0)
        for t, n in [*self.samples, (now, current)]:
            i = int((t - since) // 60)
            if 0 <= i < MINUTES:
                minutes[i]["peak"] = max(int(minutes[i]["peak"]), n)
        windows = {f"{w}m": _window(minutes[-w:], w) for w in WINDOWS}
        return {
            "at": now, "calls_in_progress": current,
            "queued": sum(1 for c in status.get("calls", []) if c.get("state") == "queued"),
            "channels": channels(status, self._groups()),
            "windows": windows,
            "minutes": [{k: m[k] for k in ("t", "answered", "missed", "other", "peak")}
                        for m in minutes],
        }


def _window(minutes: list[dict[str, Any]], width: int) -> dict[str, Any]:
    answered = sum(int(m["answered"]) for m in minutes)
    missed = sum(int(m["missed"]) for m in minutes)
    calls = answered + missed + sum(int(m["other"]) for m in minutes)
    waits = sum(int(m["wait_n"]) for m in minutes)
    return {
        "calls": calls, "answered": answered, "missed": missed,
        "calls_per_minute": round(calls / width, 2),
        "peak_in_progress": max((int(m["peak"]) for m in minutes), default=0),
        # None until a group's queue has held a call in the window.
        "avg_queue_wait_s": round(sum(float(m["wait_sum"]) for m in minutes) / waits, 1)
        if waits else None,
    }


async def sample_load(meter: LoadMeter, stop: asyncio.Event) -> None:
    """The daemon's sampler: calls in progress every SAMPLE_S."""
    while not stop.is_set():
        try:
            meter.sample()
        except Exception:
            log.exception("sampling the live load failed")
        await asyncio.sleep(SAMPLE_S)
