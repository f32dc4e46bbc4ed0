"""The [web] and [console] tables: defaults, and each refusal names its key and the fix."""

from __future__ import annotations

import pytest

from firmware.config import parse_config, to_toml
from firmware.core.errors import ConfigError


def test_defaults_serve_the_page_on_loopback_and_no_console() -> None:
    config = parse_config("")
    assert (config.web.enabled, config.web.bind, config.web.port) == (True, "127.0.0.1", 8080)
    assert (config.console.device, config.console.baud, config.console.idle_logout_s) == (
        "", 115200, 600)
    assert parse_config(to_toml(config)) == config


def test_values_read_back() -> None:
    config = parse_config(
        '[web]\nenabled = false\nbind = "0.0.0.0"\nport = 0\ntls_cert = "c.pem"\n'
        'tls_key = "k.pem"\n[console]\ndevice = "/dev/ttyAMA0"\nbaud = 9600\n'
        "idle_logout_s = 0\n")
    assert config.web.port == 0 and config.web.tls_key == "k.pem" and not config.web.enabled
    assert (config.console.device, config.console.baud) == ("/dev/ttyAMA0", 9600)
    assert parse_config('[console]\ndevice = "loop://"\n').console.device == "loop://"


@pytest.mark.parametrize(("text", "message"), [
    ('[web]\nbind = "localhost"\n',
     "config.toml:2: web.bind: must be an IP address such as 0.0.0.0, got 'localhost'"),
    ('[web]\ntls_cert = "c.pem"\n',
     "config.toml:1: web.tls_key: must be set too: HTTPS needs a certificate and key"),
    ("[web]\nport = 70000\n", "config.toml:2: web.port: must be between 0 and 65535, got 70000"),
    ('[console]\ndevice = "ttyAMA0"\n',
     'config.toml:2: console.device: must be a device path such as "/dev/ttyAMA0"'),
    ("[console]\nbaud = 10\n", "config.toml:2: console.baud: must be between 300 and 4000000"),
    ("[console]\nidle_logout_s = -1\n",
     "config.toml:2: console.idle_logout_s: must be between 0 and 86400, got -1"),
])
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config.toml")
    assert str(info.value).startswith(message)
