"""`make image-test`: the root tree `make image` built, entered with chroot under qemu-user
(aarch64 binaries on this x86_64 host): the daemon starts on the simulated board, an internal
call connects, and `minipbx status` tells the source-built pjsua2 with its call limit."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import free_even_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG_SCRIPT = """
from dataclasses import replace
from firmware.config import default_config, to_toml
c = default_config()
print(to_toml(replace(c, sip=replace(c.sip, port=0, rtp_port=RTP),
                      web=replace(c.web, port=0))), end="")
"""
WORK = Path(os.environ.get("IMAGE_WORK", "/var/tmp/minipbx-image"))
SQUASH = ROOT / "build" / "image" / "root.squashfs"


def image_root(tmp: Path) -> Path:
    """The root tree: the build's work tree if it is still there, else the squashfs."""
    if (WORK / "root" / "usr" / "bin" / "minipbx").exists():
        return WORK / "root"
    if not SQUASH.exists():
        raise AssertionError(f"no image root: neither {WORK}/root nor {SQUASH}; run make image")
    dest = tmp / "root"
    subprocess.run(["unsquashfs", "-q", "-d", str(dest), str(SQUASH)], check=True)
    return dest


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        raise AssertionError("make image-test needs root (chroot)")
    tree = image_root(tmp_path_factory.mktemp("image"))
    mounts = [(tree / "proc", ["-t", "proc", "proc"]), (tree / "dev", ["--bind", "/dev"]),
              (tree / "tmp", ["-t", "tmpfs", "tmpfs"])]
    done = []
    try:
        for where, how in mounts:
            subprocess.run(["mount", *how, str(where)], check=True)
            done.append(where)
        yield tree
    finally:
        for where in reversed(done):
            subprocess.run(["umount", "-l", str(where)], check=False)


def run_in(root: Path, *args: str, timeout: float = 120) -> str:
    proc = subprocess.run(["chroot", str(root), "/usr/bin/minipbx", "--state-dir", "/tmp/state",
                           *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"minipbx {' '.join(args)}: {proc.stderr[-2000:]}"
    return proc.stdout


def status(root: Path) -> dict[str, object]:
    return dict(json.loads(run_in(root, "status", "--json")))


def wait_for(what: str, check, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except AssertionError:
            value = None
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def test_daemon_runs_in_the_image_and_connects_an_internal_call(root: Path) -> None:
    (root / "tmp" / "state").mkdir()
    # The image's own default configuration (its firmware may be older than this checkout's),
    # with the ports left to the OS: the chroot shares this machine's network.
    config = subprocess.run(
        ["chroot", str(root), "/opt/minipbx/venv/bin/python", "-c",
         CONFIG_SCRIPT.replace("RTP", str(free_even_port()))],
        capture_output=True, text=True, timeout=300, check=True).stdout
    (root / "tmp" / "minipbx.toml").write_text(config)
    log = (root / "tmp" / "daemon.log").open("wb")
    daemon = subprocess.Popen(["chroot", str(root), "/usr/bin/minipbx", "--state-dir",
                               "/tmp/state", "run", "--board", "sim", "--config",
                               "/tmp/minipbx.toml"], stdout=log, stderr=subprocess.STDOUT)
    started = time.monotonic()
    try:
        first = wait_for("the daemon in the image to answer", lambda: status(root))
        # A figure for the boot-time estimate (rootfs/README.md), not a pass/fail rule.
        with (ROOT / "build" / "image" / "times.txt").open("a") as times:
            times.write(f"daemon start to status under qemu-user: "
                        f"{time.monotonic() - started:.0f} s\n")
        lib = first["sip"]["library"]  # type: ignore[index]
        assert lib["build"] == "source" and lib["max_calls"] == 64, lib
        assert lib["tls"] == ["1.2", "1.3"], lib
        assert (root / "tmp" / "state" / "control.sock").exists()
        run_in(root, "sim", "phone", "1", "offhook")
        run_in(root, "sim", "phone", "1", "dial", "102")
        wait_for("phone 2 to ring", lambda: json.loads(
            run_in(root, "sim", "phone", "2", "status", "--json"))["ringing"])
        run_in(root, "sim", "phone", "2", "offhook")
        def in_call() -> object:
            ports = {p["leg"]: p for p in status(root)["ports"]}  # type: ignore[attr-defined]
            return ports["fxs1"].get("with")

        assert wait_for("the call to connect", in_call)
        text = run_in(root, "status")
        assert "pjsua2: 2.15.1 (source build), 64 calls at most" in text, text
        run_in(root, "sim", "phone", "1", "onhook")
        run_in(root, "sim", "phone", "2", "onhook")
    finally:
        daemon.terminate()
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
    assert daemon.returncode == 0, (root / "tmp" / "daemon.log").read_text()[-3000:]
