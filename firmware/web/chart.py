"""The dashboard's live load chart, drawn on the server as SVG from ``stats``.

One bar per minute for the last hour, stacked: answered calls, missed calls, the rest
(failed, or busy/unanswered calls out); a line marks the most calls in progress at once in
that minute. No script draws it: the dashboard's feed sends the new SVG when the figures
change, like every other part. Colours are SVG attributes (the page's CSP allows no inline
styles); the numbers are in the table beside it and in each bar's <title> for screen
readers and tooltips.
"""

from __future__ import annotations

import time
from typing import Any

from firmware.web.html import Html, element, esc, join

WIDTH = 600
HEIGHT = 160
PAD_LEFT = 28
PAD_BOTTOM = 18
PAD_TOP = 8
COLOURS = {"answered": "#2e7d32", "missed": "#ef6c00", "other": "#9e9e9e", "peak": "#1565c0"}


def _scale(top: int) -> int:
    """A round axis maximum at or above ``top``."""
    for step in (2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if top <= step:
            return step
    return ((top // 1000) + 1) * 1000


def load_svg(stats: dict[str, Any]) -> Html:
    minutes = stats.get("minutes") or []
    n = max(1, len(minutes))
    top = max([int(m["answered"]) + int(m["missed"]) + int(m["other"]) for m in minutes]
              + [int(m["peak"]) for m in minutes] + [1])
    ymax = _scale(top)
    plot_w = WIDTH - PAD_LEFT - 4
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    bar_w = plot_w / n

    def y(v: float) -> float:
        return PAD_TOP + plot_h - plot_h * v / ymax

    parts: list[str] = []
    for tick in (0, ymax // 2, ymax):
        parts.append(f'<line x1="{PAD_LEFT}" x2="{WIDTH - 4}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="#ddd" stroke-width="1"/>'
                     f'<text x="{PAD_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'font-size="10" fill="#555">{tick}</text>')
    peaks: list[str] = []
    for i, m in enumerate(minutes):
        x = PAD_LEFT + i * bar_w
        base = 0
        label = (f"{time.strftime('%H:%M', time.localtime(float(m['t'])))}: "
                 f"{m['answered']} answered, {m['missed']} missed, {m['other']} other, "
                 f"{m['peak']} at once")
        rects = []
        for key in ("answered", "missed", "other"):
            v = int(m[key])
            if v:
                rects.append(f'<rect x="{x + 1:.1f}" y="{y(base + v):.1f}" '
                             f'width="{max(1.0, bar_w - 2):.1f}" '
                             f'height="{y(base) - y(base + v):.1f}" fill="{COLOURS[key]}"/>')
                base += v
        parts.append(f'<g class="bar" data-minute="{i}"><title>{esc(label)}</title>'
                     f'<rect x="{x:.1f}" y="{PAD_TOP}" width="{bar_w:.1f}" '
                     f'height="{plot_h}" fill="transparent"/>{"".join(rects)}</g>')
        peaks.append(f"{x + bar_w / 2:.1f},{y(int(m['peak'])):.1f}")
    if peaks:
        parts.append(f'<polyline points="{" ".join(peaks)}" fill="none" '
                     f'stroke="{COLOURS["peak"]}" stroke-width="1.5"/>')
    for i, text in ((0, "-60 min"), (n // 2, "-30 min"), (n - 1, "now")):
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        parts.append(f'<text x="{PAD_LEFT + (i + (0 if i == 0 else 1)) * bar_w:.1f}" '
                     f'y="{HEIGHT - 4}" text-anchor="{anchor}" font-size="10" '
                     f'fill="#555">{text}</text>')
    calls = sum(int(m["answered"]) + int(m["missed"]) + int(m["other"]) for m in minutes)
    return Html(f'<svg class="load-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
                f'aria-label="Calls per minute, last hour: {calls} calls" '
                f'data-calls="{calls}" xmlns="http://www.w3.org/2000/svg">'
                f'{"".join(parts)}</svg>')


def _legend() -> Html:
    words = {"answered": "answered", "missed": "missed", "other": "other",
             "peak": "most at once"}
    return join(element("span", join([
        Html(f'<svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
             f'fill="{COLOURS[k]}"/></svg> '), words[k]]), class_="key")
        for k in words)


_last: list[tuple[dict[str, Any], Html]] = []
"""The last figures drawn and their HTML: the feed asks five times a second, the figures
change at most every 2 s (firmware/app/load.py shares one answer meanwhile)."""


def load_part(stats: dict[str, Any] | None) -> Html:
    """The dashboard's load part: figures now and over 5 and 60 minutes, and the chart."""
    if not stats:
        return Html("<p>No load figures.</p>")
    if _last and _last[0][0] is stats:
        return _last[0][1]
    html = _draw(stats)
    _last[:] = [(stats, html)]
    return html


def _draw(stats: dict[str, Any]) -> Html:
    rows = []
    for name, w in (stats.get("windows") or {}).items():
        wait = w.get("avg_queue_wait_s")
        rows.append(element("tr", join([
            element("th", f"Last {name.replace('m', ' min')}", scope="row"),
            element("td", w["calls"]), element("td", w["calls_per_minute"]),
            element("td", w["answered"]), element("td", w["missed"]),
            element("td", w["peak_in_progress"]),
            element("td", "—" if wait is None else f"{wait} s")])))
    head = Html('<thead><tr><th scope="col"></th><th scope="col">Calls</th>'
                '<th scope="col">Per minute</th><th scope="col">Answered</th>'
                '<th scope="col">Missed</th><th scope="col">Most at once</th>'
                '<th scope="col">Queue wait</th></tr></thead>')
    busy = []
    for kind in ("trunk", "line", "group"):
        used = {k: v for k, v in (stats.get("channels", {}).get(kind) or {}).items() if v}
        if used:
            busy.append(f"{kind} " + ", ".join(f"{k} {v}" for k, v in sorted(used.items())))
    now = element("p", join([
        "In progress: ", element("strong", stats.get("calls_in_progress", 0),
                                 class_="in-progress"),
        f"; busy: {'; '.join(busy)}" if busy else "; no channel busy"]))
    table = Html(f'<div class="scroll"><table class="load">{head}<tbody>{join(rows)}'
                 f'</tbody></table></div>')
    return join([now, table, load_svg(stats), element("p", _legend(), class_="legend")])
