"""Live load figures and the dashboard's chart from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from firmware.app.load import CACHE_S, LoadMeter, channels
from firmware.records.model import CallRow
from firmware.records.store import CallStore
from firmware.web.chart import load_part, load_svg

NOW = 1_800_000_030.0  # 30 s into a minute


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> float:
        return self.t


STATUS: dict[str, Any] = {
    "calls": [{"state": "connected"}, {"state": "queued"}, {"state": "ended"}],
    "ports": [{"leg": "fxs1", "kind": "fxs", "hook": "off", "extension": "101"},
              {"leg": "fxs2", "kind": "fxs", "hook": "on", "ringing": True,
               "extension": "102"},
              {"leg": "fxs3", "kind": "fxs", "hook": "on", "extension": "103"},
              {"leg": "fxo1", "kind": "fxo", "seized": True, "extension": "103"}],
    "outbound": {"calls_out": {"itsp": 2}},
    "sip": {"calls": {"sip4": {"direction": "in"}, "out1": {"direction": "out"}}},
}


def test_channels_per_trunk_line_and_group() -> None:
    got = channels(STATUS, {"sales": ("101", "102", "103"), "support": ("103",)})
    assert got == {"trunk": {"itsp": 2, "sip in": 1},
                   "line": {"fxs1": 1, "fxs2": 1, "fxs3": 0, "fxo1": 1},
                   "group": {"sales": 2, "support": 0}}


def test_windows_minutes_and_peaks(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "cdr.sqlite")
    store.add([
        CallRow(start=NOW - 10, end=NOW - 5, answer=NOW - 8, status="ANSWERED"),
        CallRow(start=NOW - 20, end=NOW - 2, status="NO_ANSWER", callee_ext="102"),
        CallRow(start=NOW - 25, end=NOW - 20, status="NO_ANSWER"),  # out: not missed
        CallRow(start=NOW - 600, end=NOW - 590, status="BUSY", callee_ext="101",
                queue_wait=12.0),
        CallRow(start=NOW - 7200, end=NOW - 7100, status="ANSWERED")])
    clock = Clock()
    meter = LoadMeter(lambda: store, lambda: STATUS, clock=clock,
                      groups=lambda: {"sales": ("101",)})
    clock.t = NOW - 300
    meter.sample()
    clock.t = NOW
    stats = meter.stats()
    assert (stats["calls_in_progress"], stats["queued"]) == (2, 1)
    five, hour = stats["windows"]["5m"], stats["windows"]["60m"]
    assert (five["calls"], five["answered"], five["missed"]) == (3, 1, 1)
    assert five["calls_per_minute"] == 0.6 and five["avg_queue_wait_s"] is None
    assert (hour["calls"], hour["missed"], hour["avg_queue_wait_s"]) == (4, 2, 12.0)
    assert hour["peak_in_progress"] == 2
    minutes = stats["minutes"]
    assert len(minutes) == 60 and minutes[-1]["t"] <= NOW < minutes[-1]["t"] + 60
    assert (minutes[-1]["answered"], minutes[-1]["missed"], minutes[-1]["other"]) == (1, 1, 1)
    # One answer is shared for CACHE_S.
    store.add([CallRow(start=NOW, end=NOW + 1, status="BUSY")])
    clock.t = NOW + CACHE_S / 2
    assert meter.stats() is stats
    clock.t = NOW + CACHE_S
    assert meter.stats()["windows"]["5m"]["calls"] == 4


def test_the_chart_draws_a_bar_a_minute_with_its_numbers() -> None:
    minutes = [{"t": NOW - 60 * (60 - i), "answered": i % 3, "missed": 1 if i == 59 else 0,
                "other": 0, "peak": 1} for i in range(60)]
    stats = {"minutes": minutes, "calls_in_progress": 1,
             "channels": {"trunk": {"itsp": 1}, "line": {"fxs1": 1}, "group": {}},
             "windows": {"5m": {"calls": 5, "answered": 4, "missed": 1,
                                "calls_per_minute": 1.0, "peak_in_progress": 1,
                                "avg_queue_wait_s": None}}}
    svg = load_svg(stats)
    assert svg.count('class="bar"') == 60
    calls = sum(m["answered"] + m["missed"] for m in minutes)
    assert f'data-calls="{calls}"' in svg and "<title>" in svg
    assert "1 missed" in svg and 'fill="#ef6c00"' in svg
    html = load_part(stats)
    assert "trunk itsp 1; line fxs1 1" in html and "Last 5 min" in html
    assert not re.search(r"style=", html)  # the CSP allows no inline styles
    assert load_part(None) == "<p>No load figures.</p>"
