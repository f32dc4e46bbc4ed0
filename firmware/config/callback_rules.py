"""Rules of ``[callback]`` and ``[inform]`` that span values or need a format (called by
``firmware.config.validate``).

- An enabled call-back needs somewhere to ring (``to``: ``ext:N``, ``group:NAME``,
  ``menu:NAME`` or ``dial:NUMBER``), numbers it may call (``allowed``, digit-map patterns),
  and a ``token`` of at least MIN_TOKEN characters (the web site's form sends it; a short
  one is guessed).
- ``origins`` are web origins exactly as a browser sends them: ``https://host`` or
  ``http://host:port``, no path, no trailing slash (the CORS check compares text).
- ``schedule`` names a ``[[schedule]]`` when the configuration has such tables.
- ``to`` names an extension, group or menu that exists, when the configuration has them.
"""

from __future__ import annotations

import re

from firmware.config.problems import Issue, did_you_mean
from firmware.config.schema import Config

MIN_TOKEN = 16
DESTINATION_RE = re.compile(r"(ext|group|menu|dial):([A-Za-z0-9_.+*#-]+)")
PATTERN_RE = re.compile(r"[0-9*#A-Da-dxX.T\[\]\-]+")
ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


def check_callback(config: Config) -> list[Issue]:
    cb = config.callback
    issues: list[Issue] = []
    at = ("callback",)
    if cb.to:
        m = DESTINATION_RE.fullmatch(cb.to)
        if m is None:
            issues.append(Issue((*at, "to"), f"'{cb.to}' is not a destination to ring; use "
                                              "ext:N, group:NAME, menu:NAME or dial:NUMBER"))
        else:
            _known(config, m.group(1), m.group(2), issues)
    elif cb.enabled:
        issues.append(Issue((*at, "to"), 'must be set when enabled: who rings, such as '
                                         '"group:sales"'))
    for i, pattern in enumerate(cb.allowed):
        if not PATTERN_RE.fullmatch(pattern):
            issues.append(Issue((*at, "allowed", i), f"'{pattern}' is not a digit-map pattern; "
                                                     'write it like "9x." or "8[2-9]xxxxxxxxx"'))
    if cb.enabled and not cb.allowed:
        issues.append(Issue((*at, "allowed"), 'must list the numbers that may be called back, '
                                              'such as ["9x."]'))
    if cb.enabled and len(cb.token) < MIN_TOKEN:
        issues.append(Issue((*at, "token"), f"must be at least {MIN_TOKEN} characters when "
                                            "enabled (make one with `openssl rand -hex 16`)"))
    for i, origin in enumerate(cb.origins):
        if not ORIGIN_RE.fullmatch(origin):
            issues.append(Issue((*at, "origins", i), f"'{origin}' is not a web origin; write "
                                                     "it like https://www.example.com (no path,"
                                                     " no trailing slash)"))
    if cb.schedule:
        schedules = getattr(config, "schedule", None)
        if schedules is not None:
            names = [str(getattr(s, "name", "")) for s in schedules]
            if cb.schedule not in names:
                hint = (did_you_mean(cb.schedule, names)
                        or f"schedules: {', '.join(names) or 'none'}")
                issues.append(Issue((*at, "schedule"), f"no [[schedule]] named "
                                                       f"'{cb.schedule}'; {hint}"))
    return issues


def _known(config: Config, kind: str, name: str, issues: list[Issue]) -> None:
    if kind == "ext":
        known = list(config.extensions)
    elif kind in ("group", "menu"):
        tables = getattr(config, kind, None)
        if tables is None:
            return  # this build has no such tables yet: the app refuses it at start
        known = [str(getattr(t, "name", "")) for t in tables]
    else:
        return
    if name not in known:
        hint = did_you_mean(name, known) or f"known: {', '.join(known) or 'none'}"
        issues.append(Issue(("callback", "to"), f"no {kind} '{name}'; {hint}"))
