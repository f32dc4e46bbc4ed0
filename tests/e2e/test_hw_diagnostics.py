"""Installer diagnostics through the daemon (`minipbx hw ...`) on the simulated board."""

from __future__ import annotations

import threading
import time

import pytest

from tests.e2e.harness import Daemon, dominant_hz

pytestmark = pytest.mark.slow


def test_ports_show_backend_and_state(box: Daemon) -> None:
    ports = {p["leg"]: p for p in box.call("hw.ports")}
    assert set(ports) >= {"fxs1", "fxs2", "fxo1"}
    assert ports["fxs1"]["board"] == "sim"
    assert ports["fxs1"]["hook"] == "on" and ports["fxo1"]["seized"] is False


def test_ring_and_ring_trip(box: Daemon) -> None:
    result = box.call("hw.ring", port=2, seconds=1.0)
    assert result["ring_trip"] is False and result["rang_s"] >= 1.0
    assert not box.port("fxs2")["ringing"]

    def lift_soon() -> None:
        time.sleep(1.0)
        box.phone(2, "offhook")

    lifter = threading.Thread(target=lift_soon)
    lifter.start()
    result = box.call("hw.ring", port=2, seconds=20.0)
    lifter.join()
    assert result["ring_trip"] is True and result["rang_s"] < 20.0
    box.phone(2, "onhook")


def test_test_tone_reaches_the_line(box: Daemon) -> None:
    heard: list[object] = []
    recorder = threading.Thread(target=lambda: heard.append(box.hear(1, 1.5)))
    recorder.start()
    box.call("hw.tone", port=1, tone="1000hz", seconds=1.5)
    recorder.join()
    assert abs(dominant_hz(heard[0]) - 1000) < 10  # type: ignore[arg-type]


def test_loopback_on_the_simulated_line_reports_no_return(box: Daemon) -> None:
    result = box.call("hw.loopback", port=1)
    # The virtual handset has no hybrid: nothing comes back, and the report says so.
    assert result["returned"] is False and "no" in result["note"]


def test_hook_watch_times_a_flash(box: Daemon) -> None:
    since = box.call("hw.hook", port=1)["last"]
    box.phone(1, "offhook")
    time.sleep(0.5)
    box.phone(1, "flash")
    time.sleep(1.0)
    events = box.call("hw.hook", port=1, since=since)["events"]
    edges = [e for e in events if e["type"] == "HookEdge"]
    assert [e["hook"] for e in edges] == ["off", "on", "off"]
    # The virtual handset's recall button opens the loop for 300 ms.
    assert 290 <= edges[-1]["after_ms"] <= 310
    box.phone(1, "onhook")


def test_ring_refuses_a_busy_port(box: Daemon) -> None:
    from firmware.app.client import ClientError

    box.phone(1, "offhook")
    with pytest.raises(ClientError, match="fxs1 is offhook"):
        box.call("hw.ring", port=1, seconds=1.0)
    box.phone(1, "onhook")


def test_hw_commands_from_the_command_line(box: Daemon) -> None:
    import subprocess

    from tests.e2e.harness import MINIPBX, ROOT

    def run(*args: str) -> str:
        result = subprocess.run([*MINIPBX, "--state-dir", str(box.state), "hw", *args],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    ports = run("ports")
    assert "fxs1" in ports and "fxo1" in ports and "sim" in ports
    box.phone(2, "offhook")
    box.phone(2, "onhook")
    events = run("hook", "2")
    assert "HookEdge" in events and "hook=off" in events and "hook=on" in events
