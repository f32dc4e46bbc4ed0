"""The co-processor link lost and restored (issue 12 section 3), mid-call and while a phone
rings: while it is lost ``status`` shows the link and every port behind it down; after it
comes back the lines' real state (the emulated MCU's) equals the box's, and what happened
meanwhile on the lines (a handset hung up) reaches the box. The co-processor is
tools/coproc_emulator.py behind a real pty; cutting the link makes it deaf and mute (a
cable pulled) without restarting it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.app.status_text import format_status
from tests.e2e.coproc_support import call_102, start_box
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.slow


def cut(emu: Any, lost: bool) -> None:
    with emu.locked():
        emu.deaf = emu.mute = lost


def link_down(box: Daemon) -> dict[str, Any]:
    status: dict[str, Any] = box.wait_for(
        "the link shown down",
        lambda: (s := box.call("status"))["link"]["state"] != "connected" and s, timeout=15)
    return status


def link_up(box: Daemon) -> None:
    box.wait_for("the link back", lambda: box.call("status")["link"]["state"] == "connected",
                 timeout=20)


def same_state(box: Daemon, emu: Any) -> bool:
    """The box's view of each FXS port equals the MCU's line: the loop current (hook) and
    a ring cadence running."""
    ports = {p["leg"]: p for p in box.call("status")["ports"]}
    with emu.locked():
        real = [(bool(emu.line(i).shk), emu.line(i).steps is not None or bool(emu.line(i).rm))
                for i in (0, 1)]
    seen = [(ports[f"fxs{i + 1}"]["hook"] == "off", bool(ports[f"fxs{i + 1}"]["ringing"]))
            for i in (0, 1)]
    return real == seen


def test_link_lost_mid_call_and_a_hang_up_meanwhile(
        daemon_factory: Callable[..., Daemon], emulator_factory: Callable[..., Any],
        tmp_path: Path) -> None:
    emu = emulator_factory()
    box = start_box(daemon_factory, tmp_path, emu.path)
    call_102(box, emu)
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    emu.offhook(1)
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2", timeout=10)

    cut(emu, True)
    status = link_down(box)
    assert {p["link"] for p in status["ports"]} == {status["link"]["state"]}
    assert "connected" not in {p["link"] for p in status["ports"]}
    assert format_status(status).count("DOWN (co-processor link") == 2
    emu.onhook(1)  # phone 2 hangs up while the box cannot hear it
    cut(emu, False)
    link_up(box)
    box.wait_for("the hang-up to reach the box",
                 lambda: box.port("fxs2")["line_state"] == "idle", timeout=15)
    assert box.port("fxs1")["with"] is None  # the call ended; phone 1 hears the busy tone
    box.wait_for("the lines as they are", lambda: same_state(box, emu), timeout=10)
    assert {p["link"] for p in box.call("status")["ports"]} == {"connected"}
    emu.onhook(0)
    box.wait_for("both idle", lambda: box.port("fxs1")["line_state"] == "idle", timeout=10)
    assert same_state(box, emu)


def test_link_lost_while_ringing_and_the_caller_gives_up(
        daemon_factory: Callable[..., Daemon], emulator_factory: Callable[..., Any],
        tmp_path: Path) -> None:
    emu = emulator_factory()
    box = start_box(daemon_factory, tmp_path, emu.path)
    call_102(box, emu)
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    box.wait_for("the co-processor to ring phone 2", lambda: emu.line(1).rm, timeout=5)

    cut(emu, True)
    link_down(box)
    emu.onhook(0)  # the caller gives up while the link is down
    cut(emu, False)
    link_up(box)
    box.wait_for("the ringing to stop on both sides",
                 lambda: not box.port("fxs2")["ringing"] and not emu.line(1).rm
                 and emu.line(1).steps is None, timeout=15)
    box.wait_for("the lines as they are", lambda: same_state(box, emu), timeout=10)
    box.wait_for("every line idle", lambda: all(
        p["line_state"] == "idle" for p in box.call("status")["ports"]), timeout=10)
    assert "Traceback" not in box.log()


def test_daemon_killed_mid_call_the_relink_puts_the_lines_right(
        emulator_factory: Callable[..., Any], tmp_path: Path) -> None:
    """SIGKILL with a call up and a phone ringing: the co-processor (which outlives the
    daemon, as the MCU does) is linked again by the next daemon, which wants every line
    quiet and sees the handset still off the hook as it really is."""
    emu = emulator_factory()

    def start(config: str) -> Daemon:
        d = Daemon(tmp_path / "box", config)
        d.wait_ready()
        return d

    box = start_box(start, tmp_path, emu.path)
    try:
        call_102(box, emu)
        box.wait_for("the co-processor to ring phone 2", lambda: emu.line(1).rm, timeout=15)
        box.proc.kill()
        box.proc.wait(10)
    finally:
        box.stop()
    again = Daemon(tmp_path / "box", None)  # systemd's restart: the saved configuration
    try:
        again.wait_ready()
        link_up(again)
        again.wait_for("phone 2's ringing stopped",
                       lambda: not emu.line(1).rm and emu.line(1).steps is None, timeout=15)
        again.wait_for("the lines as they are", lambda: same_state(again, emu), timeout=10)
        assert again.port("fxs1")["hook"] == "off"  # phone 1 was never hung up
        assert not again.port("fxs2")["ringing"] and again.port("fxs2")["line_state"] == "idle"
        emu.onhook(0)
        again.wait_for("every line idle", lambda: all(
            p["line_state"] == "idle" for p in again.call("status")["ports"]), timeout=10)
    finally:
        assert again.stop() == 0, again.log()
