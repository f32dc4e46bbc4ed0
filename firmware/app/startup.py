"""Which configuration the box starts with: the one saved in its state dir.

The state dir keeps the live file (``config.toml``) and its history (``config-history/``);
every commit, from any front end, is saved there, so it survives a restart or a reboot.

Rules for ``--config FILE`` (the systemd unit passes one on every start):

- no saved configuration yet: FILE seeds it (version 1, "first start from FILE");
- FILE is byte for byte the file that last seeded the box: the saved configuration runs,
  with every change committed since (FILE is not read again over them);
- FILE changed since it last seeded the box (someone edited it on purpose): it replaces the
  running configuration as a new version ("replaced by FILE at start"); the one before
  stays in history for ``config rollback``.

Without ``--config`` the saved configuration runs, or on a first start the built-in one
(saved as version 1). Either way the log says which file runs and where it came from.

A commit made with ``--confirm`` that was neither confirmed nor rolled back when the box
stopped (a crash, a power cut, ``minipbx restart``) keeps its deadline: if the deadline has
passed when the box starts again, the version before it runs (saved as a new version);
otherwise the confirm stays pending for the time that is left.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.config import Config, ConfigStore, default_config, load_config, to_toml
from firmware.core.files import write_atomic

log = logging.getLogger(__name__)

LIVE_FILE = "config.toml"
HISTORY_DIR = "config-history"
SEED_FILE = "config-seed.json"
CONFIRM_FILE = "config-confirm.json"
SEED_USER = "start"


@dataclass(frozen=True)
class PendingConfirm:
    """A commit that rolls back to ``previous`` at ``deadline`` (wall clock) unless
    confirmed."""

    version: int
    previous: int
    deadline: float


@dataclass(frozen=True)
class Startup:
    config: Config
    store: ConfigStore
    version: int
    origin: str  # for the log: where the running configuration came from
    confirm: PendingConfirm | None


def open_store(state_dir: Path, known_countries: Collection[str] | None) -> ConfigStore:
    return ConfigStore(state_dir / LIVE_FILE, state_dir / HISTORY_DIR,
                       known_countries=known_countries)


def start_config(state_dir: Path, config_path: Path | None,
                 known_countries: Collection[str] | None,
                 wall: Callable[[], float] = time.time) -> Startup:
    """The configuration to run, saved in the state dir; raises ConfigError (with file,
    line and key) for a FILE or a saved configuration that is not valid."""
    state_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(state_dir, known_countries)
    origin = _seed(store, state_dir, config_path, known_countries)
    confirm = read_confirm(state_dir)
    versions = store.versions()
    version = versions[-1].number if versions else 0
    if confirm is not None and confirm.version != version:
        confirm = None  # the commit it guarded never became live, or was rolled back
    if confirm is not None and confirm.deadline <= wall():
        text = store.read(confirm.previous)
        saved = store.save(text, user=SEED_USER,
                           message=f"v{confirm.version} was not confirmed in time: back to "
                                   f"v{confirm.previous}")
        log.warning("configuration v%d was not confirmed before the box stopped and its "
                    "time ran out: running v%d again (saved as v%d)", confirm.version,
                    confirm.previous, saved.number)
        origin = f"{store.path} (v{saved.number}: v{confirm.previous} again, v" \
                 f"{confirm.version} was not confirmed in time)"
        version, confirm = saved.number, None
    if confirm is None:
        clear_confirm(state_dir)
    config = store.load()
    return Startup(config, store, version, origin, confirm)


def _seed(store: ConfigStore, state_dir: Path, config_path: Path | None,
          known_countries: Collection[str] | None) -> str:
    live = store.path
    if config_path is None:
        if store.current() is None:
            store.save(to_toml(default_config()), user=SEED_USER,
                       message="the built-in configuration")
            return f"{live} (the built-in configuration, first start)"
        return f"{live} (saved)"
    try:
        data = config_path.read_bytes()
    except OSError:  # load_config says it with the file named and what to do
        load_config(config_path, known_countries=known_countries)
        raise
    digest = hashlib.sha256(data).hexdigest()
    seed = _read_json(state_dir / SEED_FILE)
    saved = store.current() is not None
    if saved and seed.get("sha256") == digest:
        return (f"{live} (saved; {config_path} is unchanged since it seeded the box, so the "
                "changes committed since stay)")
    # FILE is about to be saved: refuse a bad one with its own name and line (the store's
    # check would name the live file).
    load_config(config_path, known_countries=known_countries)
    text = data.decode("utf-8").removeprefix("\ufeff")
    if not saved:
        version = store.save(text, user=SEED_USER, message=f"first start from {config_path}")
        _write_seed(state_dir, config_path, digest)
        return f"{live} (v{version.number}, seeded from {config_path})"
    before = store.versions()
    version = store.save(text, user=SEED_USER,
                         message=f"replaced by {config_path} at start (the file changed)")
    _write_seed(state_dir, config_path, digest)
    if before and version.number == before[-1].number:
        return f"{live} (v{version.number}, the same as {config_path})"
    log.warning("%s changed since it last seeded the box: it replaces the saved "
                "configuration (v%d; the one before is v%d: `minipbx config rollback %d` "
                "stages it again)", config_path, version.number,
                before[-1].number if before else 0, before[-1].number if before else 0)
    return f"{live} (v{version.number}, replaced by {config_path})"


def _write_seed(state_dir: Path, config_path: Path, digest: str) -> None:
    write_atomic(state_dir / SEED_FILE,
                 json.dumps({"path": str(config_path.resolve()), "sha256": digest}))


def read_confirm(state_dir: Path) -> PendingConfirm | None:
    data = _read_json(state_dir / CONFIRM_FILE)
    try:
        return PendingConfirm(int(data["version"]), int(data["previous"]),
                              float(data["deadline"]))
    except (KeyError, TypeError, ValueError):
        return None


def write_confirm(state_dir: Path, confirm: PendingConfirm) -> None:
    write_atomic(state_dir / CONFIRM_FILE, json.dumps(
        {"version": confirm.version, "previous": confirm.previous,
         "deadline": confirm.deadline}))


def clear_confirm(state_dir: Path) -> None:
    (state_dir / CONFIRM_FILE).unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
