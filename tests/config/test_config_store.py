"""Saving: atomic, validated first, versioned, with diff and rollback."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from firmware.config import ConfigStore, Version, default_config, to_toml
from firmware.core.errors import ConfigError, NotFoundError

V1 = to_toml(default_config())
V2 = V1.replace('name = "minipbx"', 'name = "office"')
V3 = V2.replace("debounce_ms = 12", "debounce_ms = 25", 1)
INVALID = V1.replace("debounce_ms = 12", "debounce_ms = 2", 1)


class StepClock:
    """A wall clock that moves one minute per reading, so each version has its own time."""

    def __init__(self) -> None:
        self.time = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.time += timedelta(minutes=1)
        return self.time


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore(tmp_path / "etc" / "config.toml", tmp_path / "history", now=StepClock())


@pytest.fixture(autouse=True)
def etc(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "etc"
    directory.mkdir()
    yield directory


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_save_writes_and_records_a_version(store: ConfigStore) -> None:
    version = store.save(V1)
    assert version == Version(1, datetime(2024, 5, 1, 12, 1, tzinfo=UTC))
    assert str(version) == "v1 (2024-05-01 12:01:00 UTC)"
    assert store.path.read_text(encoding="utf-8") == V1
    assert store.load() == default_config()
    assert store.versions() == [version]
    assert [p.name for p in store.history_dir.iterdir()] == ["000001-20240501T120100Z.toml"]


def test_files_are_private(store: ConfigStore) -> None:
    """They hold trunk passwords."""
    store.save(V1)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.history_dir.stat().st_mode) == 0o700


def test_invalid_text_is_never_written(store: ConfigStore) -> None:
    store.save(V1)
    with pytest.raises(ConfigError, match=r"config\.toml:\d+: fxs\[0\]\.debounce_ms: must be"):
        store.save(INVALID)
    assert store.path.read_text(encoding="utf-8") == V1
    assert len(store.versions()) == 1
    assert leftovers(store.path.parent) == []


def _power_cut(*args: object) -> None:
    raise OSError(5, "Input/output error")


@pytest.mark.parametrize("step", ["replace", "fsync", "write"])
def test_a_failed_step_leaves_the_old_file_whole(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A crash at any step of the write: the old file stays whole and no temp file stays."""
    store.save(V1)
    if step == "write":
        monkeypatch.setattr(tempfile, "mkstemp", _short_file())
    else:
        monkeypatch.setattr(os, step, _power_cut)
    with pytest.raises(OSError):
        store.save(V2)
    monkeypatch.undo()
    assert store.path.read_text(encoding="utf-8") == V1
    assert leftovers(store.path.parent) == []
    assert [store.read(v) for v in store.versions()] == [V1]


def _short_file() -> object:
    """mkstemp whose file takes a few bytes and then fails, as a full disk does (ENOSPC)."""
    real = tempfile.mkstemp

    def mkstemp(**kwargs: str | Path) -> tuple[int, str]:
        fd, name = real(**kwargs)  # type: ignore[call-overload]
        os.write(fd, b"[bo")
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    return mkstemp


def test_save_fsyncs_file_then_directory(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    store.save(V1)
    assert synced == ["file", "dir", "file", "dir"]  # the live file, then its history copy


def test_temp_files_of_an_interrupted_write_are_cleared(tmp_path: Path) -> None:
    stale = tmp_path / "etc" / ".config.toml.abc123.tmp"
    stale.write_text("[box", encoding="utf-8")
    other = tmp_path / "etc" / ".other.toml.abc123.tmp"
    other.write_text("", encoding="utf-8")
    ConfigStore(tmp_path / "etc" / "config.toml", tmp_path / "history")
    assert leftovers(tmp_path / "etc") == [other.name]


def test_history_diff_and_rollback(store: ConfigStore) -> None:
    v1, v2, v3 = store.save(V1), store.save(V2), store.save(V3)
    assert [v.number for v in store.versions()] == [1, 2, 3]
    assert store.read(2) == V2 and store.read(v1) == V1
    diff = store.diff(v1, v2)
    assert diff.startswith(f"--- {v1}\n+++ {v2}\n@@ ")
    assert '-name = "minipbx"\n+name = "office"\n' in diff
    assert store.diff(v3) == ""  # v3 is live
    back = store.rollback(v1)
    assert back.number == 4
    assert store.path.read_text(encoding="utf-8") == V1
    assert store.diff(v3, back).count("\n-") == 2  # name and debounce_ms back again
    assert store.diff(4, None) == ""


def test_diff_masks_passwords(store: ConfigStore) -> None:
    trunk = '\n[[trunk]]\nname = "p"\nhost = "h"\nusername = "u"\npassword = "old-secret"\n\n'
    a = store.save(V1 + trunk)
    b = store.save(V1 + trunk.replace("old-secret", "new-secret"))
    diff = store.diff(a, b)
    assert "old-secret" not in diff and "new-secret" not in diff
    assert '-password = "<secret 1>"\n+password = "<secret 2>"\n' in diff
    assert store.diff(b, b) == ""


def test_saving_the_live_text_again_records_nothing(store: ConfigStore) -> None:
    first = store.save(V1)
    assert store.save(V1) == first
    assert store.rollback(first) == first
    assert len(store.versions()) == 1


def test_a_hand_edited_file_is_kept_before_it_is_replaced(store: ConfigStore) -> None:
    store.path.write_text(V2, encoding="utf-8")  # never saved through the store
    version = store.save(V1)
    assert [store.read(v) for v in store.versions()] == [V2, V1]
    assert version.number == 2


def test_a_crash_before_the_history_copy_is_recovered(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(V1)
    monkeypatch.setattr(store, "_archive", _crash)
    with pytest.raises(RuntimeError):
        store.save(V2)
    monkeypatch.undo()
    assert store.path.read_text(encoding="utf-8") == V2  # live, whole, but in no version
    store.save(V3)
    assert [store.read(v) for v in store.versions()] == [V1, V2, V3]


def _crash(text: str, about: object = None) -> Version:
    raise RuntimeError("power cut")


def test_history_is_bounded(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "etc" / "config.toml", tmp_path / "h", keep=3, now=StepClock())
    texts = [V1.replace('"minipbx"', f'"box{i}"') for i in range(6)]
    for text in texts:
        store.save(text)
    assert [v.number for v in store.versions()] == [4, 5, 6]
    assert store.read(4) == texts[3]
    with pytest.raises(NotFoundError, match="no configuration version 1; kept: v4 to v6"):
        store.read(1)


def test_load_without_a_file_says_so(store: ConfigStore) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration: No such file"):
        store.load()


def test_a_file_that_is_not_utf8_is_still_kept(store: ConfigStore) -> None:
    store.path.write_bytes(b'[box]\nname = "caf\xe9"\n')
    store.save(V1)
    assert store.read(1) == '[box]\nname = "caf\ufffd"\n'


def test_unknown_version(store: ConfigStore) -> None:
    with pytest.raises(NotFoundError, match="no configuration version 7; kept: none"):
        store.diff(7)
    with pytest.raises(ValueError, match="keep must be at least 1"):
        ConfigStore(store.path, store.history_dir, keep=0)


def test_files_that_are_not_versions_are_ignored(store: ConfigStore) -> None:
    store.save(V1)
    (store.history_dir / "README").write_text("", encoding="utf-8")
    (store.history_dir / "12-bad.toml").write_text("", encoding="utf-8")
    assert [v.number for v in store.versions()] == [1]


def test_who_and_why_are_kept_beside_each_version(store: ConfigStore) -> None:
    store.save(V1, user="root", message="first")
    store.save(V2)
    store.save(V3, user="ann", message="slower debounce")
    assert store.about(1) == {"user": "root", "message": "first"}
    assert store.about(2) == {"user": "", "message": ""}
    assert store.about(3) == {"user": "ann", "message": "slower debounce"}
    small = ConfigStore(store.path, store.history_dir, keep=1)
    small.save(V1, user="bob", message="back")
    assert [v.number for v in small.versions()] == [4]
    assert sorted(p.name.split("-")[0] for p in store.history_dir.iterdir()) == [
        "000004", "000004.about.json"]
