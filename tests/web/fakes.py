"""A fake running system for the web page's unit tests: the real command table and account
store, a status that the test can change, and a candidate configuration staged with the
real firmware.config.candidate functions (the daemon's manager is tested with the daemon).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from firmware.accounts import AccountStore
from firmware.config import Config, default_config, to_toml
from firmware.config.candidate import (
    check,
    problems,
    stage_add,
    stage_delete,
    stage_set,
    stage_unset,
)
from firmware.config.store import diff_texts
from firmware.core.errors import CommandError, NotFoundError

PASSWORD = "correct-horse-9"


class FakeConfig:
    def __init__(self, config: Config) -> None:
        self.running = config
        self.candidate = config
        self.versions: list[dict[str, Any]] = [
            {"version": 1, "time": "2026-01-01T00:00:00Z", "user": "seed", "message": "first",
             "config": config}]
        self.confirm_by: float | None = None
        self.commits: list[dict[str, Any]] = []

    def show(self, candidate: bool) -> Config:
        return self.candidate if candidate else self.running

    def _staged(self, path: str) -> dict[str, Any]:
        return {"path": path, "pending": self.candidate != self.running,
                "problems": problems(self.candidate)}

    def set(self, path: str, value: str) -> dict[str, Any]:
        self.candidate = stage_set(self.candidate, path, value)
        return self._staged(path)

    def unset(self, path: str) -> dict[str, Any]:
        self.candidate = stage_unset(self.candidate, path)
        return self._staged(path)

    def add(self, table: str, values: Any) -> dict[str, Any]:
        self.candidate, path = stage_add(self.candidate, table, values)
        return self._staged(path)

    def delete(self, path: str) -> dict[str, Any]:
        self.candidate = stage_delete(self.candidate, path)
        return self._staged(path)

    def load(self, text: str, source: str) -> dict[str, Any]:
        from firmware.config import parse_config

        self.candidate = parse_config(text, source)
        return self._staged("")

    def diff(self) -> str:
        return diff_texts(to_toml(self.running), to_toml(self.candidate), "running",
                          "candidate")

    def pending(self) -> dict[str, Any]:
        return {"pending": self.candidate != self.running,
                "problems": problems(self.candidate), "confirm_by": self.confirm_by,
                "confirm_version": None, "restart_needed": [],
                "version": self.versions[-1]["version"]}

    async def commit(self, confirm_s: float | None, message: str, user: str) -> dict[str, Any]:
        check(self.candidate)
        self.running = self.candidate
        version = self.versions[-1]["version"] + 1
        self.versions.append({"version": version, "time": "2026-01-02T00:00:00Z",
                              "user": user, "message": message, "config": self.running})
        self.confirm_by = time.time() + confirm_s if confirm_s else None
        self.commits.append({"user": user, "message": message, "confirm_s": confirm_s})
        return {"version": version, "applied": ["everything"], "restart_needed": [],
                "confirm_by": self.confirm_by}

    def confirm(self, user: str) -> dict[str, Any]:
        if self.confirm_by is None:
            raise CommandError("nothing waits for a confirm")
        self.confirm_by = None
        return {"confirmed": self.versions[-1]["version"]}

    def discard(self) -> dict[str, Any]:
        self.candidate = self.running
        return {"pending": False}

    def history(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in h.items() if k != "config"} |
                {"running": h is self.versions[-1]} for h in self.versions]

    def rollback(self, version: int) -> dict[str, Any]:
        self.candidate = next(h["config"] for h in self.versions if h["version"] == version)
        return {"staged": version, "diff": self.diff()}

    def export(self) -> str:
        return to_toml(self.running)

    async def restart(self, when_idle: bool, user: str) -> dict[str, Any]:
        return {"restart": "when idle" if when_idle else "now"}


class FakeHw:
    def __init__(self) -> None:
        self.rung: list[tuple[int, float]] = []

    def ports(self) -> list[dict[str, Any]]:
        return [{"leg": "fxs1", "kind": "fxs", "index": 1, "extension": "101",
                 "board": "sim", "line_state": "idle"}]

    async def ring(self, port: int, seconds: float) -> dict[str, Any]:
        self.rung.append((port, seconds))
        return {"port": port, "rang_s": seconds, "ring_trip": False}

    async def tone(self, port: int, which: str, seconds: float) -> dict[str, Any]:
        return {"port": port, "tone": which, "seconds": seconds}

    async def loopback(self, port: int) -> dict[str, Any]:
        return {"port": port, "level_dbm0": -30.0}

    def hook_events(self, port: int | None, since: int) -> dict[str, Any]:
        return {"events": [{"seq": 1, "type": "HookEdge", "port": 1, "at": 1.0,
                            "hook": "off"}], "last": 1}


class FakeSystem:
    def __init__(self, state: Path, config: Config | None = None) -> None:
        self._accounts = AccountStore(state / "accounts.json")
        self._config = FakeConfig(config or default_config())
        self._hw = FakeHw()
        self.name = "minipbx"
        self.hook = {1: "on", 2: "on"}
        self.registered: list[str] = []
        self.registrar_answer = (200, "OK")

    def status(self) -> dict[str, Any]:
        ports = [{"leg": f"fxs{p.port}", "kind": "fxs", "index": p.port,
                  "hook": self.hook.get(p.port, "on"), "ringing": False,
                  "extension": p.extension, "line_state": "idle",
                  "exchange_state": "idle", "playing": None, "with": None}
                 for p in self._config.running.fxs]
        return {"ports": ports, "calls": [], "name": self.name, "board": "sim",
                "country": "us", "uptime_s": time.monotonic(),
                "sip": {"trunks": {}, "calls": {}, "listen": {}}}

    def hw(self) -> FakeHw:
        return self._hw

    def sim(self) -> Any:
        raise CommandError("not simulated")

    def accounts(self) -> AccountStore:
        return self._accounts

    def config(self) -> FakeConfig:
        return self._config

    async def register_trunk(self, name: str) -> dict[str, Any]:
        if name not in {t.name for t in self._config.running.trunk}:
            raise NotFoundError(f"no trunk {name!r}")
        self.registered.append(name)
        code, reason = self.registrar_answer
        return {"trunk": name, "answered": True,
                "registration": {"state": "registered" if code == 200 else "failed",
                                 "code": code, "reason": reason}}


def seed_accounts(store: AccountStore) -> None:
    """admin, installer and a user with extension 101, all with PASSWORD."""
    code = store.setup_code()
    assert code is not None
    store.complete_setup(code, "admin", PASSWORD)
    store.add("inst", "installer", PASSWORD)
    store.add("alice", "user", PASSWORD, extension="101")
