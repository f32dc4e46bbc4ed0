"""The console session over a fake box: login, setup, commands, ?, Tab, Ctrl-C, bad input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.console.session import Throttle
from tests.console.fakebox import Term


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(body())  # type: ignore[arg-type]


def test_login_runs_status_and_logs_out(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        assert "logged in as ann (admin)" in t.text()
        t.clear()
        out = await t.type("status\r")
        assert "name: office" in out and "office> " in out
        out = await t.type("exit\r")
        assert "logged out" in out and "login: " in out
    run(body)


def test_password_is_not_echoed(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        assert "ann's password" not in t.text()
    run(body)


def test_failed_logins_wait_longer_each_time(tmp_path: Path) -> None:
    async def body() -> None:
        throttle = Throttle()
        t = Term(tmp_path, throttle=throttle)
        t.store.add("ann", "admin", "ann's password")
        t.start()
        await t.type("ann\r")
        out = await t.type("wrong password\r", settle=0.3)
        assert "login incorrect; try again in 1 s" in out
        # Keys during the wait are dropped.
        dropped = await t.type("ann\r")
        assert "password:" not in dropped
        t.clock.now += 1.0
        t.session.tick()
        assert t.text().endswith("login: ")
        await t.type("ann\r")
        out = await t.type("still wrong\r", settle=0.3)
        assert "try again in 2 s" in out and throttle.failures == 2
        t.clock.now += 2.0
        t.session.tick()
        await t.type("ann\r")
        await t.type("ann's password\r")
        await t.until("office> ")
        assert throttle.failures == 0
    run(body)


def test_first_admin_is_made_at_the_serial_console(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        t.start()
        code = t.store.setup_code()
        assert code and f"Setup code: {code}" in t.text()
        await t.type("ann\r")
        await t.type("short\r")
        out = await t.type("short\r", settle=0.3)
        assert "password too short" in out and "new admin name: " in out
        await t.type("ann\r")
        await t.type("a good password\r")
        await t.type("a good password\r")
        await t.until("office> ")
        assert t.store.has_admin() and t.store.setup_code() is None
    run(body)


def test_root_console_needs_no_login_and_closes_on_exit(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path, login=False)
        t.start()
        await t.until("office> ")
        assert "setup code" in t.text()  # no admin yet: root sees the code
        await t.type("exit\r")
        assert t.closed
    run(body)


def test_question_mark_lists_what_comes_next_and_keeps_the_line(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        out = await t.type("?")
        for word in ("status", "config", "hw", "sim", "user", "help", "exit"):
            assert f"  {word}" in out
        out = await t.type("hw ring ?")
        assert "<port>" not in out and "1" in out and "fxs1 ext 101" in out
        assert "fxo1" not in out  # only FXS ports ring
        assert out.rstrip().endswith("office> hw ring")
        out = await t.type("1 ?")
        assert "--seconds" in out and "<cr>" in out
        t.clear()
        out = await t.type("\x15sim phone 1 o?")
        assert "offhook" in out and "onhook" in out and "flash" not in out
        # Inside quotes ? is a character.
        await t.type("\x15config set box.name \"Who?\"\r")
        assert ("config.set", {"path": "box.name", "value": "Who?"}, "ann") in t.system.calls
    run(body)


def test_tab_completes_commands_paths_and_values(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        out = await t.type("conf\t")
        assert out.endswith("config ")
        out = await t.type("se\t")
        assert out.endswith("config set ")
        out = await t.type("fx\t")
        assert out.endswith("config set fxs.")
        out = await t.type("\t")  # fxs.1. or fxs.2.: listed
        assert "fxs.1." in out and "fxs.2." in out
        out = await t.type("1.c\t")
        assert out.endswith("config set fxs.1.caller_id_standard ")
        out = await t.type("?")
        assert "bell202" in out and "v23" in out
        out = await t.type("v2\t")  # v23 and v23_jp: completed as far as they agree
        assert out.endswith("caller_id_standard v23")
        out = await t.type("\x15config set fxs.1.caller_id_standard dt\t")
        assert out.endswith("caller_id_standard dtmf ")
        await t.type("\r")
        assert t.system.calls[-1][:2] == ("config.set", {"path": "fxs.1.caller_id_standard",
                                                          "value": "dtmf"})
    run(body)


def test_config_set_commit_and_the_pending_star(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        out = await t.type("config set fxs.1.extension abc\r")
        assert "% fxs.1.extension: must be digits, got 'abc'" in out
        assert out.endswith("office> ")
        out = await t.type("config set fxs.1.extension 105\r")
        assert out.endswith("office*> ")
        out = await t.type('config commit --confirm 90s -m "new ext"\r')
        assert "version: 2" in out and out.endswith("office> ")
        assert ("config.commit", {"confirm_s": 90.0, "message": "new ext"}, "ann") in \
            t.system.calls
    run(body)


def test_history_with_arrow_keys(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        await t.type("status\r")
        await t.type("hw ring 1 --seconds 0\r")
        out = await t.type("\x1b[A")
        assert out.endswith("hw ring 1 --seconds 0")
        out = await t.type("\x1b[A")
        assert out.endswith("status")
        await t.type("\x1b[B\x1b[B")
        assert t.session.editor.line == ""
    run(body)


def test_ctrl_c_stops_a_watch_and_stops_waiting_for_a_command(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        await t.type("hw hook 1 --watch\r", settle=0.5)
        await t.until("port 1 offhook")
        out = await t.type("\x03")
        assert "^C" in out and out.endswith("office> ")
        # A table command: Ctrl-C stops the waiting; the box finishes it.
        await t.type("hw ring 1 --seconds 0.3\r")
        out = await t.type("\x03")
        assert "^C" in out and out.endswith("office> ")
        assert not t.system.ring_done.is_set()
        await asyncio.wait_for(t.system.ring_done.wait(), 5)
    run(body)


def test_errors_inside_the_box_are_one_line(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        out = await t.type("boom\r")
        assert "% boom: internal error: RuntimeError: kaput" in out
        out = await t.type("hw ring x\r")
        assert "% <port> must be a whole number, got 'x'" in out
        out = await t.type("frobnicate\r")
        assert "% unknown word 'frobnicate'" in out and out.endswith("office> ")
    run(body)


def test_garbage_and_a_100_kb_line_are_survived(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        noise = bytes(range(128, 256)) * 4 + b"\x00\x1b\x1b[999999999999999999x\x1bZ"
        out = await t.type(noise)
        assert "noise bytes dropped" in out and "9600 baud" in out
        out = await t.type(b"x" * 100_000)
        await t.type("\r")
        assert "line longer than 1024 characters: not run" in t.text()
        out = await t.type("status\r")
        assert "name: office" in out
    run(body)


def test_user_add_asks_the_password_twice_without_echo(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        await t.type("user add bob --role user --extension 101\r")
        await t.type("bobs secret pw\r")
        await t.type("bobs secret pw\r")
        # The account is made after scrypt has hashed the password (in a worker thread):
        # wait for the answer rather than a fixed time, which a loaded machine outlasts.
        await t.until("role: user", timeout=30)
        assert "bobs secret pw" not in t.text()
        assert t.store.verify("bob", "bobs secret pw") is not None
        await t.type("user passwd bob\r")
        await t.type("one password\r")
        await t.type("another one\r")
        await t.until("differ; nothing changed", timeout=30)
        assert "one password" not in t.text() and "another one" not in t.text()
    run(body)


def test_long_output_pages_at_more(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        await t.login_admin()
        out = await t.type("config show\r")
        assert "line 22" in out and "line 23" not in out and out.endswith("--More--")
        out = await t.type("\r")
        assert "line 23" in out and "line 24" not in out
        out = await t.type(" ")
        assert "line 46" in out and "line 47" not in out
        out = await t.type("q")
        assert out.endswith("office> ")
    run(body)


def test_idle_logout(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path, idle=600)
        await t.login_admin()
        t.clock.now += 599
        t.session.tick()
        assert t.session.state == "shell"
        t.clock.now += 2
        t.session.tick()
        assert "no key for 600 s: logged out" in t.text() and t.text().endswith("login: ")
    run(body)


def test_a_user_sees_only_their_commands(tmp_path: Path) -> None:
    async def body() -> None:
        t = Term(tmp_path)
        t.store.add("ann", "admin", "ann's password")
        t.store.add("bob", "user", "bobs password", extension="101")
        t.start()
        await t.type("bob\r")
        await t.type("bobs password\r")
        await t.until("office> ")
        out = await t.type("?")
        assert "status" in out and "  hw" not in out and "  sim" not in out
        out = await t.type("hw ring 1\r")
        assert "% unknown word 'hw'" in out
    run(body)


@pytest.mark.parametrize("width", [80, 40])
def test_screen_rows_never_reach_the_last_column(tmp_path: Path, width: int) -> None:
    async def body() -> None:
        t = Term(tmp_path, width=width)
        await t.login_admin()
        await t.type("config set box.name " + "y" * 200)
        await t.type("?")
        for row in t.text().replace("\r\n", "\n").split("\n"):
            for part in row.split("\r"):
                assert len(part) < width, part
    run(body)
