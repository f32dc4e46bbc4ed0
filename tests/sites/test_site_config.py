"""[site], [hub], [[peer_site]] and via: each rule, and numbering conflicts naming both."""

from __future__ import annotations

import pytest

from firmware.config.loader import load_config
from firmware.config.siteprefix import parse_prefix, route_overlap
from firmware.core.errors import ConfigError

BASE = """
[site]
name = "office1"
prefix = "1xx"
[hub]
host = "127.0.0.1"
password = "pw1"
[[fxs]]
port = 1
extension = "101"
[[trunk]]
name = "pstn"
host = "192.0.2.1"
register = false
"""


def problems(tmp_path, extra: str) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text(BASE + extra)
    try:
        load_config(path)
    except ConfigError as exc:
        return str(exc)
    return ""


def test_a_valid_multisite_config_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = """
[[peer_site]]
name = "office2"
prefix = "2xx"
fallback = "101"
[[peer_site]]
name = "office3"
prefix = "3[0-4]x"
host = "127.0.0.1"
port = 5070
[[outbound]]
pattern = "9x."
via = "site:office2"
trunk = "pstn"
"""
    assert problems(tmp_path, extra) == ""
    config = load_config(tmp_path / "c.toml")
    assert config.outbound[0].route_trunks == ("site:office2", "pstn")
    assert [p.name for p in config.peer_site] == ["office2", "office3"]


def test_overlapping_site_prefixes_name_both(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = problems(tmp_path, '[[peer_site]]\nname = "office2"\nprefix = "1[5-9]x"\n')
    assert "peer_site[0].prefix" in text
    assert "office2" in text and "office1" in text and "150" in text


def test_two_peers_overlap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = problems(tmp_path, '[[peer_site]]\nname = "a"\nprefix = "2xx"\n'
                              '[[peer_site]]\nname = "b"\nprefix = "25x|3xx"\n')
    assert "peer_site[1].prefix" in text and "site b" in text and "site a" in text


def test_local_extension_inside_another_sites_prefix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = problems(tmp_path, '[[fxs]]\nport = 2\nextension = "250"\n'
                              '[[peer_site]]\nname = "office2"\nprefix = "2xx"\n')
    assert "fxs[1].extension" in text and "250" in text and "office2" in text


def test_route_swallowing_a_sites_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = problems(tmp_path, '[[peer_site]]\nname = "office2"\nprefix = "2xx"\n'
                              '[[outbound]]\npattern = "[2-9]xx"\ntrunk = "pstn"\n')
    assert "outbound[0].pattern" in text and "200" in text and "office2" in text


@pytest.mark.parametrize("extra, where, words", [
    ('[[outbound]]\npattern = "9x."\nvia = "site:nowhere"\n', "outbound[0].via", "site:NAME"),
    ('[[peer_site]]\nname = "office1"\nprefix = "2xx"\n', "peer_site[0].name", "own"),
    ('[[peer_site]]\nname = "o2"\nprefix = "2x."\n', "peer_site[0].prefix", "fixed length"),
    ('[[peer_site]]\nname = "o2"\nprefix = "2xx"\nfallback = "555"\n',
     "peer_site[0].fallback", "no extension"),
])
def test_each_mistake_is_named(tmp_path, extra: str, where: str,  # type: ignore[no-untyped-def]
                               words: str) -> None:
    text = problems(tmp_path, extra)
    assert where in text and words in text, text


def test_hub_needs_a_password_and_a_site_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.toml"
    path.write_text('[hub]\nhost = "127.0.0.1"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert "site.name" in str(exc.value) and "hub.password" in str(exc.value)


def test_prefix_patterns() -> None:
    p = parse_prefix("2[0-4]x|3xx")
    assert p.matches("249") and not p.matches("250") and p.matches("399")
    assert p.regex() == "^(2[01234][0-9]|3[0-9][0-9])$"
    assert parse_prefix("1xx").overlaps(parse_prefix("2xx")) is None
    assert parse_prefix("1xx").overlaps(parse_prefix("1[5-9]x")) == "150"
    assert route_overlap(parse_prefix("2xx"), "9x.") is None
    assert route_overlap(parse_prefix("2xx"), "2x.") == "200"
    with pytest.raises(ConfigError, match="fixed length"):
        parse_prefix("2xT")
