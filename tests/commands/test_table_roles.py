"""The command table checks roles and tells handlers who called."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from firmware.commands.builtin import table as builtin
from firmware.commands.caller import ROOT, Caller, current_caller
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError, PermissionDeniedError

ALICE = Caller("alice", "user", "web", extension="101")
IVAN = Caller("ivan", "installer", "serial")


def _table() -> CommandTable:
    t = CommandTable()

    @t.command("whoami", "the caller", role="user")
    async def whoami(system: Any, args: Mapping[str, Any]) -> Any:
        c = current_caller()
        return [c.name, c.role, c.via]

    @t.command("wipe", "admin only")
    async def wipe(system: Any, args: Mapping[str, Any]) -> Any:
        return "wiped"

    return t


def test_handler_sees_its_caller_and_the_default_is_root() -> None:
    t = _table()
    assert asyncio.run(t.call(None, "whoami", {}, ALICE)) == ["alice", "user", "web"]
    assert asyncio.run(t.call(None, "whoami", {})) == ["root", "admin", "socket"]
    assert current_caller() is ROOT  # put back after the call


def test_a_role_below_the_command_is_refused_with_both_named() -> None:
    t = _table()
    with pytest.raises(PermissionDeniedError, match="wipe: needs the admin role; ivan is "
                                                    "installer") as info:
        asyncio.run(t.call(None, "wipe", {}, IVAN))
    assert isinstance(info.value, CommandError) and isinstance(info.value, PermissionError)


def test_names_and_describe_list_only_what_the_caller_may_run() -> None:
    t = _table()
    assert t.names(ALICE) == ["whoami"]
    assert t.names(ROOT) == ["whoami", "wipe"]
    assert [d["name"] for d in t.describe(ALICE)] == ["whoami"]


def test_builtin_roles_user_sees_status_installer_sees_diagnostics() -> None:
    assert "status" in builtin.names(ALICE) and "hw.ring" not in builtin.names(ALICE)
    assert {"hw.ring", "sim.phone.hook", "status"} <= set(builtin.names(IVAN))
