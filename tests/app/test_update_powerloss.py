"""Power loss during `minipbx update`: the real command in a child process, killed with
SIGKILL (no cleanup, no flush) at every step of the update and at random moments while it
writes; then the power-on the Pi firmware would do. Every time the box must come up on its
old slot, whole, with the configuration it had, and a later update must still work."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.app.slots import firmware_boot
from firmware.app.update import STEPS
from firmware.config import parse_config
from tests.app.update_rig import OLD_ROOT, Rig, old_config_text

ROOT = Path(__file__).resolve().parents[2]


def start_update(rig: Rig, update: Path, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "MINIPBX_UPDATE_CRASH_AT"}
    if crash_at:
        env["MINIPBX_UPDATE_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, "-m", "firmware.app.cli", "update", str(update),
                             "--layout", str(rig.layout_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def assert_old_system_boots(rig: Rig) -> str:
    slot, tried = firmware_boot(rig.boot, power_cut=True)
    assert (slot, tried) == ("a", False)
    state = rig.old().boot_check()
    assert state in ("idle", "aborted", "fell-back")
    assert rig.slot_a.read_bytes() == OLD_ROOT
    assert rig.config_text() == old_config_text() and rig.schema() == 1
    parse_config(rig.config_text())
    assert rig.old().boot.default() == "a"
    return state


def assert_update_still_works(rig: Rig) -> None:
    update, root = rig.make_update("again.update", version="0.3.0")
    assert rig.old().apply(update) == "b"
    assert firmware_boot(rig.boot) == ("b", True)
    assert rig.new().boot_check() == "trying"
    assert rig.new().confirm(lambda: True, timeout_s=1) == "committed"
    assert rig.slot_b.read_bytes() == root


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step(tmp_path: Path, step: str) -> None:
    rig = Rig(tmp_path)
    update, _ = rig.make_update()
    proc = start_update(rig, update, crash_at=step)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    state = assert_old_system_boots(rig)
    expected = {"verified": "idle", "writing": "aborted", "root-written": "aborted",
                "boot-written": "aborted", "snapshot": "aborted"}
    assert state == expected.get(step, "fell-back")
    assert_update_still_works(rig)


@pytest.mark.slow
def test_killed_at_random_moments_while_writing(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    rig = Rig(tmp_path / "measure")
    update, _ = rig.make_update(root_size=48 << 20)
    t0 = time.monotonic()
    proc = start_update(rig, update)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    whole = time.monotonic() - t0
    for i in range(6):
        rig = Rig(tmp_path / f"run{i}")
        update, _ = rig.make_update(root_size=48 << 20)
        proc = start_update(rig, update)
        time.sleep(rnd.uniform(0.0, whole))
        proc.kill()
        proc.communicate(timeout=60)
        try:
            assert_old_system_boots(rig)
            assert_update_still_works(rig)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, kill {i}: {exc}") from exc
