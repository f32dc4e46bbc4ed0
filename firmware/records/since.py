"""``--since`` as people type it: a duration back from now (``90s``, ``30m``, ``1h``,
``7d``) or a date or time (``2026-12-07``, ``2026-12-07T09:30``, local time unless it
names a zone)."""

from __future__ import annotations

import datetime as dt
import re

from firmware.core.durations import parse_duration

_DAYS = re.compile(r"(\d+(?:\.\d+)?)\s*d")


def parse_since(text: str, now: float) -> float:
    """The wall-clock instant ``text`` names; ValueError says how to write one."""
    text = text.strip()
    m = _DAYS.fullmatch(text.lower())
    if m:
        return now - float(m.group(1)) * 86400.0
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"since {text!r}: write a duration back from now (90s, 30m, 1h, "
                         "7d) or a date and time (2026-12-07, 2026-12-07T09:30)") from None
    return when.timestamp() if when.tzinfo else when.astimezone().timestamp()
