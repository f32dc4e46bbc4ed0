"""The web page in a real browser: Debian's headless Chromium driven by Playwright, against
the real daemon (tests/e2e/harness.py) with its web page on a free port.

The tests walk first-boot setup, login, changing an extension and applying it, apply with
confirm rolling back by itself, the dashboard following a simulated phone off-hook, and a
bad value shown at its field. They save screenshots at phone and desktop widths into a
temporary folder, or into the folder MINIPBX_SCREENSHOTS names (the README's pictures are
made with MINIPBX_SCREENSHOTS=docs/screenshots).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware.media.wavfile import write_wav
from tests.e2e.conftest import default_config_text
from tests.e2e.harness import Daemon, free_port
from tests.web.live_support import DESKTOP, PASSWORD, PHONE, login, new_page

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

ADMIN = "admin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, str]]:
    port = free_port(socket.SOCK_STREAM)
    config = default_config_text(web_port=port)
    d = Daemon(tmp_path_factory.mktemp("web"), config, extra_args=["--board", "sim"])
    d.wait_ready()
    yield d, f"http://127.0.0.1:{port}"
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


def _ensure_admin(d: Daemon, browser: Any, base: str) -> None:
    """The first test does the setup in the browser; any later one finds it done."""
    if d.call("setup.code")["code"] is None:
        return
    page = new_page(browser, base, DESKTOP)
    page.goto("/")
    _setup(page, d.call("setup.code")["code"])
    page.context.close()


def _setup(page: Any, code: str) -> None:
    page.get_by_label("Setup code").fill(code)
    page.get_by_label("Admin account name").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    page.wait_for_url("**/")


def test_first_boot_setup_then_login_and_logout(site: tuple[Daemon, str], browser: Any,
                                                shots: Path) -> None:
    d, base = site
    code = d.call("setup.code")["code"]
    assert code, "a fresh box has a setup code"
    page = new_page(browser, base, PHONE)
    page.goto("/")
    assert page.url.endswith("/setup")
    page.screenshot(path=str(shots / "setup-phone.png"))
    page.get_by_label("Setup code").fill("WRNG-CODE-0000")
    page.get_by_label("Admin account name").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the admin account").click()
    assert page.locator("#err-code").is_visible()
    assert d.call("setup.code")["code"], "a wrong code creates nobody"
    page.wait_for_timeout(1200)  # wrong codes are throttled: the next try waits a second
    _setup(page, code)
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert d.call("setup.code")["code"] is None
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.get_by_label("Account name").fill(ADMIN)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Wrong account name or password").is_visible()
    page.wait_for_timeout(1200)  # the throttle's first wait
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.context.close()


def test_change_an_extension_and_apply_it(site: tuple[Daemon, str], browser: Any,
                                          shots: Path) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN)
    page.goto("/config/phones")
    field = page.locator('[name="fxs.2.extension"]')
    field.fill("202")
    field.press("Enter")  # submits its entry's form, as a keyboard user would
    page.wait_for_url("**/config/phones")
    bar = page.get_by_role("region", name="Pending changes")
    assert "Changes pending" in bar.inner_text()
    bar.get_by_text("Show the changes").click()
    assert "+extension = \"202\"" in bar.locator("pre.diff").inner_text()
    page.screenshot(path=str(shots / "phones-pending-desktop.png"), full_page=False)
    page.get_by_role("button", name="Apply", exact=True).click()
    page.wait_for_url("**/config/phones")
    assert "No changes pending" in page.get_by_role("region", name="Pending changes").inner_text()
    assert d.port("fxs2")["extension"] == "202"
    assert page.get_by_text("Applied: version").is_visible()
    page.context.close()


def test_apply_with_confirm_rolls_back_by_itself(site: tuple[Daemon, str], browser: Any
                                                 ) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN)
    page.goto("/config/box")
    page.locator('[name="box.name"]').fill("frontdesk")
    page.get_by_role("button", name="Save").first.click()
    page.wait_for_url("**/config/box")
    page.get_by_label("Undo unless confirmed within (s)").fill("3")
    page.get_by_role("button", name="Apply with confirm").click()
    page.wait_for_url("**/config/box")
    assert page.get_by_role("region", name="Confirm the last change").is_visible()
    assert d.call("status")["name"] == "frontdesk"
    # Nobody confirms: the box goes back by itself, and the page (its countdown reloads it)
    # stops asking.
    d.wait_for("the rollback", lambda: d.call("status")["name"] == "minipbx")
    page.get_by_role("region", name="Confirm the last change").wait_for(state="detached")
    assert page.locator('[name="box.name"]').input_value() == "minipbx"
    page.context.close()


def test_the_dashboard_follows_a_phone_going_off_hook(site: tuple[Daemon, str], browser: Any,
                                                      shots: Path) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    for size, name in ((DESKTOP, "dashboard-desktop.png"), (PHONE, "dashboard-phone.png")):
        page = login(browser, base, ADMIN, size)
        row = page.locator('tr[data-leg="fxs1"]')
        assert "on hook" in row.inner_text()
        d.phone(1, "offhook")
        try:
            page.wait_for_function(
                "() => document.querySelector('tr[data-leg=\"fxs1\"]').innerText"
                ".includes('off hook')")
            assert "dial" in page.locator('tr[data-leg="fxs1"]').inner_text()
            page.screenshot(path=str(shots / name))
        finally:
            d.phone(1, "onhook")
        page.wait_for_function(
            "() => document.querySelector('tr[data-leg=\"fxs1\"]').innerText"
            ".includes('on hook')")
        page.context.close()


def test_a_bad_value_is_shown_at_its_field(site: tuple[Daemon, str], browser: Any,
                                           shots: Path) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN, PHONE)
    page.goto("/config/phones")
    field = page.locator('[name="fxs.1.extension"]')
    field.fill("12a")
    field.press("Enter")
    error = page.locator('[id="e-fxs.1.extension"]')
    assert error.is_visible() and "digits" in error.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "12a"
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "field-error-phone.png"))
    assert d.port("fxs1")["extension"] == "101"
    page.context.close()


def test_every_page_opens_without_errors_and_is_small(site: tuple[Daemon, str],
                                                      browser: Any) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for path in ("/", "/config/box", "/config/phones", "/config/lines", "/config/trunks",
                 "/config/routes", "/config/dialplan", "/accounts", "/diagnostics",
                 "/maintenance", "/changes"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert len(response.body()) < 100 * 1024, path
    assert not problems, problems  # no CSP refusals, no script errors
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.context.close()



def test_the_hook_watch_follows_the_board_live(site: tuple[Daemon, str], browser: Any) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN)
    page.goto("/diagnostics")
    page.get_by_role("button", name="Watch live").click()
    d.phone(2, "offhook")
    d.phone(2, "onhook")
    page.wait_for_function("() => [...document.querySelectorAll('#hook-rows tr')]"
                           ".filter(r => r.innerText.includes('HookEdge')).length >= 2")
    rows = page.locator("#hook-rows tr").all_inner_texts()
    assert any("hook on" in r for r in rows), rows
    page.get_by_role("button", name="Stop watching").click()
    page.context.close()


def test_a_prompt_is_uploaded_from_the_browser(site: tuple[Daemon, str], browser: Any,
                                               shots: Path, tmp_path: Path) -> None:
    d, base = site
    _ensure_admin(d, browser, base)
    page = login(browser, base, ADMIN)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/prompts")
    wav = tmp_path / "desk.wav"
    write_wav(wav, (3000 * np.sin(np.arange(12000) * 0.25)).astype(np.int16))
    page.get_by_label("WAV file").set_input_files(str(wav))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/prompts/upload")
    assert "Stored file:desk.wav: 1.5 s." in page.locator("[role=status]").inner_text()
    assert "file:desk.wav" in page.locator("table").inner_text()
    page.screenshot(path=str(shots / "prompts-desktop.png"))
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"these are notes, not sound")
    page.get_by_label("WAV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    assert "notes.wav: not a WAV file" in page.locator("[role=status]").inner_text()
    assert not problems, problems
    assert (d.state / "prompts" / "desk.wav").exists()
    assert not (d.state / "prompts" / "notes.wav").exists()
    page.context.close()
