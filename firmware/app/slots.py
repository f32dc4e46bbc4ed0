"""The two root slots (A/B) and the boot loader's state, as the update needs them.

On the Raspberry Pi the boot partition (FAT, ``/boot/firmware``) holds one folder per slot
(``slot-a/``, ``slot-b/``: kernel, initrd, device trees, ``cmdline.txt`` naming the slot's
root partition and ``minipbx.slot=``). ``config.txt`` includes ``slot.txt``, whose one line
``os_prefix=slot-a/`` picks the slot every normal boot uses. ``tryboot.txt`` is what the
firmware reads instead of ``config.txt`` after ``reboot "0 tryboot"``, once: the flag lives
in a register that the next reboot or a power cut clears, so a slot that fails is left by
itself on the next boot. (Pi 4, 400, CM4 and 5; the Pi 3's firmware has no tryboot:
rootfs/README.md.) The running slot is ``minipbx.slot=`` on the kernel command line; the
firmware reports a tryboot in ``/proc/device-tree/chosen/bootloader/tryboot``.

:class:`FileBoot` is the same state in plain files, with :func:`firmware_boot` standing in
for the Pi's firmware: the host tests and a dry run use it with the slots as files.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from firmware.core.errors import PbxError
from firmware.core.files import write_atomic

SLOTS = ("a", "b")
DEFAULT_LAYOUT = Path("/etc/minipbx/update.toml")


class UpdateError(PbxError):
    """An update was refused or could not be done; the message says what and where."""


def other(slot: str) -> str:
    if slot not in SLOTS:
        raise UpdateError(f"unknown slot {slot!r}; the slots are a and b")
    return "b" if slot == "a" else "a"


def prefix_line(slot: str) -> str:
    return f"os_prefix=slot-{slot}/\n"


def slot_of(text: str, where: Path) -> str:
    """The slot an ``os_prefix=slot-X/`` line in ``text`` names."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key == "os_prefix":
            slot = value.strip().removeprefix("slot-").rstrip("/")
            if slot in SLOTS:
                return slot
    raise UpdateError(f"{where}: no os_prefix=slot-a/ or slot-b/ line")


class BootState(Protocol):
    """What the update asks of the boot loader."""

    def running(self) -> tuple[str, bool]:
        """The slot this system booted from, and whether it was a one-time try."""

    def default(self) -> str:
        """The slot a normal boot picks."""

    def set_default(self, slot: str) -> None:
        """Make ``slot`` the slot of every normal boot (atomic)."""

    def arm_try(self, slot: str) -> None:
        """Prepare the next tryboot to start ``slot`` (the default stays as it is)."""

    def reboot(self, try_once: bool) -> None:
        """Reboot; with ``try_once`` into the armed slot, once."""


@dataclass(frozen=True)
class Layout:
    """Where the pieces are: /etc/minipbx/update.toml on a device, a test's files on a host."""

    boot: Path  # the FAT boot partition (slot-a/, slot-b/, slot.txt, tryboot.txt)
    slots: dict[str, Path]  # slot -> its root partition (a block device, or a file)
    state: Path  # the update's own state (on the data partition)
    config: Path  # the box's state dir (config.toml and its schema), on the data partition
    key: Path  # the Ed25519 public key updates are signed with (32 raw bytes, or PEM)
    bootloader: str  # pi or file
    ready_timeout_s: float = 120.0

    @classmethod
    def load(cls, path: Path) -> Layout:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise UpdateError(f"cannot read the update layout {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UpdateError(f"{path}: {exc}") from None
        base = path.parent

        def where(key: str) -> Path:
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise UpdateError(f"{path}: {key} must be a path")
            return base / value

        slots = data.get("slots")
        if not isinstance(slots, dict) or sorted(slots) != list(SLOTS) or not all(
                isinstance(v, str) for v in slots.values()):
            raise UpdateError(f"{path}: [slots] must give a and b as paths")
        bootloader = data.get("bootloader", "pi")
        if bootloader not in ("pi", "file"):
            raise UpdateError(f"{path}: bootloader {bootloader!r}; use pi or file")
        timeout = data.get("ready_timeout_s", 120.0)
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise UpdateError(f"{path}: ready_timeout_s must be a positive number of seconds")
        return cls(boot=where("boot"), slots={k: base / v for k, v in slots.items()},
                   state=where("state"), config=where("config"), key=where("key"),
                   bootloader=bootloader, ready_timeout_s=float(timeout))

    def boot_state(self) -> BootState:
        return PiBoot(self.boot) if self.bootloader == "pi" else FileBoot(self.boot)


class _BootFiles:
    """slot.txt and tryboot.txt, shared by the Pi and the file stand-in."""

    def __init__(self, boot: Path) -> None:
        self.boot = boot

    def default(self) -> str:
        path = self.boot / "slot.txt"
        try:
            return slot_of(path.read_text(), path)
        except OSError as exc:
            raise UpdateError(f"cannot read {path}: {exc.strerror}") from None

    def set_default(self, slot: str) -> None:
        write_atomic(self.boot / "slot.txt", prefix_line(slot))

    def arm_try(self, slot: str) -> None:
        write_atomic(self.boot / "tryboot.txt", f"include common.txt\n{prefix_line(slot)}")


class PiBoot(_BootFiles):
    """The Raspberry Pi firmware's tryboot."""

    def running(self) -> tuple[str, bool]:
        slot = ""
        for word in Path("/proc/cmdline").read_text().split():
            if word.startswith("minipbx.slot="):
                slot = word.partition("=")[2]
        if slot not in SLOTS:
            raise UpdateError("the kernel command line names no minipbx.slot=a or b")
        flag = Path("/proc/device-tree/chosen/bootloader/tryboot")
        tried = flag.exists() and int.from_bytes(flag.read_bytes()[:4], "big") == 1
        return slot, tried

    def reboot(self, try_once: bool) -> None:
        os.sync()
        subprocess.run(["systemctl", "reboot", *(["0 tryboot"] if try_once else [])],
                       check=False)


class FileBoot(_BootFiles):
    """The boot loader as files: ``booted.json`` is what the last (simulated) boot chose;
    ``reboot-request`` is the tryboot flag, cleared by the next boot or a power cut."""

    def running(self) -> tuple[str, bool]:
        path = self.boot / "booted.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            raise UpdateError(f"{path}: no simulated boot recorded") from None
        return str(data["slot"]), bool(data["tried"])

    def reboot(self, try_once: bool) -> None:
        write_atomic(self.boot / "reboot-request", "tryboot\n" if try_once else "normal\n")


def firmware_boot(boot: Path, power_cut: bool = False) -> tuple[str, bool]:
    """What the Pi firmware does at power-on or reboot, on a :class:`FileBoot` folder: a
    pending tryboot (lost with the power) starts tryboot.txt's slot once, anything else
    slot.txt's. Records the choice in booted.json and returns it."""
    request = boot / "reboot-request"
    tried = False
    if request.exists():
        tried = not power_cut and request.read_text().strip() == "tryboot"
        request.unlink()
    path = boot / ("tryboot.txt" if tried else "slot.txt")
    slot = slot_of(path.read_text(), path)
    write_atomic(boot / "booted.json", json.dumps({"slot": slot, "tried": tried}))
    return slot, tried
