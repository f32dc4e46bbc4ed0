"""Rules of ``[callback]`` and ``[inform]`` that span values or need a format (called by
``firmware.config.validate``).

- An enabled call-back needs somewhere to ring (``to``: ``ext:N``, ``group:NAME``,
  ``menu:NAME`` or ``dial:NUMBER``), numbers it may call (``allowed``, digit-map patterns),
  and a ``token`` of at least MIN_TOKEN characters (the web site's form sends it; a short
  one is guessed).
- ``origins`` are web origins exactly as a browser sends them: ``https://host`` or
  ``http://host:port``, no path, no trailing slash (the CORS check compares text).
- ``schedule`` names a ``[[schedule]]``; ``to`` (parsed as any destination,
  firmware/core/destinations.py) names an extension, group or menu that exists.
"""

from __future__ import annotations

import re

from firmware.config.problems import Issue, did_you_mean
from firmware.config.schema import Config
from firmware.core.destinations import parse_destination
from firmware.core.errors import ConfigError

MIN_TOKEN = 16
RINGS = ("ext", "group", "menu", "dial")
"""Destinations a call-back can ring first (announce, voicemail and hangup ring nobody)."""
PATTERN_RE = re.compile(r"[0-9*#A-Da-dxX.T\[\]\-]+")
ORIGIN_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


def check_callback(config: Config) -> list[Issue]:
    cb = config.callback
    issues: list[Issue] = []
    at = ("callback",)
    if cb.to:
        try:
            dest = parse_destination(cb.to)
        except ConfigError as exc:
            issues.append(Issue((*at, "to"), str(exc)))
        else:
            if dest.kind not in RINGS:
                issues.append(Issue((*at, "to"), f"'{cb.to}' rings nobody; a call-back rings "
                                                  "ext:N, group:NAME, menu:NAME or dial:NUMBER"))
            else:
                _known(config, dest.kind, dest.target, issues)
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
    names = [s.name for s in config.schedule]
    if cb.schedule and cb.schedule not in names:
        hint = did_you_mean(cb.schedule, names) or f"schedules: {', '.join(names) or 'none'}"
        issues.append(Issue((*at, "schedule"), f"no [[schedule]] named '{cb.schedule}'; {hint}"))
    return issues


def _known(config: Config, kind: str, name: str, issues: list[Issue]) -> None:
    if kind == "ext":
        known = list(config.extensions)
    elif kind == "group":
        known = [g.name for g in config.group]
    elif kind == "menu":
        known = [m.name for m in config.menu]
    else:
        return
    if name not in known:
        hint = did_you_mean(name, known) or f"known: {', '.join(known) or 'none'}"
        issues.append(Issue(("callback", "to"), f"no {kind} '{name}'; {hint}"))
