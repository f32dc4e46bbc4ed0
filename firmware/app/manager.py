"""The candidate configuration over the running one: staging, commit, confirm, history.

One :class:`ConfigManager` per box, shared by every front end through the command table
(``System.config()``). It keeps the running configuration (as saved in the state dir) and
one candidate; staging changes only the candidate.

Commit, in this order:

1. the candidate is checked (rules between values, then what only the running box can say:
   the country profile exists, a named ring pattern is in it, the plan builds); nothing is
   saved if any check fails;
2. it is saved through the ConfigStore (atomic, numbered history, with who and why);
3. it is applied to the running box (``Applier``): what can change live does, calls that
   the change does not touch keep going; what needs a restart is reported, not refused;
4. with a confirm time, the commit is noted in the state dir with its deadline; unless
   ``confirm`` comes first, the version before it is saved again and applied (and a box
   that stopped meanwhile does the same when it starts: ``firmware.app.startup``).

A new commit while a confirm is pending confirms the pending one (as Junos does). Commits
run one at a time. The loop never waits for a disk write: saving runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol

from firmware.app.startup import (
    PendingConfirm,
    Startup,
    clear_confirm,
    write_confirm,
)
from firmware.config import Config, ConfigStore, parse_config, to_toml
from firmware.config.candidate import (
    check,
    problems,
    stage_add,
    stage_delete,
    stage_set,
    stage_unset,
)
from firmware.config.candidate import document as doc_of
from firmware.config.describe import MASK, schema_fields
from firmware.config.paths import field_at
from firmware.config.store import diff_texts
from firmware.core.errors import CommandError

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.5
"""How often ``restart --when-idle`` looks for a moment with no call."""

RESTART_REPLY_S = 0.2
"""Time for the reply to a restart command to leave before the box goes down."""


@dataclass
class ApplyReport:
    """What a commit changed in the running box, and what waits for a restart."""

    applied: list[str] = field(default_factory=list)
    restart_needed: list[str] = field(default_factory=list)  # PATHs


class Applier(Protocol):
    """The running box's side of a commit (firmware/app/live.py)."""

    def preflight(self, new: Config) -> None:
        """Raise ConfigError (PathError where a PATH is to blame) if ``new`` cannot run."""
        ...

    async def apply(self, old: Config, new: Config) -> ApplyReport: ...

    def idle(self) -> bool:
        """No call is up (for ``restart --when-idle``)."""
        ...


Watcher = Callable[[Config, Config], Awaitable[None] | None]


def restart_paths(booted: Config, now: Config) -> list[str]:
    """The settings that differ from the ones the box started with and need a restart."""
    old, new = doc_of(booted), doc_of(now)
    out: list[str] = []
    for f in schema_fields():
        fixed = f.restart and "<" not in f.path  # entries (ports) are judged by the applier
        if fixed and old.get(f.table, {}).get(f.key) != new.get(f.table, {}).get(f.key):
            out.append(f.path)
    return out


class ConfigManager:
    def __init__(self, startup: Startup, state_dir: Path, applier: Applier, *,
                 board_override: str | None = None,
                 known_countries: Collection[str] | None = None,
                 request_restart: Callable[[], None] = lambda: None,
                 wall: Callable[[], float] = time.time) -> None:
        self.store: ConfigStore = startup.store
        self._state_dir = state_dir
        self._applier = applier
        self._board = board_override
        self._known = known_countries
        self._request_restart = request_restart
        self._wall = wall
        self._running = startup.config
        self._candidate = startup.config
        self._version = startup.version
        self._booted = self.effective(startup.config)
        self._unplaced: list[str] = []
        self._restart_for: Config | None = None
        self._restart_cache: list[str] = []
        self._staged_for: tuple[Config, Config] | None = None
        self._staged_cache: tuple[bool, list[dict[str, str]]] = (False, [])
        self._lock = asyncio.Lock()
        self._watchers: list[Watcher] = []
        # Checks that need a worker thread, run at commit before anything is saved (the
        # prompts: firmware/app/promptctl.py); each raises PathError to refuse the commit.
        self.prepare_hooks: list[Callable[[Config], Awaitable[None]]] = []
        self._confirm: PendingConfirm | None = None
        self._confirm_timer: asyncio.TimerHandle | None = None
        self._restart_task: asyncio.Task[None] | None = None
        if startup.confirm is not None:
            self._arm_confirm(startup.confirm)

    def close(self) -> None:
        """Stop the timers (the box is going down; a pending confirm stays in the state dir
        and the next start keeps its deadline)."""
        if self._confirm_timer is not None:
            self._confirm_timer.cancel()
        if self._restart_task is not None:
            self._restart_task.cancel()

    # --- what runs ---------------------------------------------------------------------
    @property
    def running(self) -> Config:
        return self._running

    @property
    def version(self) -> int:
        return self._version

    def effective(self, config: Config) -> Config:
        """``config`` as the box runs it: with ``run --board`` over the saved board."""
        if self._board is None:
            return config
        return replace(config, box=replace(config.box, board=self._board))

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(old, new)`` (effective configurations) after every applied change:
        how the web page and the console follow their own settings."""
        self._watchers.append(watcher)

    # --- staging -----------------------------------------------------------------------
    def show(self, candidate: bool) -> Config:
        return self._candidate if candidate else self._running

    def set(self, path: str, value: str) -> dict[str, Any]:
        if value == MASK and field_at(doc_of(self._candidate), path).secret:
            return self._staged(path)  # the form sent the mask back: the secret stays
        self._candidate = stage_set(self._candidate, path, value, self._known)
        return self._staged(path)

    def unset(self, path: str) -> dict[str, Any]:
        self._candidate = stage_unset(self._candidate, path, self._known)
        return self._staged(path)

    def add(self, table: str, values: Mapping[str, str]) -> dict[str, Any]:
        self._candidate, path = stage_add(self._candidate, table, values, self._known)
        return self._staged(path)

    def delete(self, path: str) -> dict[str, Any]:
        self._candidate = stage_delete(self._candidate, path, self._known)
        return self._staged(path)

    def load(self, text: str, source: str) -> dict[str, Any]:
        self._candidate = parse_config(text, source, known_countries=self._known)
        return self._staged("")

    def discard(self) -> dict[str, Any]:
        self._candidate = self._running
        return {"pending": False}

    def rollback(self, version: int) -> dict[str, Any]:
        text = self.store.read(version)
        self._candidate = parse_config(text, f"version {version}", known_countries=self._known)
        return {"staged": version, "diff": self.diff()}

    def diff(self) -> str:
        return diff_texts(to_toml(self._running), to_toml(self._candidate),
                          f"running (v{self._version})", "candidate")

    def pending(self) -> dict[str, Any]:
        changed, found = self._staged_state()
        confirm = self._confirm
        return {
            "pending": changed,
            "problems": list(found),
            "version": self._version,
            "confirm_by": confirm.deadline if confirm else None,
            "confirm_version": confirm.version if confirm else None,
            "restart_needed": self.restart_needed(),
            "restart": "when idle" if self._restart_task is not None else None,
        }

    def restart_needed(self) -> list[str]:
        # Asked by every status (the web dashboard polls it every 0.2 s per page): cached
        # per running configuration.
        if self._restart_for is not self._running:
            self._restart_cache = restart_paths(self._booted, self.effective(self._running))
            self._restart_for = self._running
        paths = self._restart_cache
        return paths + [p for p in self._unplaced if p not in paths]

    def _staged(self, path: str) -> dict[str, Any]:
        changed, found = self._staged_state()
        return {"path": path, "pending": changed, "problems": list(found)}

    def _staged_state(self) -> tuple[bool, list[dict[str, str]]]:
        """Whether the candidate differs from the running configuration, and what commit
        would refuse in it. Asked by every status (polled every 0.2 s per dashboard), so
        cached per (candidate, running) pair: both are frozen and replaced on change."""
        key = (self._candidate, self._running)
        held = self._staged_for
        if held is None or held[0] is not key[0] or held[1] is not key[1]:
            changed = key[0] != key[1]
            self._staged_cache = (changed, problems(key[0], self._known) if changed else [])
            self._staged_for = key
        return self._staged_cache

    # --- commit ------------------------------------------------------------------------
    async def commit(self, confirm_s: float | None, message: str,
                     user: str) -> dict[str, Any]:
        async with self._lock:
            candidate = self._candidate
            check(candidate, self._known)
            self._applier.preflight(self.effective(candidate))
            for prepare in self.prepare_hooks:
                await prepare(self.effective(candidate))
            if self._confirm is not None:
                self._settle_confirm(f"confirmed by a new commit of {user}")
            previous = self._version
            if candidate == self._running:
                return {"version": previous, "applied": [], "confirm_by": None,
                        "restart_needed": self.restart_needed(), "unchanged": True}
            saved = await asyncio.to_thread(self.store.save, to_toml(candidate), user=user,
                                            message=message)
            self._version = saved.number
            report = await self._apply(candidate)
            deadline = None
            if confirm_s:
                deadline = self._wall() + confirm_s
                confirm = PendingConfirm(saved.number, previous, deadline)
                await asyncio.to_thread(write_confirm, self._state_dir, confirm)
                self._arm_confirm(confirm)
            log.info("configuration v%d committed by %s%s: %s", saved.number, user,
                     f" ({message})" if message else "", ", ".join(report.applied) or
                     "nothing to change live")
            return {"version": saved.number, "applied": report.applied,
                    "restart_needed": self.restart_needed(), "confirm_by": deadline}

    def confirm(self, user: str) -> dict[str, Any]:
        confirm = self._confirm
        if confirm is None:
            raise CommandError("no commit is waiting for a confirm (config commit --confirm "
                               "DURATION makes one)")
        self._settle_confirm(f"confirmed by {user}")
        return {"confirmed": confirm.version}

    async def _apply(self, new: Config) -> ApplyReport:
        old_eff, new_eff = self.effective(self._running), self.effective(new)
        self._running = new
        try:
            report = await self._applier.apply(old_eff, new_eff)
        except Exception:  # saved, but the running box may lag: a restart catches it up
            log.exception("applying the configuration to the running box failed; "
                          "`minipbx restart` runs it whole")
            report = ApplyReport(restart_needed=["(applying failed: see the log)"])
        self._unplaced = list(report.restart_needed)
        for watcher in self._watchers:
            try:
                result = watcher(old_eff, new_eff)
                if result is not None:
                    await result
            except Exception:  # one front end's trouble must not undo a commit
                log.exception("applying the configuration to a front end failed")
        return report

    def _arm_confirm(self, confirm: PendingConfirm) -> None:
        self._confirm = confirm
        delay = max(0.0, confirm.deadline - self._wall())
        loop = asyncio.get_running_loop()
        self._confirm_timer = loop.call_later(delay, self._confirm_ran_out)
        log.warning("configuration v%d must be confirmed (minipbx config confirm) within "
                    "%.0f s, by %s, or the box rolls back to v%d", confirm.version, delay,
                    _clock(confirm.deadline), confirm.previous)

    def _settle_confirm(self, why: str) -> None:
        confirm = self._confirm
        if self._confirm_timer is not None:
            self._confirm_timer.cancel()
        self._confirm = None
        self._confirm_timer = None
        clear_confirm(self._state_dir)
        if confirm is not None:
            log.info("configuration v%d %s", confirm.version, why)

    def _confirm_ran_out(self) -> None:
        task = asyncio.get_running_loop().create_task(self._roll_back_unconfirmed())
        task.add_done_callback(_log_failure)

    async def _roll_back_unconfirmed(self) -> None:
        async with self._lock:
            confirm = self._confirm
            if confirm is None:
                return
            self._confirm = None
            self._confirm_timer = None
            text = self.store.read(confirm.previous)
            config = parse_config(text, f"version {confirm.previous}",
                                  known_countries=self._known)
            saved = await asyncio.to_thread(
                self.store.save, text, user="auto-rollback",
                message=f"v{confirm.version} was not confirmed in time")
            await asyncio.to_thread(clear_confirm, self._state_dir)
            staged = self._candidate != self._running
            self._version = saved.number
            self._candidate = config
            await self._apply(config)
            log.warning("configuration v%d was not confirmed in time: rolled back to v%d "
                        "(saved as v%d)%s", confirm.version, confirm.previous, saved.number,
                        "; the staged changes were dropped" if staged else "")

    # --- history -----------------------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for version in self.store.versions():
            about = self.store.about(version)
            out.append({"version": version.number,
                        "time": version.saved_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "user": about["user"], "message": about["message"],
                        "running": version.number == self._version})
        return out

    def export(self) -> str:
        return to_toml(self._running)

    # --- restart -----------------------------------------------------------------------
    async def restart(self, when_idle: bool, user: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if when_idle and not self._applier.idle():
            if self._restart_task is None:
                self._restart_task = loop.create_task(self._restart_when_idle(user))
                self._restart_task.add_done_callback(_log_failure)
            log.info("restart asked by %s: waiting until no call is up", user)
            return {"restart": "when idle"}
        log.warning("restart asked by %s", user)
        loop.call_later(RESTART_REPLY_S, self._request_restart)
        return {"restart": "now"}

    async def _restart_when_idle(self, user: str) -> None:
        while not self._applier.idle():
            await asyncio.sleep(IDLE_POLL_S)
        log.warning("no call is up: restarting as %s asked", user)
        self._request_restart()


def _clock(wall: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(wall))


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("configuration task failed", exc_info=task.exception())
