"""A/B updates on the host: the slots as files, the Pi firmware's tryboot as files
(tests/app/update_rig.py). The whole path, a slot that never reaches READY, a power cut on
trial, and files that must be refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.app.slots import Layout, UpdateError, firmware_boot
from firmware.config import parse_config
from firmware.config.problems import InvalidConfigError
from tests.app.update_rig import OLD_ROOT, Rig, old_config_text


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def test_update_is_tried_once_then_kept_when_ready(rig: Rig) -> None:
    update, root = rig.make_update()
    assert rig.old().apply(update) == "b"
    assert rig.slot_b.read_bytes() == root
    assert (rig.boot / "slot-b" / "overlays" / "uart.dtbo").exists()
    cmdline = (rig.boot / "slot-b" / "cmdline.txt").read_text()
    assert cmdline == f"root={rig.slot_b} ro minipbx.slot=b\n"
    assert firmware_boot(rig.boot) == ("b", True)  # the one-time tryboot
    new = rig.new()
    assert new.boot_check() == "trying"
    assert rig.schema() == 2 and "beta_setting = true" in rig.config_text()
    assert new.confirm(lambda: True, timeout_s=5) == "committed"
    assert firmware_boot(rig.boot) == ("b", False)  # now the default
    assert new.boot_check() == "committed"
    assert rig.slot_a.read_bytes() == OLD_ROOT  # the old slot is left whole


def test_slot_that_never_reaches_ready_falls_back(rig: Rig) -> None:
    update, _ = rig.make_update()
    rig.old().apply(update)
    firmware_boot(rig.boot)
    new = rig.new()
    new.boot_check()
    assert rig.schema() == 2
    assert new.confirm(lambda: False, timeout_s=0.3, poll_s=0.05) == "timeout"
    assert firmware_boot(rig.boot) == ("a", False)  # a normal reboot: the default slot
    assert rig.old().boot_check() == "fell-back"
    # The old firmware reads its configuration again; the migrated one it would refuse.
    assert rig.config_text() == old_config_text() and rig.schema() == 1
    parse_config(rig.config_text())
    state = json.loads((rig.layout.state / "state.json").read_text())
    assert state["state"] == "fell-back" and state["version"] == "0.2.0"


def test_migrated_file_is_not_readable_by_the_old_firmware(rig: Rig) -> None:
    """Why the fallback restores the copy: the schema 2 file fails the schema 1 loader."""
    update, _ = rig.make_update()
    rig.old().apply(update)
    firmware_boot(rig.boot)
    rig.new().boot_check()
    with pytest.raises(InvalidConfigError, match="beta_setting"):
        parse_config(rig.config_text())


def test_power_cut_while_on_trial_falls_back(rig: Rig) -> None:
    update, _ = rig.make_update()
    rig.old().apply(update)
    firmware_boot(rig.boot)
    rig.new().boot_check()
    assert firmware_boot(rig.boot, power_cut=True) == ("a", False)
    assert rig.old().boot_check() == "fell-back"
    parse_config(rig.config_text())


def test_power_cut_before_the_trial_boot_keeps_the_old_slot(rig: Rig) -> None:
    update, _ = rig.make_update()
    rig.old().apply(update)  # armed and the reboot asked for, then the power goes
    assert firmware_boot(rig.boot, power_cut=True) == ("a", False)
    assert rig.old().boot_check() == "fell-back"
    assert rig.config_text() == old_config_text()


def test_update_again_after_a_fallback(rig: Rig) -> None:
    update, _ = rig.make_update()
    rig.old().apply(update)
    firmware_boot(rig.boot, power_cut=True)
    rig.old().boot_check()
    second, root = rig.make_update("second.update", version="0.2.1")
    assert rig.old().apply(second) == "b"
    firmware_boot(rig.boot)
    assert rig.new().boot_check() == "trying"
    assert rig.new().confirm(lambda: True, timeout_s=1) == "committed"
    assert rig.slot_b.read_bytes() == root


def test_wrong_key_is_refused_before_anything_is_written(rig: Rig) -> None:
    update, _ = rig.make_update(private=Ed25519PrivateKey.generate())
    with pytest.raises(UpdateError, match="signature does not match"):
        rig.old().apply(update)
    assert rig.slot_b.read_bytes() == b""
    assert not (rig.layout.state / "state.json").exists()
    assert not (rig.boot / "reboot-request").exists()


def test_tampered_manifest_is_refused(rig: Rig) -> None:
    update, _ = rig.make_update()
    data = update.read_bytes()
    at = data.index(b'"version": "0.2.0"')
    update.write_bytes(data[:at] + b'"version": "9.9.9"' + data[at + 18:])
    with pytest.raises(UpdateError, match="signature does not match"):
        rig.old().apply(update)
    assert rig.slot_b.read_bytes() == b""


def test_tampered_payload_is_refused_and_the_box_keeps_its_slot(rig: Rig) -> None:
    update, root = rig.make_update()
    data = bytearray(update.read_bytes())
    at = bytes(data).index(root[:64]) + 1000
    data[at] ^= 0xFF
    update.write_bytes(bytes(data))
    with pytest.raises(UpdateError, match="does not match its manifest digest"):
        rig.old().apply(update)
    assert not (rig.boot / "reboot-request").exists()
    assert firmware_boot(rig.boot) == ("a", False)
    assert rig.old().boot_check() == "aborted"


def test_not_an_update_file(rig: Rig, tmp_path: Path) -> None:
    junk = tmp_path / "junk.update"
    junk.write_bytes(b"hello")
    with pytest.raises(UpdateError, match=r"junk\.update: not an update file"):
        rig.old().apply(junk)


def test_layout_errors_name_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "update.toml"
    path.write_text('boot = "b"\nstate = "s"\nconfig = "c"\nkey = "k"\n[slots]\na = "x"\n')
    with pytest.raises(UpdateError, match=r"update.toml: \[slots\] must give a and b"):
        Layout.load(path)
    path.write_text('boot = "b"\nstate = "s"\nconfig = "c"\nkey = "k"\nbootloader = "uboot"\n'
                    '[slots]\na = "x"\nb = "y"\n')
    with pytest.raises(UpdateError, match="bootloader 'uboot'"):
        Layout.load(path)


def test_config_newer_than_the_firmware_is_refused(rig: Rig) -> None:
    from firmware.app import migrate

    (rig.config_dir / "config.schema").write_text("3\n")
    with pytest.raises(migrate.MigrationError, match="schema 3, newer than"):
        migrate.migrate(rig.config_dir, target=2)
