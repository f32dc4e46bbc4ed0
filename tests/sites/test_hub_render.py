"""minipbx hub render: the sites file's rules, and the rendered configuration as Kamailio
itself reads it (``kamailio -c``) with UDP only, with TLS, and with shared numbers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firmware.app.cli import main
from firmware.app.hubcfg import HubSite, load_sites, parse_sites, render
from firmware.config.siteprefix import parse_prefix
from firmware.core.errors import ConfigError

SITES = """
[hub]
listen = "127.0.0.1"
port = 15060
ctl = "unix:/tmp/minipbx-hub-test-ctl"

[[site]]
name = "office1"
prefix = "1xx"
password = "pw1"

[[site]]
name = "office2"
prefix = "2[0-4]x"
password = "pw2"
"""


def kamailio_check(cfg: Path) -> None:
    result = subprocess.run(["kamailio", "-c", "-f", str(cfg)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr[-3000:]


def test_render_prints_a_config_kamailio_accepts(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES)
    assert main(["hub", "render", "--sites", str(sites)]) == 0
    text = capsys.readouterr().out
    assert 'if ($avp(site) == $null && $rU =~ "^1[0-9][0-9]$") $avp(site) = "office1";' in text
    assert 'if ($avp(site) == $null && $rU =~ "^2[01234][0-9]$") $avp(site) = "office2";' in text
    assert "pw1" not in text  # only the HA1 digest
    assert HubSite("office1", parse_prefix("1xx"), "pw1").ha1("minipbx") in text
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(text)
    kamailio_check(cfg)


def test_tls_and_shared_numbers(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=hub", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    sites = tmp_path / "sites.toml"
    sites.write_text(SITES.replace('ctl = ', f'transports = ["udp", "tcp", "tls"]\n'
                                   f'tls_port = 15061\ntls_cert = "{cert}"\n'
                                   f'tls_key = "{key}"\nctl = ')
                     + '\n[[shared]]\nnumber = "500"\nsites = ["office2", "office1"]\n')
    out = tmp_path / "etc"
    assert main(["hub", "render", "--sites", str(sites), "--out", str(out)]) == 0
    listing = (out / "dispatcher.list").read_text()
    assert "1 sip:office2@127.0.0.1:15060 0 2 site=office2" in listing
    assert "1 sip:office1@127.0.0.1:15060 0 1 site=office1" in listing
    text = (out / "kamailio.cfg").read_text()
    assert "listen=tls:127.0.0.1:15061" in text and 'loadmodule "dispatcher.so"' in text
    kamailio_check(out / "kamailio.cfg")


@pytest.mark.parametrize("doc, words", [
    ({"site": [{"name": "a", "prefix": "1xx", "password": "p"},
               {"name": "b", "prefix": "1[5-9]x", "password": "p"}]},
     "site b ('1[5-9]x') and site a ('1xx') both claim 150"),
    ({"site": [{"name": "a", "prefix": "1xx", "password": "p"}],
      "shared": [{"number": "120", "sites": ["a"]}]}, "inside site a's numbers"),
    ({"site": [{"name": "a", "prefix": "1xx", "password": "p"}],
      "shared": [{"number": "500", "sites": ["zz"]}]}, "no site 'zz'"),
    ({"site": [{"name": "a", "prefix": "1xx"}]}, "site[0].password: missing"),
    ({"site": []}, "no [[site]] tables"),
    ({"hub": {"transports": ["tls"]}, "site": [{"name": "a", "prefix": "1xx", "password": "p"}]},
     "tls_cert"),
    ({"hub": {"colour": 1}, "site": [{"name": "a", "prefix": "1xx", "password": "p"}]},
     "hub.colour is not a key"),
])
def test_sites_file_mistakes_are_named(doc: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=None) as exc:
        parse_sites(doc, "sites.toml")
    assert words in str(exc.value) and "sites.toml" in str(exc.value)


def test_render_needs_no_dispatcher_without_shared_numbers() -> None:
    spec = parse_sites({"site": [{"name": "a", "prefix": "1xx", "password": "p"}]})
    assert "dispatcher" not in render(spec)


def test_the_example_sites_file_loads() -> None:
    spec = load_sites(Path(__file__).resolve().parents[2] / "rootfs/hub/sites.example.toml")
    assert [s.name for s in spec.sites] == ["office1", "office2", "office3"]
    assert spec.shared[0].sites == ("office2", "office3") and "tls" in spec.transports
