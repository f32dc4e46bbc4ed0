"""The daemon dying (SIGKILL mid-call) and hanging (a loop that stops): systemd's part is
played by the test. After a restart in the same state dir the lines come back idle, nothing
is left ringing, and what is on disk reads whole; the watchdog pings come from the loop, so
a hung loop stops them (and systemd, WatchdogSec=, kills and restarts the box)."""

from __future__ import annotations

import contextlib
import resource
import signal
import threading
import time
from pathlib import Path

import pytest

from firmware.app.client import ClientError
from firmware.config.loader import load_config
from tests.e2e.faults_support import NotifySocket, at_rest, config_text, records
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.slow


def connect(box: Daemon, caller: int, callee: int) -> None:
    box.phone(caller, "offhook")
    box.dial(caller, str(100 + callee))
    box.wait_for(f"phone {callee} to ring", lambda: box.port(f"fxs{callee}")["ringing"])
    box.phone(callee, "offhook")
    box.wait_for("the call", lambda: box.port(f"fxs{caller}")["with"] == f"fxs{callee}")


def test_sigkill_mid_call_restarts_with_idle_lines(tmp_path: Path) -> None:
    box = Daemon(tmp_path, config_text(phones=4))
    box.wait_ready()
    try:
        connect(box, 1, 2)  # a call that had ended, so its record is on disk
        box.phone(1, "onhook")
        box.phone(2, "onhook")
        box.wait_for("the record", lambda: len(records(box)) == 1)
        connect(box, 1, 2)  # a call up
        box.phone(3, "offhook")
        box.dial(3, "104")
        box.wait_for("phone 4 to ring", lambda: box.port("fxs4")["ringing"])  # one ringing
        box.proc.send_signal(signal.SIGKILL)
        assert box.proc.wait(10) == -signal.SIGKILL
    finally:
        box.stop()

    # systemd: Restart=on-failure starts it again, same state dir, no --config.
    again = Daemon(tmp_path, None)
    try:
        status = again.wait_ready()
        assert at_rest(status) == []
        assert [p["hook"] for p in status["ports"] if p["kind"] == "fxs"] == ["on"] * 4
        assert [p["seized"] for p in status["ports"] if p["kind"] == "fxo"] == [False]
        # Nothing torn: the saved configuration loads, every record line parses.
        state = again.state
        assert len(load_config(state / "config.toml").fxs) == 4
        assert [r["status"] for r in records(again)] == ["ANSWERED"]
        assert not list(state.glob("*.tmp"))
        connect(again, 1, 2)  # and the box works
        again.phone(1, "onhook")
        again.phone(2, "onhook")
        again.wait_for("the call to end", lambda: at_rest(again.call("status")) == [])
    finally:
        assert again.stop() == 0, again.log()


def test_a_hung_loop_stops_the_watchdog_pings(tmp_path: Path) -> None:
    notify = NotifySocket(tmp_path / "notify.sock")
    interval_s = 1.0
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": str(int(interval_s * 1e6)),
           "MINIPBX_TEST_HOOKS": "1"}
    # SIGABRT below dumps core where the system says; no core files from a test.
    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    box = Daemon(tmp_path, config_text(phones=2), env=env)
    try:
        notify.wait_for("READY=1", 30)
        for _ in range(4):  # a live loop pings inside every interval
            assert notify.recv(interval_s * 4) == ["WATCHDOG=1"]
        connect(box, 1, 2)

        def freeze() -> None:
            with contextlib.suppress(ClientError):  # killed while frozen, as by systemd
                box.call("debug.freeze", seconds=6.0, timeout=30)
        frozen = threading.Thread(target=freeze)
        frozen.start()
        # systemd's verdict: no ping for a whole interval (drain the one maybe in flight).
        # Bounded: a loop that never stops pinging fails here instead of hanging the test.
        give_up = time.monotonic() + 20
        while notify.recv(interval_s) is not None:
            assert time.monotonic() < give_up, "debug.freeze did not stop the pings"
        assert box.proc.poll() is None  # alive, yet hung: only the watchdog can tell
        box.proc.send_signal(signal.SIGABRT)  # WatchdogSignal=SIGABRT
        box.proc.wait(10)
        frozen.join(30)
        assert box.proc.returncode != 0
    finally:
        box.stop()

    again = Daemon(tmp_path, None, env=env)
    try:
        notify.wait_for("READY=1", 30)
        assert notify.recv(interval_s * 4) == ["WATCHDOG=1"]
        assert at_rest(again.wait_ready()) == []
    finally:
        assert again.stop() == 0, again.log()
        notify.close()


def test_the_freeze_hook_is_absent_in_service(tmp_path: Path) -> None:
    box = Daemon(tmp_path, config_text(phones=2))
    try:
        box.wait_ready()
        with pytest.raises(ClientError, match=r"unknown command 'debug\.freeze'"):
            box.call("debug.freeze", seconds=1.0)
        unit = (Path(__file__).resolve().parents[2] / "rootfs" / "systemd"
                / "minipbx.service").read_text()
        assert "WatchdogSec=" in unit
    finally:
        assert box.stop() == 0
