"""A box's disk as files for the update tests: a boot folder the simulated Pi firmware
reads (firmware.app.slots.firmware_boot), the two root slots as image files, the data
partition (update state, the box's config), an Ed25519 key pair, and update files signed
with it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from firmware.app import migrate
from firmware.app.slots import Layout, firmware_boot, prefix_line
from firmware.app.update import Updater, pack
from firmware.config import default_config, to_toml

OLD_ROOT = b"root file system of release 0.1.0\n" * 4096


def old_config_text() -> str:
    return to_toml(default_config())


def add_beta_setting(data: dict[str, Any]) -> dict[str, Any]:
    """The stand-in migration from schema 1 to 2: a new [box] setting, which the schema 1
    firmware refuses (an unknown key), so only the fallback copy lets it read its file."""
    box = dict(data.get("box", {}))
    box["beta_setting"] = True
    return {**data, "box": box}


NEW_MIGRATIONS = {1: add_beta_setting}


@dataclass
class Rig:
    tmp: Path

    def __post_init__(self) -> None:
        t = self.tmp
        self.boot = t / "boot"
        self.boot.mkdir(parents=True)
        (self.boot / "common.txt").write_text("arm_64bit=1\nkernel=vmlinuz\n")
        (self.boot / "config.txt").write_text("include common.txt\ninclude slot.txt\n")
        (self.boot / "slot.txt").write_text(prefix_line("a"))
        (self.boot / "slot-a").mkdir()
        (self.boot / "slot-a" / "cmdline.txt").write_text("root=PARTUUID=1-02 minipbx.slot=a\n")
        self.slot_a = t / "slot-a.img"
        self.slot_b = t / "slot-b.img"
        self.slot_a.write_bytes(OLD_ROOT)
        self.slot_b.write_bytes(b"")
        self.data = t / "data"
        self.config_dir = self.data / "minipbx"
        self.config_dir.mkdir(parents=True)
        (self.config_dir / "config.toml").write_text(old_config_text())
        self.private = Ed25519PrivateKey.generate()
        self.key = t / "update-key.pub"
        self.key.write_bytes(self.private.public_key().public_bytes(Encoding.Raw,
                                                                    PublicFormat.Raw))
        self.layout_path = t / "update.toml"
        self.layout_path.write_text(
            'boot = "boot"\nstate = "data/update"\nconfig = "data/minipbx"\n'
            'key = "update-key.pub"\nbootloader = "file"\nready_timeout_s = 30\n'
            '[slots]\na = "slot-a.img"\nb = "slot-b.img"\n')
        self.layout = Layout.load(self.layout_path)
        firmware_boot(self.boot)

    def make_update(self, name: str = "u.update", root_size: int = 3 << 20,
                    private: Any = None, version: str = "0.2.0") -> tuple[Path, bytes]:
        """A signed update whose root payload is ``root_size`` bytes; returns it and the root."""
        root = hashlib.shake_256(version.encode()).digest(root_size)
        image = self.tmp / f"{name}.squashfs"
        image.write_bytes(root)
        boot = self.tmp / f"{name}.boot"
        boot.mkdir(exist_ok=True)
        (boot / "cmdline.txt").write_text("root=@ROOT@ ro minipbx.slot=@SLOT@\n")
        (boot / "overlays").mkdir(exist_ok=True)
        (boot / "overlays" / "uart.dtbo").write_bytes(os.urandom(64))
        out = self.tmp / name
        pack(out, version, "arm64", image, boot, private or self.private, schema=2)
        return out, root

    def old(self) -> Updater:
        """The firmware of release 0.1.0 (schema 1)."""
        return Updater(self.layout, self.layout.boot_state())

    def new(self) -> Updater:
        """The firmware the update carries (schema 2, one migration)."""
        return Updater(self.layout, self.layout.boot_state(), schema=2,
                       migrations=NEW_MIGRATIONS)

    def config_text(self) -> str:
        return (self.config_dir / "config.toml").read_text()

    def schema(self) -> int:
        return migrate.schema_of(self.config_dir)
