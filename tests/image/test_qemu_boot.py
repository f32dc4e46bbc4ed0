"""`make image-test` (MINIPBX_IMAGE_TEST=1): the card image `make image` made boots under
qemu-system-aarch64 (virt board, emulated) with its own kernel and initrd, the first boot
makes /data, and systemd starts minipbx.service on the simulated board: a Type=notify
service is "Started" only once the daemon sent READY=1 (tools/image/qemu_boot.sh). Skipped,
saying why, where qemu-system-aarch64, mtools or the image is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "image" / "qemu_boot.sh"
ANSI = re.compile(r"\x1b\[[0-9;]*[a-zA-Z]")


def newest_image() -> Path | None:
    images = sorted((ROOT / "build" / "image").glob("minipbx-*-arm64.img"))
    return images[-1] if images else None


@pytest.mark.slow
def test_image_boots_to_ready_under_qemu(tmp_path: Path) -> None:
    for tool, package in (("qemu-system-aarch64", "qemu-system-arm"), ("mcopy", "mtools"),
                          ("sfdisk", "fdisk")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: {package})")
    image = newest_image()
    if image is None:
        pytest.skip("no build/image/minipbx-*-arm64.img: run make image first")
    proc = subprocess.run(["bash", str(SCRIPT), str(image)], capture_output=True, text=True,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "QEMU_WORK": str(tmp_path)},
                          timeout=1200)
    console = ANSI.sub("", (tmp_path / "console.log").read_text(errors="replace"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n--- console:\n{console[-4000:]}"
    assert re.search(r"READY after \d+ s", proc.stdout), proc.stdout
    # The first boot made the data partition; the daemon runs on the simulated board, and
    # its first start prints the setup code (journald forwards it to the console).
    assert "minipbx-firstboot: adding slot B and the data partition" in console
    assert re.search(r"Started minipbx\.service", console)
    assert "setup code" in console, console[-4000:]
