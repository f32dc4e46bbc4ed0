"""Writing a configuration out: what is written reads back equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.config import (
    Config,
    FxoPort,
    FxsPort,
    InboundRoute,
    OutboundRoute,
    SipConfig,
    Trunk,
    default_config,
    load_config,
    parse_config,
    to_toml,
)
from firmware.config.render import toml_value

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "config-example.toml"

AWKWARD = Config(
    sip=SipConfig(bind="::1", port=0, transports=("tcp", "udp"), user_agent='say "hi" \\ ok'),
    fxs=(
        FxsPort(port=3, extension="200", name="Zoë's desk \\ (east)", flash_max_ms=1250),
        FxsPort(port=1, extension="+4930", caller_id="5551234", ring_pattern="400/200/400/2000"),
    ),
    fxo=(FxoPort(port=2, extension="200", disconnect=("polarity", "silence")),),
    trunk=(
        Trunk(
            name="a.b-c_d",
            host="[2001:db8::1]",
            transport="tcp",
            register=False,
            password="p#ss = 'w\"rd'",
            realm="example.net",
            outbound_proxy="sip:proxy.example.net:5070;lr",
        ),
    ),
    outbound=(OutboundRoute(pattern="0[1-9]xxxxxxx", trunk="a.b-c_d", strip=1, prepend="+49"),),
    inbound=(InboundRoute(did="+49301234", extension="200"), InboundRoute(extension="+4930")),
)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(default_config(), id="default"),
        pytest.param(Config(), id="empty"),
        pytest.param(load_config(EXAMPLE), id="example"),
        pytest.param(AWKWARD, id="awkward"),
    ],
)
@pytest.mark.parametrize("comments", [False, True])
def test_round_trip(config: Config, comments: bool) -> None:
    assert parse_config(to_toml(config, comments=comments)) == config


def test_default_written_out() -> None:
    text = to_toml(default_config())
    assert text.startswith('[box]\nname = "minipbx"\ncountry = "us"\nboard = "sim"\n'
                           'max_international_minutes_per_hour = 0.0\n\n[sip]\n')
    assert text.count("[[fxs]]") == 2 and text.count("[[fxo]]") == 1
    assert "[[trunk]]" not in text
    assert '\ndisconnect = ["loop_current", "tone"]\n' in text
    assert "\ninterdigit_s = 4.0\n" in text


def test_comments_carry_the_help_text() -> None:
    text = to_toml(default_config(), comments=True)
    assert "# hook switch debounce\ndebounce_ms = 12\n" in text
    assert "# one analog handset port.\n[[fxs]]\n" in text


@pytest.mark.parametrize(
    ("value", "toml"),
    [
        (True, "true"),
        (7, "7"),
        (0.25, "0.25"),
        (1e-7, "1e-07"),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("line\nnext\x7f", '"line\\nnext\\u007f"'),
        (("udp", "tls"), '["udp", "tls"]'),
        ((), "[]"),
    ],
)
def test_values(value: object, toml: str) -> None:
    assert toml_value(value) == toml


def test_unknown_value_type_is_refused() -> None:
    with pytest.raises(TypeError):
        toml_value(object())
