"""What tests/web's tests against the real daemon share: Debian's headless Chromium (driven
by Playwright) and how it starts, the window sizes, opening a page or logging in as a person
would; the office's accounts; a plain HTTP request with a bearer token. The ``browser`` and
``shots`` fixtures are in tests/web/conftest.py.

Playwright is imported by the fixture, not here: a test module that needs it skips itself
with ``pytest.importorskip("playwright.sync_api")``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.harness import Daemon

CHROMIUM = "/usr/bin/chromium"  # Debian's (tools/setup.sh test installs it)
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WAIT_MS = 10_000
PASSWORD = "office-box-2026"  # every account these tests make has it


def new_page(browser: Any, base: str, size: dict[str, int] = DESKTOP,
             javascript: bool = True) -> Any:
    """A page of its own context (close it with ``page.context.close()``) at ``size``, its
    URLs relative to ``base``."""
    context = browser.new_context(viewport=size, base_url=base,
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def login(browser: Any, base: str, name: str, size: dict[str, int] = DESKTOP,
          javascript: bool = True, password: str = PASSWORD) -> Any:
    """A new page logged in as ``name`` with the login form, on the dashboard."""
    page = new_page(browser, base, size, javascript)
    page.goto("/login")
    page.get_by_label("Account name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return page


def add_office_accounts(d: Daemon) -> dict[str, str]:
    """The office's accounts, each with ``PASSWORD``: boss (admin), alice (user, 101), bob
    (user, 102) and ian (installer); their API tokens by name."""
    d.call("user.add", name="boss", role="admin", password=PASSWORD)
    d.call("user.add", name="alice", role="user", password=PASSWORD, extension="101")
    d.call("user.add", name="bob", role="user", password=PASSWORD, extension="102")
    d.call("user.add", name="ian", role="installer", password=PASSWORD)
    return {n: d.call("user.token", name=n)["token"] for n in ("boss", "alice", "bob", "ian")}


def http(base: str, path: str, token: str = "", headers: dict[str, str] | None = None,
         method: str = "GET", body: dict[str, Any] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    """One request to ``base + path`` (``body`` as JSON, ``token`` as its bearer); the status,
    headers and body, for an error status too."""
    request = urllib.request.Request(base + path, method=method, headers=dict(headers or {}),
                                     data=json.dumps(body).encode() if body is not None
                                     else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
