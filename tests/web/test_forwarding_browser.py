"""Forwarding on "My phone" in a real browser (Debian's headless Chromium through
Playwright) against the real daemon on the simulated board (issue 11):

- a user, at phone width and with JavaScript off, sets forward-always on their page; the
  box then forwards a call to their extension (the target rings, they do not) and their
  handset hears stutter dial tone;
- a star code keyed on the handset shows on the page at the next load;
- a bad value is shown at its field, and another extension's page is refused (403).

Screenshots at phone width go to a temporary folder, or to the folder MINIPBX_SCREENSHOTS
names (the ``shots`` fixture of tests/web/conftest.py).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Daemon, free_port, tones_in
from tests.e2e.peers import box_config
from tests.web.live_support import PASSWORD, PHONE, login

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

HANDSETS = [{"port": 1, "extension": "101", "name": "Reception"},
            {"port": 2, "extension": "102", "name": "Office"},
            {"port": 3, "extension": "103", "name": "Store"}]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[dict[str, Any]]:
    port = free_port(socket.SOCK_STREAM)
    # A short interdigit timeout: a star code with a number ends after it.
    config = box_config(fxs=HANDSETS, web_port=port) + "\n[dialplan]\ninterdigit_s = 2\n"
    box = Daemon(tmp_path_factory.mktemp("box"), config)
    box.wait_ready()
    box.call("user.add", name="admin", role="admin", password=PASSWORD)
    box.call("user.add", name="bob", role="user", password=PASSWORD, extension="102")
    yield {"box": box, "browser": browser, "base": f"http://127.0.0.1:{port}"}
    assert box.stop() == 0, box.log()


def phone_login(setup: dict[str, Any], name: str) -> Any:
    """A phone-width page without JavaScript, logged in as ``name``."""
    return login(setup["browser"], setup["base"], name, PHONE, javascript=False)


def hang_up(box: Daemon, port: int) -> None:
    """On-hook for longer than a hook flash, so the next lift is a new call."""
    box.phone(port, "onhook")
    time.sleep(1.2)


def test_forward_always_set_on_the_page_forwards_the_next_call(setup: dict[str, Any],
                                                                shots: Path) -> None:
    box: Daemon = setup["box"]
    page = phone_login(setup, "bob")
    page.goto("/me")
    form = page.locator("form#forwarding")
    assert "Calls ring your phone." in form.inner_text()
    page.get_by_label("Forward every call to").fill("103")
    page.get_by_role("button", name="Save forwarding").click()
    page.wait_for_url("**/me#forwarding")
    assert "Every call goes to 103." in page.locator("#forwarding-now").inner_text()
    assert "Saved for extension 102: forward always to 103." in page.locator(
        "[role=status]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "forwarding-phone.png"), full_page=True)

    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("103 to ring instead of 102", lambda: box.port("fxs3")["ringing"], timeout=8)
    assert not box.port("fxs2")["ringing"]
    hang_up(box, 1)
    box.wait_for("103 to stop ringing", lambda: not box.port("fxs3")["ringing"], timeout=8)

    box.phone(2, "offhook")  # the reminder: stutter dial tone
    heard = tones_in(box.hear(2, 1.2))
    hang_up(box, 2)
    assert "stutter" in heard, heard
    page.context.close()


def test_a_star_code_shows_on_the_page(setup: dict[str, Any]) -> None:
    box: Daemon = setup["box"]
    box.call("forwarding.set", extension="102", forward_always="103")
    for code in ("*73", "*78"):  # forward-always off, do not disturb on
        box.phone(2, "offhook")
        box.dial(2, code)
        box.wait_for("the code to be taken",
                     lambda: box.port("fxs2")["exchange_state"] != "dialling", timeout=8)
        hang_up(box, 2)
    page = phone_login(setup, "bob")
    page.goto("/me")
    assert "Do not disturb is on" in page.locator("#forwarding-now").inner_text()
    assert page.get_by_role("checkbox", name="Do not disturb").is_checked()
    assert page.get_by_label("Forward every call to").input_value() == ""
    page.get_by_role("checkbox", name="Do not disturb").uncheck()  # and off again from the page
    page.get_by_role("button", name="Save forwarding").click()
    page.wait_for_url("**/me#forwarding")
    assert box.call("forwarding.show", extension="102")["current"]["dnd"] is False
    page.context.close()


def test_a_bad_value_is_shown_at_its_field_and_others_are_refused(setup: dict[str, Any],
                                                                   shots: Path) -> None:
    box: Daemon = setup["box"]
    page = phone_login(setup, "bob")
    page.goto("/me")
    page.get_by_label("Forward when not answered to").fill("101")
    seconds = page.get_by_label("Ring for (seconds) before forwarding")
    seconds.fill("0")
    page.get_by_role("button", name="Save forwarding").click()
    error = page.locator("#fw-e-forward_after_s")
    assert error.is_visible() and "from 1 to 300 seconds" in error.inner_text()
    assert seconds.get_attribute("aria-invalid") == "true"
    assert seconds.input_value() == "0"
    summary = page.locator("#forwarding-errors").inner_text()
    assert "Ring for (seconds) before forwarding: must be from 1 to 300" in summary
    error.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "forwarding-error-phone.png"))
    assert box.call("forwarding.show", extension="102")["current"]["forward_no_answer"] == ""
    response = page.goto("/forwarding/101")
    assert response is not None and response.status == 403
    page.context.close()


def test_an_admin_sets_another_extension_from_the_forwarding_page(setup: dict[str, Any],
                                                                  shots: Path) -> None:
    box: Daemon = setup["box"]
    page = phone_login(setup, "admin")
    page.get_by_role("link", name="Forwarding").click()
    page.wait_for_url("**/forwarding")
    assert page.locator('tr[data-extension="103"]').is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "forwarding-admin-phone.png"), full_page=True)
    page.get_by_role("link", name="Change extension 103").click()
    page.wait_for_url("**/forwarding/103")
    page.get_by_role("checkbox", name="Do not disturb").check()
    page.get_by_role("button", name="Save forwarding").click()
    page.wait_for_url("**/forwarding/103")
    assert "Do not disturb is on" in page.locator("#forwarding-now").inner_text()
    assert box.call("forwarding.show", extension="103")["current"]["dnd"] is True
    box.call("forwarding.set", extension="103", dnd="off")
    page.context.close()
