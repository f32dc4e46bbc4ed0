"""The daemon as a systemd notify service: READY=1 once it serves, STOPPING=1 on SIGTERM,
and a unit file that systemd's own checker accepts."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import default_config_text
from tests.e2e.harness import ROOT, Daemon

pytestmark = pytest.mark.slow


def test_ready_and_stopping_are_notified(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(30)
        d = Daemon(tmp_path, default_config_text(), env={"NOTIFY_SOCKET": str(path)})
        ready = sock.recv(4096).decode()
        assert "READY=1" in ready.splitlines()
        # Ready means serving: the control socket answers at once.
        assert d.call("status")["ports"]
        assert d.stop() == 0
        assert "STOPPING=1" in sock.recv(4096).decode().splitlines()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_unit_file_verifies() -> None:
    unit = ROOT / "rootfs" / "systemd" / "minipbx.service"
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)
    # It exits 0 even on bad values: read what it says. Off the device the binary is
    # missing; anything else is a fault in the unit.
    problems = [ln for ln in result.stderr.splitlines()
                if ln.strip() and "is not executable" not in ln]
    assert problems == [], result.stderr
