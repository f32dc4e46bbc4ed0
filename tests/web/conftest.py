"""Fixtures for the web page's unit tests: the real app (firmware.web.server.create_app) over
the fake system, an aiohttp test client, and a settable clock for expiry and throttling.
For the browser tests: Debian's headless Chromium (``browser``) and the screenshot folder
(``shots``), one of each per test module."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from firmware.commands.builtin import table
from firmware.web.logring import LogRing
from firmware.web.server import create_app
from firmware.web.settings import WebSettings
from tests.e2e.conftest import daemon_factory  # noqa: F401 (the real daemon, for slow tests)
from tests.web.fakes import PASSWORD, FakeSystem, seed_accounts
from tests.web.live_support import CHROMIUM, CHROMIUM_ARGS

T = TypeVar("T")

CSRF = re.compile(r'name="_csrf" value="([^"]*)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    system: FakeSystem
    clock: Clock
    logs: LogRing
    settings: WebSettings

    def app(self) -> web.Application:
        return create_app(table, self.system, self.system.accounts(), self.settings,
                          self.logs, clock=self.clock)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[TestClient[Any, Any]]:
        async with TestClient(TestServer(self.app())) as client:
            yield client


def run(coro: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro())  # type: ignore[arg-type]


def form_token(html: str) -> str:
    m = CSRF.search(html)
    assert m, f"no CSRF field in the page:\n{html[:2000]}"
    return m.group(1)


async def login(client: TestClient[Any, Any], name: str,
                password: str = PASSWORD) -> tuple[Any, str]:
    """Logs in like a browser; the response and the session's CSRF token."""
    page = await client.get("/login")
    token = form_token(await page.text())
    response = await client.post("/login", data={"_csrf": token, "name": name,
                                                 "password": password},
                                 allow_redirects=False)
    if response.status != 303:
        return response, ""
    home = await client.get("/")
    m = META.search(await home.text())
    return response, m.group(1) if m else ""


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    system = FakeSystem(tmp_path)
    seed_accounts(system.accounts())
    yield Env(system, Clock(), LogRing(), WebSettings(port=0))


@pytest.fixture
def fresh_env(tmp_path: Path) -> Iterator[Env]:
    """A box with no admin yet (first boot)."""
    yield Env(FakeSystem(tmp_path), Clock(), LogRing(), WebSettings(port=0))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; skips where either is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (tools/setup.sh test installs it)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: the folder MINIPBX_SCREENSHOTS names (the README's pictures are
    made with MINIPBX_SCREENSHOTS=docs/screenshots), or else a temporary one."""
    named = os.environ.get("MINIPBX_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
