"""The web page inside the real daemon: printed at start, moved by a commit of [web], and a
port that is taken costs the page, not the box."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import default_config_text
from tests.e2e.harness import Daemon, free_port

pytestmark = pytest.mark.slow


def _config(port: int) -> str:
    return default_config_text(web_port=port)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/setup", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_the_page_is_announced_and_follows_a_commit_of_its_port(
        daemon_factory: Callable[..., Any]) -> None:
    first, second = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    d: Daemon = daemon_factory(_config(first), extra_args=["--board", "sim"])
    d.wait_for("the start-up line", lambda: f"web page: http://127.0.0.1:{first}/" in d.log())
    assert _answers(first)
    d.call("config.set", path="web.port", value=str(second))
    d.call("config.commit", message="move the page")
    d.wait_for("the page on its new port", lambda: _answers(second))
    assert not _answers(first)
    assert f"the web page moved to http://127.0.0.1:{second}/" in d.log()


def test_a_taken_port_costs_the_page_not_the_box(daemon_factory: Callable[..., Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        d: Daemon = daemon_factory(_config(port), extra_args=["--board", "sim"])
        d.wait_for("the error", lambda: "web page not started" in d.log())
        d.phone(1, "offhook")  # the box runs on
        d.wait_for("phone 1 off hook", lambda: d.port("fxs1")["hook"] == "off")
        d.phone(1, "onhook")
