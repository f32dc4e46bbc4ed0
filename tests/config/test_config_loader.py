"""Loading: the default and the documented example are valid; every refusal is located."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from firmware.config import (
    Config,
    FxsPort,
    InvalidConfigError,
    Problem,
    SipConfig,
    Trunk,
    check_config,
    default_config,
    load_config,
    parse_config,
)
from firmware.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "config-example.toml"


def test_default_config_is_the_documented_box() -> None:
    config = default_config()
    assert check_config(config) is config
    assert [(p.port, p.extension) for p in config.fxs] == [(1, "101"), (2, "102")]
    assert [(p.port, p.extension) for p in config.fxo] == [(1, "101")]
    assert (config.box.country, config.box.board) == ("us", "sim")
    assert (config.sip.bind, config.sip.port) == ("127.0.0.1", 5060)
    assert config.trunk == ()


def test_empty_file_is_the_schema_defaults() -> None:
    assert parse_config("") == Config()


def test_example_with_a_trunk_parses() -> None:
    config = load_config(EXAMPLE)
    assert config.box.name == "office-pbx"
    assert config.sip.transports == ("udp", "tcp")
    trunk, backup = config.trunk
    assert backup.name == "backup"
    assert trunk == Trunk(
        name="provider",
        host="sip.example.net",
        username="5551000",
        password="change-me",
        caller_id="5551000",
        caller_name="Example Office",
        allow=("203.0.113.0/24",),
        max_calls=4,
    )
    assert [(r.pattern, r.route_trunks, r.strip) for r in config.outbound] == [
        ("9x.", ("provider", "backup", "fxo1"), 1),
        ("911", ("provider",), 0),
    ]
    assert [(r.did, r.extension) for r in config.inbound] == [("5551000", "101"), ("*", "102")]
    assert config.fxs[1].ring_cadence_ms == (1000, 2000)
    assert (config.fxs[0].ring_pattern, config.fxs[0].ring_cadence_ms) == ("dr2", ())
    assert FxsPort(port=1, extension="1").ring_cadence_ms == ()


def test_example_sets_every_key_of_the_schema() -> None:
    """The README shows this file, so it must show every key a user can set."""
    text = EXAMPLE.read_text(encoding="utf-8")
    config = parse_config(text)
    tables = [(f.name, getattr(config, f.name)) for f in dataclasses.fields(config)]
    for name, value in tables:
        first = value[0] if isinstance(value, tuple) else value
        assert dataclasses.is_dataclass(first), f"the example has no [{name}] table"
        header = f"[[{name}]]" if isinstance(value, tuple) else f"[{name}]"
        section = text.split(f"\n{header}\n", 1)[1].split("\n[", 1)[0]
        for key in dataclasses.fields(first):
            assert f"\n{key.name} = " in "\n" + section, f"{header} does not show {key.name}"


def test_effective_defaults_fall_back() -> None:
    trunk = Trunk(name="t", host="h", username="alice")
    assert (trunk.effective_auth_username, trunk.effective_caller_id) == ("alice", "alice")
    trunk = dataclasses.replace(trunk, auth_username="a1", caller_id="5550")
    assert (trunk.effective_auth_username, trunk.effective_caller_id) == ("a1", "5550")
    assert SipConfig().effective_user_agent.startswith("minipbx/")
    assert SipConfig(user_agent="x/1").effective_user_agent == "x/1"


def test_password_is_not_in_repr() -> None:
    trunk = Trunk(name="t", host="h", username="u", password="s3cret")
    assert "s3cret" not in repr(trunk)


def test_known_countries_come_from_the_caller() -> None:
    assert parse_config('[box]\ncountry = "nz"\n', known_countries=["nz"]).box.country == "nz"
    with pytest.raises(ConfigError, match="unknown country 'us'; known: nz"):
        parse_config("", "config.toml", known_countries=["nz"])


def test_every_problem_is_reported_in_file_order() -> None:
    text = '[[fxs]]\nport = 0\nextension = "101"\ndebounce_ms = 99\n[sip]\nprot = 5060\n'
    with pytest.raises(InvalidConfigError) as info:
        parse_config(text, "config.toml")
    assert str(info.value) == (
        "config.toml:2: fxs[0].port: must be between 1 and 64, got 0\n"
        "config.toml:4: fxs[0].debounce_ms: must be between 5 and 50, got 99\n"
        "config.toml:6: sip.prot: unknown key in [sip]; did you mean 'port'?"
    )
    assert info.value.problems[1] == Problem(
        "config.toml", 4, "fxs[0].debounce_ms", "must be between 5 and 50, got 99"
    )
    assert isinstance(info.value, ValueError)


def test_cross_checks_wait_for_clean_values() -> None:
    """A wrong type is fixed first; cross checks on a half-built file would only add noise."""
    with pytest.raises(ConfigError) as info:
        parse_config('[box]\ncountry = "zz"\n[sip]\nport = "x"\n', "config.toml")
    assert str(info.value).count("\n") == 0
    assert "sip.port" in str(info.value)


def test_check_config_reports_keys_without_lines() -> None:
    config = Config(fxs=(FxsPort(port=1, extension="101", flash_min_ms=900, flash_max_ms=100),))
    with pytest.raises(ConfigError) as info:
        check_config(config)
    assert str(info.value) == (
        "<config>: fxs[0].flash_max_ms: must be greater than flash_min_ms (900), got 100"
    )


SYNTAX = [
    pytest.param(
        "[box]\nname = Reception\n",
        "config.toml:2: box.name: TOML syntax error: Invalid value (column 8);"
        ' text needs quotes (name = "Reception"); numbers, true and false do not',
        id="unquoted-text",
    ),
    pytest.param(
        "[sip]\nport = 1\nport = 2\n",
        "config.toml:3: sip.port: TOML syntax error: Cannot overwrite a value (column 9);"
        " this key is already set in this table; keep only one of them",
        id="key-twice",
    ),
    pytest.param(
        '[[fxs]]\nport = 1\n[[fxs]]\nport = 2\nextension = "102\n',
        "config.toml:5: fxs[1].extension: TOML syntax error: Illegal character '\\n'"
        " (column 17); close the text with the same quote on the same line",
        id="unterminated-text",
    ),
    pytest.param(
        '[sip]\ntransports = ["udp",\n',
        "config.toml:2: sip.transports: TOML syntax error: Invalid value;"
        " the file ends inside a list, table or text; close it",
        id="end-of-document",
    ),
    pytest.param(
        '[box\nname = "x"\n',
        "config.toml:1: TOML syntax error: Expected ']' at the end of a table declaration"
        " (column 5); close the header with ] (or ]] for an [[array]] table)",
        id="broken-header",
    ),
    pytest.param(
        "[box]\n[box]\n",
        "config.toml:2: box: TOML syntax error: Cannot declare ('box',) twice (column 5);"
        " this table is already declared; merge the two, or use [[name]] for a list",
        id="table-twice",
    ),
    pytest.param(
        "[sip]\nport = 1 rtp_port = 2\n",
        "config.toml:2: sip.port: TOML syntax error: Expected newline or end of document after"
        " a statement (column 10); put each key = value on its own line",
        id="two-on-a-line",
    ),
    pytest.param(
        "[sip]\n= 5060\n",
        "config.toml:2: sip: TOML syntax error: Invalid statement (column 1);"
        " see docs/config-example.toml",
        id="no-key",
    ),
]


@pytest.mark.parametrize(("text", "message"), SYNTAX)
def test_syntax_errors_name_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(text, "config.toml")
    assert str(info.value) == message


def test_load_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[sip]\n\nport = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{path}:3: sip.port: must be between 0 and 65535"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: cannot read the configuration: No such file or directory; check the path,"
        " or start from docs/config-example.toml"
    )


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[box]\nname = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:2: is not UTF-8 text; save the file as UTF-8"


def test_windows_line_endings_and_bom_are_read() -> None:
    text = '\ufeff[box]\r\nname = "x"\r\n[sip]\r\nport = 99999\r\n'
    with pytest.raises(ConfigError, match=r"^c\.toml:4: sip\.port: must be between"):
        parse_config(text, "c.toml")
    assert parse_config(text.replace("99999", "5060")).box.name == "x"
