"""The toll-fraud and failover keys: [[fxs]] permission and max_outbound_calls, [[trunk]]
max_calls, [box] max_international_minutes_per_hour, [[outbound]] trunk or trunks; and that
they reach the dial plan (firmware/app/wiring.py build_plan)."""

from __future__ import annotations

import pytest

from firmware.app.wiring import build_plan
from firmware.config import InvalidConfigError, parse_config
from firmware.pbx.tollguard import Permission

BASE = """
[box]
country = "uk"
max_international_minutes_per_hour = 30
[[fxs]]
port = 1
extension = "101"
permission = "international"
max_outbound_calls = 2
[[fxs]]
port = 2
extension = "102"
[[fxo]]
port = 1
extension = "101"
[[trunk]]
name = "provider"
host = "sip.example.net"
register = false
max_calls = 3
[[trunk]]
name = "backup"
host = "sip.backup.example"
register = false
"""


def refused(text: str) -> str:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(text, "config.toml")
    return str(info.value)


def test_keys_reach_the_dial_plan() -> None:
    config = parse_config(BASE + '[[outbound]]\npattern = "9x."\n'
                          'trunks = ["provider", "backup", "fxo1"]\nstrip = 1\n'
                          '[[outbound]]\npattern = "8x."\ntrunk = "backup"\n')
    plan = build_plan(config)
    one, two = plan.extensions
    assert (one.permission, one.max_outbound_calls) == (Permission.INTERNATIONAL, 2)
    assert (two.permission, two.max_outbound_calls) == (Permission.NATIONAL, 0)  # defaults
    assert [(t.name, t.max_calls) for t in plan.trunks] == [("provider", 3), ("backup", 0)]
    assert [r.trunks for r in plan.outbound] == [("provider", "backup", "fxo1"), ("backup",)]
    assert plan.max_international_minutes_per_hour == 30
    assert plan.numbering.international == ("00",) and "09" in plan.numbering.premium


def test_unknown_permission_is_refused_with_the_choices() -> None:
    text = BASE.replace('permission = "international"', 'permission = "world"')
    assert ("fxs[0].permission: must be 'internal', 'local', 'national', 'international' or"
            " 'premium'") in refused(text)


def test_route_needs_trunk_or_trunks_not_both() -> None:
    message = refused(BASE + '[[outbound]]\npattern = "9x."\n')
    assert "outbound[0].trunk: missing; add trunk = \"name\", or trunks = [" in message
    message = refused(BASE + '[[outbound]]\npattern = "9x."\ntrunk = "provider"\n'
                      'trunks = ["backup"]\n')
    assert "outbound[0].trunks: set trunk ('provider') or trunks, not both" in message


def test_each_failover_trunk_must_exist_once() -> None:
    message = refused(BASE + '[[outbound]]\npattern = "9x."\n'
                      'trunks = ["provider", "bakup", "provider"]\n')
    assert "outbound[0].trunks[1]: no trunk named 'bakup'; did you mean 'backup'?" in message
    assert "outbound[0].trunks[2]: 'provider' is already listed (item 0)" in message


@pytest.mark.parametrize(("key", "line"), [
    ("fxs[0].max_outbound_calls", "max_outbound_calls = 99"),
    ("trunk[0].max_calls", "max_calls = -1"),
    ("box.max_international_minutes_per_hour", "max_international_minutes_per_hour = -5")])
def test_limits_have_ranges(key: str, line: str) -> None:
    name = line.split(" = ")[0]
    text = "\n".join(line if ln.startswith(name + " = ") else ln for ln in BASE.split("\n"))
    assert f"{key}: must be between" in refused(text)
