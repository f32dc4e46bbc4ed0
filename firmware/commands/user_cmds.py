"""Account commands: user.*, setup.code and auth.whoami.

Rules:
- Accounts are the admin's business, except that everyone may change their own password
  and make their own API token (a ``user`` runs scripts against their own extension).
- setup.code is for root on the box only (the control socket): the web page and the console
  get the code from the log or the console's own screen, never from a command a logged-in
  person could run.
- Password hashing is slow by design (scrypt): it runs in a thread, so the loop, and with
  it the calls in progress, never waits for it.
- Passwords never appear in a result or a log line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from firmware.commands.caller import current_caller
from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.core.errors import PermissionDeniedError


def register(table: CommandTable) -> None:
    @table.command("user.add", "add an account (role user, installer or admin)",
                   {"name": str, "role": str, "password": str, "extension": str},
                   ("name", "role", "password"), role="admin")
    async def user_add(system: System, args: Mapping[str, Any]) -> Any:
        account = await asyncio.to_thread(system.accounts().add, args["name"], args["role"],
                                          args["password"], args.get("extension"))
        return {"name": account.name, "role": account.role, "extension": account.extension}

    @table.command("user.passwd", "change an account's password (your own, or any as admin)",
                   {"name": str, "password": str}, ("name", "password"), role="user")
    async def user_passwd(system: System, args: Mapping[str, Any]) -> Any:
        _self_or_admin("user.passwd", args["name"])
        await asyncio.to_thread(system.accounts().passwd, args["name"], args["password"])
        return {"name": args["name"], "changed": True}

    @table.command("user.list", "the accounts with their roles and extensions", role="admin")
    async def user_list(system: System, args: Mapping[str, Any]) -> Any:
        return system.accounts().list()

    @table.command("user.delete", "delete an account and its API token", {"name": str},
                   ("name",), role="admin")
    async def user_delete(system: System, args: Mapping[str, Any]) -> Any:
        system.accounts().delete(args["name"])
        return {"name": args["name"], "deleted": True}

    @table.command("user.token", "a new API token for scripts (shown once; voids the old one)",
                   {"name": str}, ("name",), role="user")
    async def user_token(system: System, args: Mapping[str, Any]) -> Any:
        _self_or_admin("user.token", args["name"])
        return {"name": args["name"], "token": system.accounts().new_token(args["name"])}

    @table.command("setup.code", "the one-time code that creates the first admin (root only)",
                   role="admin")
    async def setup_code(system: System, args: Mapping[str, Any]) -> Any:
        caller = current_caller()
        if caller.via != "socket":
            raise PermissionDeniedError("setup.code: only root on the box (the control "
                                        "socket) may read the setup code")
        code = system.accounts().setup_code()
        return {"code": code, "has_admin": code is None}

    @table.command("auth.whoami", "who you are logged in as, your role and extension",
                   role="user")
    async def whoami(system: System, args: Mapping[str, Any]) -> Any:
        c = current_caller()
        return {"name": c.name, "role": c.role, "via": c.via, "extension": c.extension}


def _self_or_admin(command: str, name: str) -> None:
    caller = current_caller()
    if caller.role != "admin" and caller.name != name:
        raise PermissionDeniedError(f"{command}: {caller.name} may change only their own "
                                    "account; an admin may change any")
