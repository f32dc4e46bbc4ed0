"""Trunk commands: trunk.register, the installer's "test registration" (the web page's
Trunks page and the CLI word alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.commands.system import System
from firmware.commands.table import CommandTable


def register(table: CommandTable) -> None:
    @table.command("trunk.register", "send the trunk's REGISTER now and report the answer",
                   {"name": str}, ("name",), role="installer")
    async def trunk_register(system: System, args: Mapping[str, Any]) -> Any:
        return await system.register_trunk(args["name"])
