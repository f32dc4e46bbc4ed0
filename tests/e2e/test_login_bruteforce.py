"""Issue 12 §2: 1,000 wrong logins against the real daemon's web page and serial console.

Web page (POST /login from one address): the first wrong passwords are checked and each
makes the next wait twice as long (1, 2, 4 s, then 8: each wait is read from the server's own
answer, "wait N s", and waited out); the rest of the 1,000 come during the wait and are
all answered 429 at once, without a password check (no "login failed" in the log for
them) and without lengthening the wait. The right password works once the wait is over,
and at once from a browser that logged in before (its device cookie: a guesser
elsewhere cannot lock the admin out).

Serial console (a real pty): each failure makes the wait grow (1, 2, 4 s, said on the
line); what is typed during the wait is dropped unread (hundreds of guesses cost
nothing); the right password works after it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from tests.console.ptyterm import PtyTerm
from tests.e2e.harness import Daemon, free_even_port, free_port

# Load-sensitive (audio gaps, memory, throttle waits): `make test` runs it alone, after the
# parallel part.
pytestmark = [pytest.mark.slow, pytest.mark.serial]

PASSWORD = "the right one 42"
ATTEMPTS = 1000
CHECKED = 3  # wrong passwords waited out, each checked: waits 1, 2, 4 s
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
WAIT = re.compile(r"wait (\d+) s")


def config(device: str, web_port: int) -> str:
    from firmware.config import ConsoleConfig, WebConfig, default_config, to_toml

    base = default_config()
    return to_toml(replace(
        base, sip=replace(base.sip, port=0, rtp_port=free_even_port()),
        web=WebConfig(bind="127.0.0.1", port=web_port),
        console=ConsoleConfig(device=device, baud=9600, idle_logout_s=600)))


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, PtyTerm, str]]:
    tmp = tmp_path_factory.mktemp("bruteforce")
    term = PtyTerm(tmp / "ttyCONSOLE")
    port = free_port(socket.SOCK_STREAM)
    d = Daemon(tmp, config(str(term.link), port), extra_args=["--board", "sim"])
    d.wait_ready()
    # The first admin, made on the console as an installer would; then logged out.
    term.expect("new admin name: ")
    term.send(f"admin\r{PASSWORD}\r{PASSWORD}\r")
    term.expect(r"minipbx> ")
    term.send("exit\r")
    yield d, term, f"http://127.0.0.1:{port}/"
    term.unplug()
    assert d.stop() == 0, d.log()


async def _form(s: aiohttp.ClientSession, url: str) -> str:
    async with s.get(url + "login") as r:
        m = CSRF.search(await r.text())
    assert m, "no CSRF token on the login page"
    return m.group(1)


async def _try(s: aiohttp.ClientSession, url: str, token: str,
               password: str) -> tuple[int, float | None]:
    """One login: its status and, when throttled, the wait the server asked for."""
    async with s.post(url + "login", data={"_csrf": token, "name": "admin",
                                           "password": password},
                      allow_redirects=False) as r:
        text = await r.text()
        wait = WAIT.search(text) if r.status == 429 else None
        if r.status == 429:
            assert int(r.headers["Retry-After"]) >= 1
        return r.status, float(wait.group(1)) if wait else None


def test_1000_wrong_web_logins(rig: tuple[Daemon, PtyTerm, str]) -> None:
    d, _, url = rig
    results: dict[str, Any] = {}

    async def go() -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # unsafe: cookies for an IP address host
        async with aiohttp.ClientSession(cookie_jar=jar) as admin, \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as guesser:
            # The admin logged in from this browser once before the attack.
            assert (await _try(admin, url, await _form(admin, url), PASSWORD))[0] == 303
            token = await _form(guesser, url)
            waits, statuses = [], []
            for _ in range(CHECKED):
                status, _ = await _try(guesser, url, token, "guess")
                statuses.append(status)
                status, wait = await _try(guesser, url, token, "guess")
                assert status == 429 and wait is not None
                waits.append(wait)
                await asyncio.sleep(wait + 0.3)
            t0 = time.monotonic()
            status, _ = await _try(guesser, url, token, "guess")
            statuses.append(status)
            hammer = [await _try(guesser, url, token, f"guess{i}")
                      for i in range(ATTEMPTS - len(statuses) - 1)]
            results["hammer_s"] = time.monotonic() - t0
            # The right password from the guesser's browser waits like any other try...
            right_now = await _try(guesser, url, token, PASSWORD)
            # ...but the admin's own browser gets in at once.
            trusted = await _try(admin, url, await _form(admin, url), PASSWORD)
            last_wait = max(w for _, w in hammer if w is not None)
            await asyncio.sleep((hammer[-1][1] or 0) + 0.5)
            while (after := await _try(guesser, url, token, PASSWORD))[0] == 429:
                await asyncio.sleep(0.5)
            results.update(waits=waits, statuses=statuses, hammer=hammer, right_now=right_now,
                           trusted=trusted, after=after, last_wait=last_wait)

    asyncio.run(go())
    hammer = results["hammer"]
    print(f"\nweb: waits after each checked failure {results['waits']} s; "
          f"{len(hammer)} more wrong logins answered 429 in {results['hammer_s']:.1f} s, "
          f"wait asked {results['last_wait']:.0f} s; right password after the wait: "
          f"{results['after'][0]}, from the admin's browser during it: "
          f"{results['trusted'][0]}")
    assert results["statuses"] == [401] * (CHECKED + 1)
    assert results["waits"] == sorted(results["waits"]) and len(set(results["waits"])) == CHECKED
    assert results["waits"][-1] >= 4 * results["waits"][0]
    assert CHECKED + 1 + len(hammer) + 1 == ATTEMPTS
    assert {status for status, _ in hammer} == {429}
    waits = [w for _, w in hammer if w is not None]
    assert waits == sorted(waits, reverse=True), "a refused try lengthened the wait"
    assert results["right_now"][0] == 429
    assert results["trusted"][0] == 303
    assert results["after"][0] == 303
    # Only the tries let through were checked (and logged); the 429s cost no hashing.
    assert d.log().count("web login failed") == CHECKED + 1


def test_wrong_console_logins(rig: tuple[Daemon, PtyTerm, str]) -> None:
    _, term, _ = rig
    term.send("\r")
    term.expect("login: ")
    term.send("\r")  # the prompt may have come before: take the latest
    term.expect("login: ")
    waits = []
    for attempt in range(3):
        term.send("admin\r")
        term.expect("password: ")
        term.send("wrong\r")
        said = term.expect(r"try again in (\d+) s")
        waits.append(int(re.findall(r"try again in (\d+) s", said)[-1]))
        if attempt == 2:
            # Guesses typed during the wait are dropped unread.
            term.send("admin\rwrong\r" * 300)
        term.expect("login: ", timeout=waits[-1] + 5)
    term.send("admin\r")
    term.expect("password: ")
    term.send(f"{PASSWORD}\r")
    term.expect(r"minipbx\*?> ")
    print(f"\nconsole: waits {waits} s; 300 guesses typed during the last one dropped")
    assert waits == [1, 2, 4]
    term.send("exit\r")
