"""Test registration, for real: the daemon registers two trunks to kamailio (one with a wrong
password); the Trunks page's "Test registration" sends a new REGISTER through
trunk.register and says what the registrar answered."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import Daemon, free_port
from tests.e2e.peers import Kamailio, Peers, box_config, trunk_to

pytestmark = pytest.mark.slow

USER, PASSWORD = "box", "s3cret"
ADMIN_PASSWORD = "test-registration-1"
CSRF = re.compile(r'name="_csrf" value="([^"]*)"')
FLASH = re.compile(r'<p class="flash (\w+)" role="status">([^<]*)</p>')


@pytest.fixture(scope="module")
def registrar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    owner = Peers(tmp_path_factory.mktemp("registrar"))
    yield owner.kamailio(USER, PASSWORD)
    owner.close()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory,
        registrar: Kamailio) -> Iterator[tuple[Daemon, str]]:
    port = free_port(socket.SOCK_STREAM)
    config = box_config(trunks=[
        trunk_to("office", registrar.port, register=True, username=USER, password=PASSWORD),
        trunk_to("wrongpw", registrar.port, register=True, username=USER,
                 password="not-" + PASSWORD),
        trunk_to("peer", registrar.port),
    ], web_port=port)
    d = Daemon(tmp_path_factory.mktemp("box"), config)
    d.wait_ready()
    yield d, f"http://127.0.0.1:{port}"
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


def _state(d: Daemon, trunk: str) -> str:
    return str(d.call("status")["sip"]["trunks"][trunk]["registration"]["state"])


def test_the_command_waits_for_the_registrars_answer(box: tuple[Daemon, str]) -> None:
    d, _ = box
    d.wait_for("office to register", lambda: _state(d, "office") == "registered", timeout=15)
    result: dict[str, Any] = d.call("trunk.register", name="office")
    assert result["answered"] is True
    assert result["registration"]["state"] == "registered"
    assert result["registration"]["code"] == 200
    wrong = d.call("trunk.register", name="wrongpw")
    assert wrong["answered"] is True and wrong["registration"]["state"] == "failed"
    assert wrong["registration"]["code"] in (401, 403, 407), wrong


def test_the_trunks_page_reports_each_answer(box: tuple[Daemon, str]) -> None:
    d, base = box

    async def go() -> list[tuple[str, str]]:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            async with s.get(f"{base}/setup") as r:
                token = CSRF.search(await r.text())
            assert token
            code = d.call("setup.code")["code"]
            async with s.post(f"{base}/setup", data={
                    "_csrf": token.group(1), "code": code, "name": "admin",
                    "password": ADMIN_PASSWORD, "password2": ADMIN_PASSWORD}) as r:
                assert r.status == 200
                token = CSRF.search(await r.text())
            assert token
            out = []
            for trunk in ("office", "wrongpw", "peer", "nosuch"):
                async with s.post(f"{base}/config/trunks/test",
                                  data={"_csrf": token.group(1), "_trunk": trunk}) as r:
                    found = FLASH.search(await r.text())
                    assert found, trunk
                    out.append((found.group(1), found.group(2)))
            return out

    office, wrong, peer, nosuch = asyncio.run(go())
    assert office[0] == "ok" and "registered" in office[1] and "200 OK" in office[1]
    assert wrong[0] == "error" and "check the user name and password" in wrong[1]
    assert peer[0] == "error" and "register = false" in peer[1]
    assert nosuch[0] == "error" and "no trunk" in nosuch[1]


def test_the_cli_word_runs_the_same_command(box: tuple[Daemon, str]) -> None:
    import subprocess

    from tests.e2e.harness import MINIPBX, ROOT

    d, _ = box
    d.wait_for("office to register", lambda: _state(d, "office") == "registered", timeout=15)
    out = subprocess.run([*MINIPBX, "--state-dir", str(d.state), "trunk", "register", "office"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "answered=True" in out.stdout and "'state': 'registered'" in out.stdout, out.stdout
    bad = subprocess.run([*MINIPBX, "--state-dir", str(d.state), "trunk", "register", "nope"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "nope" in bad.stderr, bad
