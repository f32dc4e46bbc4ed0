"""Durations as people type them, for every front end alike: ``90``, ``90s``, ``250ms``,
``5m``, ``1.5min``, ``1h`` (``minipbx config commit --confirm 5m``, the console's
``config commit --confirm 90s``)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?")
_UNITS = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """The duration in seconds; ValueError says how to write one."""
    m = _DURATION.fullmatch(text.strip().lower())
    if not m:
        raise ValueError(f"{text!r} is not a duration: write it like 90, 90s, 5m or 1h")
    return float(m.group(1)) * _UNITS[m.group(2)]
