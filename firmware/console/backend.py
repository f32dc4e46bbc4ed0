"""What the console needs of the box: the command table, the system object it runs
commands on, the account store, and text formatters for some results. The composition root
(firmware/app/consoleapp.py) fills it in; tests give a table of their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firmware.accounts import AccountStore
from firmware.commands.caller import Caller
from firmware.commands.table import CommandTable
from firmware.console.render import Formatter


@dataclass
class Backend:
    table: CommandTable
    system: Any
    accounts: AccountStore
    formatters: Mapping[str, Formatter] = field(default_factory=dict)
    baud: int | None = None  # for the line-noise hint on a serial line

    async def call(self, name: str, args: Mapping[str, Any], caller: Caller) -> Any:
        return await self.table.call(self.system, name, args, caller)

    def describe(self, caller: Caller) -> list[dict[str, Any]]:
        return self.table.describe(caller)

    def may(self, caller: Caller, name: str) -> bool:
        command = self.table.get(name)
        return command is not None and caller.may(command.role)
