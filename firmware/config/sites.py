"""Rules of the multi-site tables: ``[site]``, ``[hub]``, ``[[peer_site]]`` and routes'
``via`` (docs/multisite.md).

- ``[site] name`` is a name (letters, digits, ``_ . -``); a prefix needs a name; ``[hub]``
  and ``[[peer_site]]`` need a name too (it is the box's user name at the hub and how the
  other sites' routes call it).
- A hub needs a host, a password, and a transport the box listens on.
- Each peer site has its own name (not this site's) and a prefix; one reached through the
  hub (no ``host``) needs a ``[hub]``; its ``fallback`` is a local extension.
- Numbering conflicts name both sides: two sites whose prefixes claim a number, a local
  extension, group or code inside another site's prefix, an outbound route's pattern that
  matches another site's numbers.
- ``via`` is ``site:NAME`` of a peer site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from firmware.config.problems import Issue, KeyPath, did_you_mean, format_path
from firmware.config.schema import Config
from firmware.config.siteprefix import SitePrefix, parse_prefix, route_overlap
from firmware.core.errors import ConfigError

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
VIA = "site:"


def check_sites(config: Config, issues: list[Issue]) -> None:
    site, hub = config.site, config.hub
    if site.name and not NAME_RE.fullmatch(site.name):
        issues.append(Issue(("site", "name"), "must be letters, digits, '_', '.' or '-' (at"
                            f" most 32), got '{site.name}'"))
    if not site.name:
        for table, used in (("hub", bool(hub.host)), ("peer_site", bool(config.peer_site)),
                            ("site", bool(site.prefix))):
            if used:
                issues.append(Issue(("site", "name"), f"missing; [{table}] needs this box's"
                                    ' site name, e.g. [site] name = "office1"'))
                break
    claims: list[tuple[KeyPath, str, SitePrefix]] = []  # (where, which site, prefix)
    if site.prefix:
        own = _prefix(site.prefix, ("site", "prefix"), issues)
        if own is not None:
            claims.append((("site", "prefix"), site.name or "this site", own))
    if hub.host:
        _check_hub(config, issues)
    names: dict[str, int] = {}
    for i, peer in enumerate(config.peer_site):
        at: KeyPath = ("peer_site", i)
        if not NAME_RE.fullmatch(peer.name):
            issues.append(Issue((*at, "name"), "must be letters, digits, '_', '.' or '-'"
                                f" (at most 32), got '{peer.name}'"))
        elif peer.name == site.name:
            issues.append(Issue((*at, "name"), f"'{peer.name}' is this box's own [site]"
                                " name; a peer site is another office"))
        elif peer.name in names:
            issues.append(Issue((*at, "name"), f"'{peer.name}' is already"
                                f" peer_site[{names[peer.name]}]; give each its own name"))
        names.setdefault(peer.name, i)
        if not peer.host and not hub.host:
            issues.append(Issue((*at, "host"), f"site {peer.name} has no host and there is no"
                                " [hub]; set host (direct) or add a [hub]"))
        if peer.host and peer.transport not in config.sip.transports:
            issues.append(Issue((*at, "transport"), f"'{peer.transport}' is not in"
                                f" sip.transports ({', '.join(config.sip.transports)})"))
        if peer.fallback and peer.fallback not in config.extensions:
            known = ", ".join(config.extensions) or "none"
            issues.append(Issue((*at, "fallback"), f"no extension '{peer.fallback}'; known"
                                f" extensions: {known}"))
        parsed = _prefix(peer.prefix, (*at, "prefix"), issues)
        if parsed is not None:
            claims.append(((*at, "prefix"), peer.name, parsed))
    _overlaps(claims, issues)
    others = [c for c in claims if c[0][0] == "peer_site"]
    _local_numbers(config, others, issues)
    _routes(config, others, set(names), issues)


def _check_hub(config: Config, issues: list[Issue]) -> None:
    hub = config.hub
    for i, number in enumerate(hub.shared):
        _prefix(number, ("hub", "shared", i), issues)
    if ":" in hub.host and not hub.host.startswith("["):
        issues.append(Issue(("hub", "host"), f"must be the host only, got '{hub.host}'; put"
                            " the port in port ="))
    if not hub.password:
        issues.append(Issue(("hub", "password"), "missing; the hub authenticates each site"
                            " (minipbx hub render gives the same password to the hub)"))
    if hub.transport not in config.sip.transports:
        issues.append(Issue(("hub", "transport"), f"'{hub.transport}' is not in"
                            f" sip.transports ({', '.join(config.sip.transports)}); add it"
                            " there"))


def _prefix(text: str, at: KeyPath, issues: list[Issue]) -> SitePrefix | None:
    try:
        return parse_prefix(text)
    except ConfigError as exc:
        issues.append(Issue(at, str(exc)))
        return None


def _overlaps(claims: list[tuple[KeyPath, str, SitePrefix]], issues: list[Issue]) -> None:
    for j, (at, name, prefix) in enumerate(claims):
        for first_at, first_name, first in claims[:j]:
            number = prefix.overlaps(first)
            if number is not None:
                issues.append(Issue(at, f"site {name} ('{prefix.text}') and site {first_name}"
                                    f" ('{first.text}', {format_path(first_at)}) both claim"
                                    f" {number}; give each site its own numbers"))


def _local_numbers(config: Config, others: list[tuple[KeyPath, str, SitePrefix]],
                   issues: list[Issue]) -> None:
    for at, number, what in _numbers(config):
        for _, name, prefix in others:
            if prefix.matches(number):
                issues.append(Issue(at, f"{what} {number} is inside the numbers of site"
                                    f" {name} ('{prefix.text}'); change one of them"))


def _numbers(config: Config) -> Iterable[tuple[KeyPath, str, str]]:
    """Every short number this box answers itself: extensions, and (when those tables
    exist) group numbers and feature codes."""
    for i, fxs in enumerate(config.fxs):
        yield ("fxs", i, "extension"), fxs.extension, "extension"
    for i, group in enumerate(getattr(config, "group", ())):
        number = getattr(group, "number", "")
        if number:
            yield ("group", i, "number"), number, f"group {getattr(group, 'name', i)} number"
    features = getattr(config, "features", None)
    if features is not None:
        for key, value in vars(features).items():
            if isinstance(value, str) and value:
                yield ("features", key), value, f"feature code {key}"


def _routes(config: Config, others: list[tuple[KeyPath, str, SitePrefix]],
            peers: set[str], issues: list[Issue]) -> None:
    for i, route in enumerate(config.outbound):
        for _, name, prefix in others:
            number = route_overlap(prefix, route.pattern)
            if number is not None:
                issues.append(Issue(("outbound", i, "pattern"), f"'{route.pattern}' also"
                                    f" matches {number} of site {name} ('{prefix.text}');"
                                    " those numbers go to the site, narrow the pattern"))
        if route.via:
            target = route.via[len(VIA):] if route.via.startswith(VIA) else ""
            if target not in peers:
                hint = did_you_mean(target, peers) or (
                    f"peer sites: {', '.join(sorted(peers))}" if peers
                    else "add a [[peer_site]] first")
                issues.append(Issue(("outbound", i, "via"), 'must be "site:NAME" of a'
                                    f" [[peer_site]], got '{route.via}'; {hint}"))


def other_site_number(config: Config, number: str) -> bool:
    """Whether ``number`` belongs to another site (a group member there, for instance)."""
    for peer in config.peer_site:
        try:
            if parse_prefix(peer.prefix).matches(number):
                return True
        except ConfigError:
            continue
    return False
