"""The console through the real daemon: a serial line on a real pseudo-terminal pair, and
``minipbx console`` over the control socket's neighbour."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.console.ptyterm import PtyTerm
from tests.e2e.harness import MINIPBX, ROOT, Daemon, free_even_port

pytestmark = pytest.mark.slow

PASSWORD = "a good password"


def console_config(device: str, idle: int = 600) -> str:
    from firmware.config import ConsoleConfig, WebConfig, default_config, to_toml

    config = default_config()
    return to_toml(replace(
        config, sip=replace(config.sip, port=0, rtp_port=free_even_port()),
        web=WebConfig(enabled=False),
        console=ConsoleConfig(device=device, baud=9600, idle_logout_s=idle)))


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, PtyTerm]]:
    tmp = tmp_path_factory.mktemp("console")
    term = PtyTerm(tmp / "ttyCONSOLE")
    d = Daemon(tmp, console_config(str(term.link)), extra_args=["--board", "sim"])
    d.wait_ready()
    yield d, term
    term.unplug()
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


def login(term: PtyTerm, name: str = "ann") -> None:
    term.send("\r")
    term.expect("login: ")
    term.send(f"{name}\r")
    term.expect("password: ")
    term.send(f"{PASSWORD}\r")
    term.expect(r"minipbx\*?> ")


def test_first_start_shows_the_setup_code_and_makes_the_admin(rig: tuple[Daemon, PtyTerm]
                                                              ) -> None:
    d, term = rig
    screen = term.expect("new admin name: ")
    code = re.search(r"Setup code: (\S+-\S+-\S+)", screen)
    assert code, screen
    assert f"setup code is {code.group(1)}" in d.log()  # and in the daemon's log
    assert d.call("setup.code")["code"] == code.group(1)  # and for root on the socket
    term.send("ann\r")
    term.expect("password: ")
    term.send(f"{PASSWORD}\r")
    term.expect("again: ")
    term.send(f"{PASSWORD}\r")
    term.expect("admin account ann created")
    term.expect(r"minipbx> ")
    assert PASSWORD not in term.text()
    assert d.call("user.list")[0]["name"] == "ann"
    assert d.call("setup.code")["code"] is None


def test_status_help_and_completion(rig: tuple[Daemon, PtyTerm]) -> None:
    _, term = rig
    term.send("status\r")
    out = term.expect(r"minipbx> ")
    assert "Ports:" in out and "fxs1" in out
    term.send("?")
    out = term.expect(r"minipbx> ")
    assert "  config" in out and "  status" in out and "  sim" in out
    term.send("sim phone 1 ?")
    out = term.expect(r"minipbx> sim phone 1 ")
    assert "offhook" in out and "dial" in out
    term.send("\x15conf\t")
    term.expect("config ")
    term.send("set fxs.1.ext\t")
    term.expect("config set fxs.1.extension ")
    term.send("?")
    out = term.expect("fxs.1.extension ")
    assert "<str>" in out and "now 101" in out
    term.send("\x15")
    term.expect(r"minipbx> ")


def test_config_set_and_commit_from_the_console(rig: tuple[Daemon, PtyTerm]) -> None:
    d, term = rig
    term.send("config set fxs.2.extension 1x\r")
    out = term.expect(r"% fxs.2.extension.*\n.*minipbx> ")
    assert "1x" in out
    term.send("config set fxs.2.extension 105\r")
    term.expect(r"minipbx\*> ")
    term.send('config commit -m "from the console"\r')
    out = term.expect(r"minipbx> ")
    assert "version" in out
    assert d.port("fxs2")["extension"] == "105"
    history = d.call("config.history")
    assert history[-1]["user"] == "ann" and history[-1]["message"] == "from the console"


def test_bad_input_and_a_pulled_cable_leave_the_call_up(rig: tuple[Daemon, PtyTerm]) -> None:
    d, term = rig
    ext2 = d.port("fxs2")["extension"]
    d.phone(1, "offhook")
    d.dial(1, ext2)
    d.wait_for("phone 2 to ring", lambda: d.port("fxs2")["ringing"])
    d.phone(2, "offhook")
    d.wait_for("the call to connect", lambda: d.port("fxs1")["with"] == "fxs2")
    try:
        # Line noise and binary garbage.
        term.send(bytes(range(128, 256)) * 8 + b"\x00\x1b[\xff\x1bO" + bytes(range(0, 32)))
        term.expect("noise bytes dropped: is the terminal at 9600 baud, 8N1")
        term.send("\x03")
        term.expect(r"minipbx> ")
        # A 100 KB line: cut at 1024 characters, and not run.
        term.send("status " + "x" * 100_000)
        term.send("\r")
        term.expect("line longer than 1024 characters: not run")
        term.expect(r"minipbx> ")
        # A command in the middle, then the cable is pulled.
        term.send("hw hook 1 --watch\r")
        term.expect("watching port 1")
        term.unplug()
        term.plug()  # plugged back in (a new pty behind the same device name)
        term.expect("login: ", timeout=15)  # a fresh login: the old session is gone
        login(term)
        term.send("status\r")
        out = term.expect(r"minipbx> ")
        assert "in call with fxs2" in out
        assert d.port("fxs1")["with"] == "fxs2"  # the call never noticed
        assert "serial console" in d.log() and "lost" in d.log()
    finally:
        d.phone(1, "onhook")
        d.phone(2, "onhook")


def test_minipbx_console_runs_as_root_without_a_login(rig: tuple[Daemon, PtyTerm]) -> None:
    d, _ = rig
    proc = subprocess.run([*MINIPBX, "--state-dir", str(d.state), "console"], cwd=ROOT,
                          input=b"status\r\nauth whoami\r\nconfig diff\r\n", capture_output=True,
                          timeout=30)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "minipbx console (root)" in out and "Ports:" in out
    assert "name: root" in out and "via: console" in out
    assert "end of input" in out


def test_minipbx_console_with_no_daemon_says_so(tmp_path: Path) -> None:
    proc = subprocess.run([*MINIPBX, "--state-dir", str(tmp_path), "console"], cwd=ROOT,
                          capture_output=True, timeout=30)
    assert proc.returncode == 1
    assert "cannot reach the console" in proc.stderr.decode()


def test_a_commit_moves_the_serial_console(rig: tuple[Daemon, PtyTerm],
                                           tmp_path: Path) -> None:
    d, _ = rig
    other = PtyTerm(tmp_path / "ttyOTHER")
    try:
        d.call("config.set", path="console.device", value=str(other.link))
        d.call("config.set", path="console.idle_logout_s", value="5")
        d.call("config.commit", message="console to the other port")
        other.send("\r")
        other.expect("login: ")
        login(other)
        # The idle time came with the commit: five quiet seconds log out.
        other.expect("no key for 5 s: logged out", timeout=15)
        d.call("config.set", path="console.device", value="")
        d.call("config.commit", message="no console")
        assert "serial console on" in d.log()
    finally:
        other.unplug()
