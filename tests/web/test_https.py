"""The web page over HTTPS with the box's certificate: the real server (WebServer) on a free
port with a self-signed certificate made by openssl for the test."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from firmware.commands.builtin import table
from firmware.web.server import WebServer, create_app
from firmware.web.sessions import COOKIE
from firmware.web.settings import WebSettings
from tests.web.conftest import CSRF
from tests.web.fakes import PASSWORD, FakeSystem, seed_accounts


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_the_page_serves_https_with_secure_cookies(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    system = FakeSystem(tmp_path)
    seed_accounts(system.accounts())
    settings = WebSettings(bind="127.0.0.1", port=0, tls_cert=str(cert), tls_key=str(key))

    async def go() -> None:
        server = WebServer(create_app(table, system, system.accounts(), settings), settings)
        url = await server.start()
        assert url.startswith("https://127.0.0.1:") and not url.endswith(":0/")
        trust = ssl.create_default_context(cafile=str(cert))
        try:
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=trust),
                    cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:  # unsafe: an IP host
                async with s.get(url + "login") as r:
                    assert r.status == 200
                    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
                    token = CSRF.search(await r.text())
                assert token
                async with s.post(url + "login", data={"_csrf": token.group(1),
                                                       "name": "admin",
                                                       "password": PASSWORD},
                                  allow_redirects=False) as r:
                    assert r.status == 303
                    cookie = r.cookies[COOKIE]
                    assert cookie["secure"] and cookie["httponly"]
                    assert cookie["samesite"] == "Strict"
                async with s.get(url) as r:
                    assert r.status == 200 and "Dashboard" in await r.text()
            async with aiohttp.ClientSession() as plain:
                with pytest.raises(aiohttp.ClientError):
                    await plain.get(url.replace("https://", "http://"))
        finally:
            await server.close()

    asyncio.run(go())
