"""Rules that span more than one value of a built :class:`Config`.

``firmware.config.build`` has already checked every value on its own (type, range, fixed
choices); here the values are checked against each other and against formats a type cannot
say:

- names and numbers that must be unique: FXS and FXO ports, extensions, trunk names, DIDs;
- references: an FXO port and an inbound route ring an extension that exists, an outbound
  route names a trunk that exists (``trunk``, or each of ``trunks``, once, never both
  keys), a trunk's transport is one the box listens on;
- pairs: flash_min_ms < flash_max_ms, and longer than debounce_ms (else every bounce of the
  hook switch would be a flash); the TLS certificate comes with its key;
- formats: dialable numbers, digit maps, ring cadences, the bind addresses (SIP and web),
  an even RTP port (RTP takes the even port and RTCP the odd one above it, RFC 3550), the
  console's device path;
- the country code is one of the known profiles; the caller passes the dsp package's list,
  since this package may not import it.

Each rule returns issues on the key the user has to change (for a duplicate: the second one).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable

from firmware.config.callback_rules import check_callback
from firmware.config.feature_rules import check_features
from firmware.config.office import check_office
from firmware.config.phones import check_sip_users
from firmware.config.problems import Issue, KeyPath, did_you_mean, format_path, network_issues
from firmware.config.schema import (
    KNOWN_COUNTRIES,
    Config,
    ConsoleConfig,
    FxoPort,
    FxsPort,
    SipConfig,
    Trunk,
    WebConfig,
)
from firmware.config.sites import check_sites

NUMBER_RE = re.compile(r"\+?[0-9]{1,20}")
"""A dialable number: an extension, a DID or a presented caller ID (E.164 digits at most)."""

DIALABLE_RE = re.compile(r"[0-9*#+]{0,20}")
"""What ``prepend`` may add: digits, * and #, and + for international format."""

DIGIT_MAP_RE = re.compile(r"[0-9*#A-Da-dxX.T\[\]\-|() ]+")
"""Characters of the MGCP digit map syntax (RFC 3435, 2.1.5) that the dial plan accepts."""

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
"""A trunk name: typed on the console and written in logs, so no spaces or quotes."""

HOST_RE = re.compile(r"[A-Za-z0-9\[][A-Za-z0-9.:\[\]-]*")
"""A host name, IPv4 address, or bracketed IPv6 address."""

PROXY_RE = re.compile(r"sips?:[A-Za-z0-9.\[\]-]+(:[0-9]{1,5})?(;[A-Za-z0-9=;._-]+)?")

CADENCE_STEP_MS = (50, 10000)
"""Bounds of one on or off step of a ring cadence given in ms."""

PATTERN_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
"""A distinctive ring named in the country profile ("dr2"); the profile says which exist."""

SERIAL_URL_RE = re.compile(r"[a-z][a-z0-9+-]*://\S*")
"""A pyserial URL (``loop://``, ``rfc2217://host:port``) in place of a device path."""


def validate_config(config: Config, known_countries: Collection[str] | None = None) -> list[Issue]:
    """Every cross-value issue of ``config``; ``known_countries`` defaults to KNOWN_COUNTRIES."""
    issues: list[Issue] = []
    countries = KNOWN_COUNTRIES if known_countries is None else known_countries
    _check_box(config, countries, issues)
    _check_sip(config.sip, issues)
    for i, fxs in enumerate(config.fxs):
        _check_fxs(fxs, ("fxs", i), issues)
    _unique(issues, "fxs", [p.port for p in config.fxs], "port", "give each port its own number")
    _unique(
        issues,
        "fxs",
        [p.extension for p in config.fxs],
        "extension",
        "give each port its own extension",
    )
    extensions = config.extensions
    for i, fxo in enumerate(config.fxo):
        _check_fxo(fxo, ("fxo", i), extensions, issues)
    _unique(issues, "fxo", [p.port for p in config.fxo], "port", "give each port its own number")
    for i, trunk in enumerate(config.trunk):
        _check_trunk(trunk, ("trunk", i), config.sip, issues)
    _unique(issues, "trunk", [t.name for t in config.trunk], "name", "give each its own name")
    _check_routes(config, extensions, issues)
    check_sites(config, issues)
    if config.dialplan.digit_map:
        _digit_map(config.dialplan.digit_map, ("dialplan", "digit_map"), issues)
    _check_web(config.web, issues)
    _check_console(config.console, issues)
    _check_recording(config, issues)
    issues += check_callback(config)  # [callback] (firmware/config/callback_rules.py)
    issues += check_sip_users(config)  # [[sip_user]] (firmware/config/phones.py)
    issues += check_features(config)  # forwarding and star codes (feature_rules.py)
    issues += check_office(config)  # [[group]], [[menu]], [[schedule]], to (office.py)
    return issues


def _check_box(config: Config, countries: Collection[str], issues: list[Issue]) -> None:
    box = config.box
    if box.country not in countries:
        hint = did_you_mean(box.country, countries) or f"known: {', '.join(sorted(countries))}"
        issues.append(Issue(("box", "country"), f"unknown country '{box.country}'; {hint}"))
    for key, value in (("name", box.name), ("board", box.board)):
        if not value.strip():
            issues.append(Issue(("box", key), "must not be empty"))


def _check_sip(sip: SipConfig, issues: list[Issue]) -> None:
    _bind(sip.bind, "sip", issues)
    if sip.rtp_port % 2:
        issues.append(
            Issue(
                ("sip", "rtp_port"), f"must be even (RTCP takes the odd port), got {sip.rtp_port}"
            )
        )
    if not sip.transports:
        issues.append(Issue(("sip", "transports"), 'must list at least one, e.g. ["udp"]'))
    _unique(issues, ("sip",), list(sip.transports), "transports", "list each transport once")
    paired = _cert_and_key(sip.tls_cert, sip.tls_key, "sip", "TLS", issues)
    if paired and "tls" in sip.transports and not sip.tls_cert:
        issues.append(
            Issue(("sip", "tls_cert"), "the tls transport needs tls_cert and tls_key (PEM files)")
        )


def _check_web(web: WebConfig, issues: list[Issue]) -> None:
    _bind(web.bind, "web", issues)
    _cert_and_key(web.tls_cert, web.tls_key, "web", "HTTPS", issues)


def _bind(address: str, table: str, issues: list[Issue]) -> None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        issues.append(
            Issue((table, "bind"), f"must be an IP address such as 0.0.0.0, got '{address}'")
        )


def _cert_and_key(cert: str, key: str, table: str, what: str, issues: list[Issue]) -> bool:
    """False (and an issue) when only one of the pair is set."""
    if bool(cert) == bool(key):
        return True
    missing = "tls_key" if cert else "tls_cert"
    issues.append(Issue((table, missing), f"must be set too: {what} needs a certificate and key"))
    return False


def _check_console(console: ConsoleConfig, issues: list[Issue]) -> None:
    device = console.device
    if device and not (device.startswith("/") or SERIAL_URL_RE.fullmatch(device)):
        issues.append(
            Issue(
                ("console", "device"),
                f'must be a device path such as "/dev/ttyAMA0" (or a pyserial URL such as'
                f' "loop://"), got \'{device}\'',
            )
        )


def _check_fxs(fxs: FxsPort, at: KeyPath, issues: list[Issue]) -> None:
    _number(fxs.extension, (*at, "extension"), issues)
    if fxs.caller_id:
        _number(fxs.caller_id, (*at, "caller_id"), issues)
    if fxs.flash_min_ms >= fxs.flash_max_ms:
        issues.append(
            Issue(
                (*at, "flash_max_ms"),
                f"must be greater than flash_min_ms ({fxs.flash_min_ms}), got {fxs.flash_max_ms}",
            )
        )
    if fxs.flash_min_ms <= fxs.debounce_ms:
        issues.append(
            Issue(
                (*at, "flash_min_ms"),
                f"must be greater than debounce_ms ({fxs.debounce_ms}), got {fxs.flash_min_ms}",
            )
        )
    if fxs.ring_pattern and not PATTERN_NAME_RE.fullmatch(fxs.ring_pattern):
        steps = fxs.ring_pattern.split("/")
        lo, hi = CADENCE_STEP_MS
        if len(steps) % 2 or not all(s.isdigit() and lo <= int(s) <= hi for s in steps):
            issues.append(
                Issue(
                    (*at, "ring_pattern"),
                    'must be a ring name from the country profile such as "dr2", or on/off'
                    f' pairs in ms, each {lo} to {hi}, such as "400/200/400/2000",'
                    f" got '{fxs.ring_pattern}'",
                )
            )


def _check_fxo(fxo: FxoPort, at: KeyPath, extensions: Collection[str], issues: list[Issue]) -> None:
    if fxo.extension:  # or a destination in to (firmware/config/office.py)
        _known_extension(fxo.extension, (*at, "extension"), extensions, issues)
    if not fxo.disconnect:
        issues.append(
            Issue((*at, "disconnect"), 'must list at least one method, e.g. ["loop_current"]')
        )
    _unique(issues, at, list(fxo.disconnect), "disconnect", "list each method once")


def _check_trunk(trunk: Trunk, at: KeyPath, sip: SipConfig, issues: list[Issue]) -> None:
    issues += network_issues(trunk.allow, (*at, "allow"))
    if not NAME_RE.fullmatch(trunk.name):
        issues.append(
            Issue(
                (*at, "name"),
                f"must be letters, digits, '_', '.' or '-' (at most 32), got '{trunk.name}'",
            )
        )
    if ":" in trunk.host and not trunk.host.startswith("["):
        issues.append(
            Issue(
                (*at, "host"),
                f"must be the host only, got '{trunk.host}'; put a port in port = and drop"
                " any sip: prefix",
            )
        )
    elif not HOST_RE.fullmatch(trunk.host):
        issues.append(Issue((*at, "host"), f"must be a host name or address, got '{trunk.host}'"))
    if trunk.transport not in sip.transports:
        issues.append(
            Issue(
                (*at, "transport"),
                f"'{trunk.transport}' is not in sip.transports ({', '.join(sip.transports)});"
                " add it there",
            )
        )
    if trunk.register and not trunk.username:
        issues.append(
            Issue((*at, "username"), "must be set when register = true (or set register = false)")
        )
    if trunk.outbound_proxy and not PROXY_RE.fullmatch(trunk.outbound_proxy):
        issues.append(
            Issue(
                (*at, "outbound_proxy"),
                f'must be a SIP URI such as "sip:proxy.example.net:5060",'
                f" got '{trunk.outbound_proxy}'",
            )
        )
    if trunk.caller_id:
        _number(trunk.caller_id, (*at, "caller_id"), issues)


def _check_routes(config: Config, extensions: Collection[str], issues: list[Issue]) -> None:
    # A route goes out through a SIP trunk, or through a PSTN line named "fxo<port>".
    trunks = [t.name for t in config.trunk] + [f"fxo{p.port}" for p in config.fxo]
    for i, route in enumerate(config.outbound):
        _digit_map(route.pattern, ("outbound", i, "pattern"), issues)
        if route.trunk and route.trunks:
            issues.append(Issue(("outbound", i, "trunks"), f"set trunk ('{route.trunk}') or "
                                "trunks, not both; put every trunk in trunks"))
        elif not route.route_trunks:
            issues.append(Issue(("outbound", i, "trunk"), 'missing; add trunk = "name", or '
                                'trunks = ["first", "second"] for failover'))
        named: KeyPath = ("outbound", i, "trunks") if route.trunks else ("outbound", i, "trunk")
        # via (a site) is checked with the other [site] rules (firmware.config.sites).
        for j, name in enumerate(route.route_trunks[1:] if route.via else route.route_trunks):
            at: KeyPath = (*named, j) if route.trunks else named
            if name not in trunks:
                hint = did_you_mean(name, trunks)
                if not hint:
                    hint = (
                        f"defined trunks: {', '.join(trunks)}"
                        if trunks
                        else "add a [[trunk]] table with this name"
                    )
                issues.append(Issue(at, f"no trunk named '{name}'; {hint}"))
        if route.trunks:
            _unique(issues, ("outbound", i), list(route.trunks), "trunks",
                    "list each trunk once")
        if not DIALABLE_RE.fullmatch(route.prepend):
            issues.append(
                Issue(
                    ("outbound", i, "prepend"),
                    f"must be digits, '*', '#' or '+', got '{route.prepend}'",
                )
            )
    for i, inbound in enumerate(config.inbound):
        if inbound.did != "*":
            _number(inbound.did, ("inbound", i, "did"), issues, '"*" (any) or ')
        if inbound.extension:  # or a destination in to (firmware/config/office.py)
            _known_extension(inbound.extension, ("inbound", i, "extension"), extensions,
                             issues)
    _unique(
        issues, "inbound", [r.did for r in config.inbound], "did", "the later one never matches"
    )


def _number(value: str, at: KeyPath, issues: list[Issue], alternative: str = "") -> None:
    if not NUMBER_RE.fullmatch(value):
        issues.append(
            Issue(at, f"must be {alternative}digits (up to 20, \"+\" first allowed), got '{value}'")
        )


def _known_extension(
    value: str, at: KeyPath, extensions: Collection[str], issues: list[Issue]
) -> None:
    if value not in extensions:
        known = ", ".join(extensions) if extensions else "none yet; add an [[fxs]] table"
        issues.append(Issue(at, f"no extension '{value}'; known extensions: {known}"))


def _digit_map(value: str, at: KeyPath, issues: list[Issue]) -> None:
    depth = 0
    for char in value:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            break
    if not DIGIT_MAP_RE.fullmatch(value) or depth != 0:
        issues.append(
            Issue(
                at,
                "must be a digit map: digits, * #, x (any digit), [1-5] (a range), . (repeat),"
                f" T (timer), got '{value}'",
            )
        )


def _unique(
    issues: list[Issue], table: str | KeyPath, values: Iterable[object], key: str, fix: str
) -> None:
    """Report each value that repeats an earlier one, on the later table or list item."""
    first: dict[object, int] = {}
    for index, value in enumerate(values):
        if value not in first:
            first[value] = index
            continue
        if isinstance(table, str):
            at: KeyPath = (table, index, key)
            said = f"is already used by {format_path((table, first[value]))}"
        else:
            at = (*table, key, index)
            said = f"is already listed (item {first[value]})"
        issues.append(Issue(at, f"{value!r} {said}; {fix}"))


def _check_recording(config: Config, issues: list[Issue]) -> None:
    """[features] record_toggle is keyed on a handset; [recording] path is a folder."""
    code = config.features.record_toggle
    if not re.fullmatch(r"[0-9*#A-D]{1,4}", code):
        issues.append(Issue(("features", "record_toggle"),
                            f"{code!r}: use 1 to 4 keypad keys (0-9 * # A-D), such as \"*1\""))
    path = config.recording.path
    if path and not path.startswith("/"):
        issues.append(Issue(("recording", "path"),
                            f"{path!r} is not an absolute path; give one such as "
                            "\"/data/recordings\", or \"\" for the state dir's"))
