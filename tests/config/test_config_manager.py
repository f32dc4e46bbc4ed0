"""The candidate over the running configuration (firmware/app/manager.py) and the choice of
the configuration a box starts with (firmware/app/startup.py), with a fake box."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from firmware.app.manager import ApplyReport, ConfigManager
from firmware.app.startup import (
    CONFIRM_FILE,
    PendingConfirm,
    read_confirm,
    start_config,
    write_confirm,
)
from firmware.config import Config, default_config, parse_config, to_toml
from firmware.config.paths import PathError
from firmware.core.errors import CommandError, ConfigError

T = TypeVar("T")

TRUNK = """
[[trunk]]
name = "provider"
host = "sip.example.net"
username = "5551000"
password = "old-secret"
"""


class FakeBox:
    """The Applier: records what it was asked to apply."""

    def __init__(self) -> None:
        self.applied: list[tuple[Config, Config]] = []
        self.calls_up = False

    def preflight(self, new: Config) -> None:
        if new.box.country == "zz":
            raise PathError([("box.country", "no profile zz")])

    async def apply(self, old: Config, new: Config) -> ApplyReport:
        self.applied.append((old, new))
        return ApplyReport(applied=["dial plan"])

    def idle(self) -> bool:
        return not self.calls_up


def run(make: Callable[[ConfigManager, FakeBox], Awaitable[T]], state: Path,
        config_text: str | None = None, **kw: Any) -> T:
    async def main() -> T:
        path = None
        if config_text is not None:
            path = state.parent / "seed.toml"
            path.write_text(config_text)
        startup = start_config(state, path, None)
        box = FakeBox()
        manager = ConfigManager(startup, state, box, **kw)
        try:
            return await make(manager, box)
        finally:
            manager.close()
    return asyncio.run(main())


async def until(what: str, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_commit_saves_applies_and_records_who_and_why(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        staged = m.set("fxs.1.name", "Desk")
        assert staged == {"path": "fxs.1.name", "pending": True, "problems": []}
        assert '+name = "Desk"' in m.diff()
        result = await m.commit(None, "rename the desk phone", "ann")
        assert result == {"version": 2, "applied": ["dial plan"], "restart_needed": [],
                          "confirm_by": None}
        assert m.running.fxs[0].name == "Desk" and not m.pending()["pending"]
        assert box.applied[-1][1].fxs[0].name == "Desk"
        history = m.history()
        assert [(h["version"], h["user"], h["message"], h["running"]) for h in history] == [
            (1, "start", "the built-in configuration", False),
            (2, "ann", "rename the desk phone", True)]
        assert m.store.load() == m.running
    run(go, tmp_path / "state")


def test_pending_problems_follow_each_change(tmp_path: Path) -> None:
    """status asks pending() on every poll, which keeps its answer per candidate: each
    staging step, the discard and the commit must still show in it."""
    async def go(m: ConfigManager, box: FakeBox) -> None:
        m.set("fxs.1.extension", "301")  # the FXO line still rings 101
        assert [p["path"] for p in m.pending()["problems"]] == ["fxo.1.extension"]
        assert m.pending()["pending"]
        m.set("fxo.1.extension", "301")
        assert m.pending()["problems"] == [] and m.pending()["pending"]
        m.discard()
        assert not m.pending()["pending"]
        m.set("fxs.1.name", "Desk")
        await m.commit(None, "", "ann")
        assert not m.pending()["pending"] and m.pending()["problems"] == []
    run(go, tmp_path / "state")


def test_commit_refuses_what_breaks_a_rule_and_saves_nothing(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        staged = m.set("fxs.1.extension", "301")  # the FXO line still rings 101
        assert staged["problems"] == [{"path": "fxo.1.extension", "message":
                                       "no extension '101'; known extensions: 301, 102"}]
        with pytest.raises(PathError) as info:
            await m.commit(None, "", "ann")
        assert str(info.value).startswith("fxo.1.extension: no extension '101'")
        m.set("box.country", "zz")
        m.set("fxo.1.extension", "301")
        with pytest.raises(PathError, match=r"box\.country: no profile zz"):
            await m.commit(None, "", "ann")
        assert len(m.store.versions()) == 1 and not box.applied
        assert m.discard() == {"pending": False} and m.show(True) == m.running
    run(go, tmp_path / "state", known_countries=("us", "zz"))


def test_secrets_stay_hidden_and_the_mask_sent_back_keeps_them(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        assert m.set("trunk.provider.password", "********")["pending"] is False
        m.set("trunk.provider.password", "new-secret")
        diff = m.diff()
        assert "secret" not in diff.replace("<secret", "")
        assert '-password = "<secret 1>"' in diff and '+password = "<secret 2>"' in diff
        await m.commit(None, "", "ann")
        assert m.export().count('password = "new-secret"') == 1
    run(go, tmp_path / "state", to_toml(default_config()) + TRUNK)


def test_an_unconfirmed_commit_rolls_back_by_itself(tmp_path: Path) -> None:
    state = tmp_path / "state"

    async def go(m: ConfigManager, box: FakeBox) -> None:
        m.set("box.name", "risky")
        result = await m.commit(0.2, "try it", "ann")
        assert result["confirm_by"] is not None
        assert m.pending()["confirm_version"] == 2
        assert read_confirm(state) == PendingConfirm(2, 1, result["confirm_by"])
        await until("the rollback", lambda: m.running.box.name == "minipbx")
        assert m.pending()["confirm_by"] is None and m.version == 3
        assert m.history()[-1]["user"] == "auto-rollback"
        assert box.applied[-1][1].box.name == "minipbx"
        assert not (state / CONFIRM_FILE).exists()
    run(go, state)


def test_a_confirmed_commit_stays(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        with pytest.raises(CommandError, match="no commit is waiting"):
            m.confirm("ann")
        m.set("box.name", "kept")
        await m.commit(0.3, "", "ann")
        assert m.confirm("bob") == {"confirmed": 2}
        await asyncio.sleep(0.5)
        assert m.running.box.name == "kept" and m.version == 2
    run(go, tmp_path / "state")


def test_rollback_stages_an_old_version(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        m.set("box.name", "second")
        await m.commit(None, "", "ann")
        result = m.rollback(1)
        assert result["staged"] == 1 and '+name = "minipbx"' in result["diff"]
        assert m.running.box.name == "second" and m.show(True).box.name == "minipbx"
        await m.commit(None, "back", "ann")
        assert m.version == 3 and m.running.box.name == "minipbx"
    run(go, tmp_path / "state")


def test_restart_needed_is_reported_and_restart_waits_for_idle(tmp_path: Path) -> None:
    restarts: list[float] = []

    async def go(m: ConfigManager, box: FakeBox) -> None:
        m.set("sip.port", "5070")
        m.set("box.board", "ag1171-gpio-2p")
        result = await m.commit(None, "", "ann")
        assert result["restart_needed"] == ["box.board", "sip.port"]
        assert m.pending()["restart_needed"] == ["box.board", "sip.port"]
        box.calls_up = True
        assert await m.restart(True, "ann") == {"restart": "when idle"}
        assert m.pending()["restart"] == "when idle"
        await asyncio.sleep(0.7)
        assert restarts == []
        box.calls_up = False
        await until("the restart", lambda: bool(restarts))
    run(go, tmp_path / "state", request_restart=lambda: restarts.append(time.time()))


def test_a_run_board_override_is_not_saved(tmp_path: Path) -> None:
    async def go(m: ConfigManager, box: FakeBox) -> None:
        m.set("box.name", "x")
        result = await m.commit(None, "", "ann")
        assert result["restart_needed"] == []
        assert box.applied[-1][1].box.board == "coproc-test"
        assert m.running.box.board == "sim" and m.store.load().box.board == "sim"
    run(go, tmp_path / "state", board_override="coproc-test")


# --- which configuration a box starts with ----------------------------------------------
def test_config_file_seeds_then_commits_survive_the_same_file(tmp_path: Path) -> None:
    state, seed = tmp_path / "state", tmp_path / "seed.toml"
    seed.write_text(to_toml(default_config()).replace('"minipbx"', '"office"'))
    first = start_config(state, seed, None)
    assert first.config.box.name == "office" and first.version == 1
    assert "seeded from" in first.origin
    # A commit (here: a save through the store) is what runs next time, same file or none.
    first.store.save(to_toml(first.config).replace('"office"', '"committed"'), user="ann")
    again = start_config(state, seed, None)
    assert again.config.box.name == "committed" and again.version == 2
    assert "unchanged since it seeded" in again.origin
    assert start_config(state, None, None).config.box.name == "committed"
    # An edited file replaces it, and the one before stays in history.
    seed.write_text(to_toml(default_config()).replace('"minipbx"', '"edited"'))
    edited = start_config(state, seed, None)
    assert edited.config.box.name == "edited" and edited.version == 3
    assert edited.store.about(3)["message"].startswith("replaced by")


def test_a_bad_file_or_a_damaged_saved_one_is_refused_with_its_line(tmp_path: Path) -> None:
    state, seed = tmp_path / "state", tmp_path / "seed.toml"
    seed.write_text("[box]\ncountry = 7\n")
    with pytest.raises(ConfigError, match=r"seed\.toml:2: box\.country: must be text"):
        start_config(state, seed, None)
    start_config(state, None, None)
    (state / "config.toml").write_text("[box\n")
    with pytest.raises(ConfigError, match=r"config\.toml:1: .*TOML syntax error"):
        start_config(state, None, None)


def test_a_confirm_pending_when_the_box_stopped_keeps_its_deadline(tmp_path: Path) -> None:
    state = tmp_path / "state"
    start = start_config(state, None, None)
    start.store.save(to_toml(parse_config('[box]\nname = "new"\n')), user="ann")
    write_confirm(state, PendingConfirm(2, 1, 1000.0))
    running = start_config(state, None, None, wall=lambda: 900.0)
    assert running.config.box.name == "new" and running.confirm == PendingConfirm(2, 1, 1000.0)
    ran_out = start_config(state, None, None, wall=lambda: 1001.0)
    assert ran_out.config.box.name == "minipbx" and ran_out.version == 3
    assert ran_out.confirm is None and read_confirm(state) is None
