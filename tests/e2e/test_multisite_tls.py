"""Sites joined over TLS (issue 14): two boxes register to the hub over TLS (digest auth
inside the encrypted connection), call each other by short number with caller ID and audio
both ways, and ping each other through the hub over the same TLS; the rendered hub
listens with Kamailio's tls module (Debian's kamailio-tls-modules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, free_even_port
from tests.e2e.hub_support import Hub
from tests.e2e.test_multisite import call_and_talk, hub_registered, sites_state
from tests.e2e.test_sip_transports import tls_lines

pytestmark = pytest.mark.slow


def tls_site(name: str, prefix: str, other: str, other_prefix: str, hub: Hub, tls: str,
             phone: tuple[str, str]) -> str:
    return "\n".join([
        f'[box]\nname = "{name}"\ncountry = "us"\nboard = "sim"\n',
        f'[sip]\nbind = "127.0.0.1"\nport = 0\ntransports = ["udp", "tls"]\n'
        f"rtp_port = {free_even_port()}\n{tls}\n",
        '[web]\nbind = "127.0.0.1"\nport = 0\n',
        f'[site]\nname = "{name}"\nprefix = "{prefix}"\n',
        f'[hub]\nhost = "127.0.0.1"\nport = {hub.tls_port}\ntransport = "tls"\n'
        f'password = "pw-{name}"\nping_interval_s = 1\n',
        f'[[fxs]]\nport = 1\nextension = "{phone[0]}"\nname = "{phone[1]}"\n',
        f'[[peer_site]]\nname = "{other}"\nprefix = "{other_prefix}"\n'])


def test_two_sites_over_tls(tmp_path: Path) -> None:
    tls = tls_lines(tmp_path)
    hub = Hub(tmp_path / "hub", [{"name": "north", "prefix": "4xx", "password": "pw-north"},
                                 {"name": "south", "prefix": "5xx", "password": "pw-south"}],
              tls=(tmp_path / "cert.pem", tmp_path / "key.pem"))
    boxes: list[Daemon] = []
    try:
        hub.start()
        north = Daemon(tmp_path / "north", tls_site("north", "4xx", "south", "5xx", hub, tls,
                                                   ("401", "Nina")))
        south = Daemon(tmp_path / "south", tls_site("south", "5xx", "north", "4xx", hub, tls,
                                                   ("501", "Sam")))
        boxes += [north, south]
        for box in boxes:
            box.wait_ready(60)  # a loaded machine: the daemons build their prompts
            box.wait_for("registration over TLS", lambda b=box: hub_registered(b), timeout=15)
        contacts = hub.registered()
        assert "transport=tls" in contacts["north"].lower(), contacts
        call_and_talk(north, 1, south, 1, "501", ("401", "Nina"))
        state = north.wait_for("south up through the hub", lambda: (
            s := sites_state(north)).get("south", {}).get("state") == "up" and s, timeout=10)
        assert state["south"]["rtt_ms"] is not None
    except AssertionError:
        print("--- hub log\n" + hub.log())
        raise
    finally:
        codes = [(b, b.stop()) for b in boxes]
        hub.close()
    for box, code in codes:
        assert code == 0, box.log()[-5000:]
