"""A person's own phone: me.phone and me.set, for the ``user`` role.

Rules:
- "Their own" is the FXS port whose extension is the caller's (``Caller.extension``); a
  caller with no extension, or whose extension rings no phone port, gets a clear refusal.
- Only the settings in MY_SETTINGS may be changed this way: the name shown as caller ID,
  the distinctive ring and the caller ID standard of that one port.
- A change runs at once (set, then commit with the caller's name), because a user has no
  bar to apply from. It never carries anyone else's work along: while the shared candidate
  holds staged changes (an installer at work), me.set refuses and touches nothing; a value
  the schema refuses is undone before the error is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.commands.caller import current_caller
from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.config import Config
from firmware.core.errors import CommandError, NotFoundError, PbxError

MY_SETTINGS = ("name", "ring_pattern", "caller_id_standard")


def register(table: CommandTable) -> None:
    @table.command("me.phone", "your own phone port and its settings", role="user")
    async def me_phone(system: System, args: Mapping[str, Any]) -> Any:
        running = system.config().show(False)
        port = _my_port(running)
        entry = next(p for p in running.fxs if p.port == port)
        return {"extension": entry.extension, "port": port, "path": f"fxs.{port}",
                "settings": {key: getattr(entry, key) for key in MY_SETTINGS}}

    @table.command("me.set", "change a setting of your own phone (name, ring_pattern, "
                   "caller_id_standard); it runs at once",
                   {"key": str, "value": str}, ("key", "value"), role="user")
    async def me_set(system: System, args: Mapping[str, Any]) -> Any:
        key = args["key"]
        if key not in MY_SETTINGS:
            raise CommandError(f"me.set: {key!r} is not yours to change; you may change "
                               f"{', '.join(MY_SETTINGS)}")
        control = system.config()
        port = _my_port(control.show(False))
        if control.pending().get("pending"):
            raise CommandError("me.set: an installer has changes staged on this box; try "
                               "again once they are applied or discarded")
        path = f"fxs.{port}.{key}"
        control.set(path, args["value"])
        try:
            result = await control.commit(None, f"own phone: {key}", current_caller().name)
        except PbxError:
            control.discard()
            raise
        return {"path": path, "version": result.get("version")}


def _my_port(config: Config) -> int:
    caller = current_caller()
    if not caller.extension:
        raise CommandError(f"{caller.name} has no extension: an admin can give the account "
                           "one (user add NAME --role user --extension N)")
    port = next((p.port for p in config.fxs if p.extension == caller.extension), None)
    if port is None:
        raise NotFoundError(f"no phone port rings extension {caller.extension}")
    return port
