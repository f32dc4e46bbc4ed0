"""The call-back widget in a real browser (headless Chromium through Playwright): the
office's own site, served from another origin, embeds /callback/widget.js and its form.

- from an allowed origin the widget's fetch passes the CORS preflight and the answer shows
  under the form; the box takes the request (the office's extension rings);
- from an origin that is not in ``[callback] origins`` the browser is refused (the box
  answers the preflight 403) and nothing is taken;
- with JavaScript off the same form posts and the box answers with its small page.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Daemon, free_port
from tests.e2e.peers import box_config

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"  # Debian's, as tests/web/test_browser.py uses it
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]
WAIT_MS = 10_000
TOKEN = "browser-site-token-0123"
SITE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Office</title>
<script src="BOX/callback/widget.js" defer></script></head><body>
<form data-minipbx-callback action="BOX/callback" method="post">
<input type="hidden" name="token" value="TOKEN">
<label>Your number <input name="number" id="number"></label>
<button id="send">Call me back</button></form></body></html>
"""


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A plain web server for ``folder`` on 127.0.0.1 (the office's own site)."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (tools/setup.sh test installs it)")
    site_dir = tmp_path_factory.mktemp("site")
    site, site_url = serve(site_dir)
    stranger, stranger_url = serve(site_dir)
    box_port = free_port(socket.SOCK_STREAM)
    box_url = f"http://127.0.0.1:{box_port}"
    (site_dir / "index.html").write_text(SITE_PAGE.replace("BOX", box_url)
                                         .replace("TOKEN", TOKEN))
    config = box_config(fxs=[{"port": 1, "extension": "101"}], web_port=box_port,
                        outbound=[{"pattern": "9x.", "trunk": "fxo1", "strip": 1}])
    config += f"""
[[fxo]]
port = 1
extension = "101"

[callback]
enabled = true
to = "ext:101"
allowed = ["9x."]
token = "{TOKEN}"
origins = ["{site_url}"]
"""
    box = Daemon(tmp_path_factory.mktemp("box"), config)
    box.wait_ready()
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield {"box": box, "browser": browser, "site": site_url, "stranger": stranger_url}
        browser.close()
    site.shutdown()
    stranger.shutdown()
    assert box.stop() == 0, box.log()


def page(browser: Any, url: str, javascript: bool = True) -> Any:
    context = browser.new_context(java_script_enabled=javascript)
    p = context.new_page()
    p.set_default_timeout(WAIT_MS)
    p.goto(url + "/index.html")
    return p


def test_the_widget_sends_from_an_allowed_site(setup: dict[str, Any]) -> None:
    box: Daemon = setup["box"]
    p = page(setup["browser"], setup["site"])
    p.fill("#number", "9 555 0101")
    p.click("#send")
    status = p.locator("form [role=status]")
    playwright_api.expect(status).to_contain_text("the office will call you back")
    assert any(r["number"] == "95550101" for r in box.call("callback.status"))
    box.wait_for("the office's phone to ring", lambda: box.phone_status(1)["ringing"])


def test_another_origin_is_refused_by_the_browser(setup: dict[str, Any]) -> None:
    box: Daemon = setup["box"]
    p = page(setup["browser"], setup["stranger"])
    p.fill("#number", "95550202")
    p.click("#send")
    status = p.locator("form [role=status]")
    playwright_api.expect(status).to_contain_text("could not be sent")
    assert all(r["number"] != "95550202" for r in box.call("callback.status"))
    assert "call-back preflight from origin " + setup["stranger"] in box.log()


def test_the_form_works_without_javascript(setup: dict[str, Any]) -> None:
    box: Daemon = setup["box"]
    p = page(setup["browser"], setup["site"], javascript=False)
    p.fill("#number", "95550303")
    p.click("#send")
    playwright_api.expect(p.locator("main [role=status]")).to_contain_text(
        "the office will call you back")
    assert any(r["number"] == "95550303" for r in box.call("callback.status"))
