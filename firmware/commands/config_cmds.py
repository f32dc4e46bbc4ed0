"""Configuration commands: config.* (the candidate, commit, history) and box.restart.

Rules:
- Every front end edits the same candidate over the running configuration
  (``System.config()``); nothing here keeps state.
- Values arrive as text and are parsed by the schema (``firmware.config.paths``); a refused
  value raises ``PathError`` (a ConfigError) whose lines start with the PATH and whose
  ``fields`` list ``{"path", "message"}`` for a form.
- Passwords leave only through config.export (a backup that can be loaded again, admin
  only); config.show and config.diff hide them.
- A secret set to ``********`` (what show and the web form display) keeps its value, so a
  form sent back unchanged does not overwrite a password with the mask.
- Who committed is the caller's name (``current_caller()``); why is the message given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from firmware.commands.caller import current_caller
from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.config.candidate import document
from firmware.config.describe import schema_fields, tables
from firmware.config.paths import concrete_paths, get_path
from firmware.config.render import masked, to_toml
from firmware.core.errors import CommandError

MAX_CONFIRM_S = 24 * 3600.0
"""The longest a commit may wait for its confirm (a day); longer is surely a typo."""


def register(table: CommandTable) -> None:
    @table.command("config.show", "the running (or candidate) configuration; passwords hidden",
                   {"candidate": bool, "json": bool}, role="installer")
    async def config_show(system: System, args: Mapping[str, Any]) -> Any:
        config = masked(system.config().show(bool(args.get("candidate"))))
        if args.get("json"):
            return {"config": document(config)}
        return {"toml": to_toml(config)}

    @table.command("config.get", "one setting of the candidate (or running) configuration",
                   {"path": str, "running": bool}, ("path",), role="installer")
    async def config_get(system: System, args: Mapping[str, Any]) -> Any:
        config = masked(system.config().show(not args.get("running")))
        return {"path": args["path"], "value": get_path(document(config), args["path"])}

    @table.command("config.set", "stage one setting: PATH VALUE (parsed by the schema)",
                   {"path": str, "value": str}, ("path", "value"), role="installer")
    async def config_set(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().set(args["path"], args["value"])

    @table.command("config.unset", "stage a setting back to its default", {"path": str},
                   ("path",), role="installer")
    async def config_unset(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().unset(args["path"])

    @table.command("config.add", "stage a new entry: TABLE KEY=VALUE... "
                   "(over the API, values is a JSON object)",
                   {"table": str, "values": str}, ("table", "values"), role="installer")
    async def config_add(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().add(args["table"], _values(args["values"]))

    @table.command("config.delete", "stage removing an entry (fxs.3, trunk.NAME, outbound.2)",
                   {"path": str}, ("path",), role="installer")
    async def config_delete(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().delete(args["path"])

    @table.command("config.load", "stage a whole configuration file (TOML text)",
                   {"text": str, "source": str}, ("text",), role="installer")
    async def config_load(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().load(args["text"], args.get("source") or "<loaded>")

    @table.command("config.diff", "the candidate against the running configuration",
                   role="installer")
    async def config_diff(system: System, args: Mapping[str, Any]) -> Any:
        control = system.config()
        return {"diff": control.diff(), "pending": control.pending()["pending"]}

    @table.command("config.commit", "validate, save and apply the candidate; confirm_s > 0 "
                   "rolls back by itself unless `config confirm` comes in time",
                   {"confirm_s": float, "message": str}, role="installer")
    async def config_commit(system: System, args: Mapping[str, Any]) -> Any:
        confirm_s = args.get("confirm_s") or None
        if confirm_s is not None and not 0 < confirm_s <= MAX_CONFIRM_S:
            raise CommandError(f"config.commit: confirm_s must be more than 0 and at most "
                               f"{MAX_CONFIRM_S:g} s, got {confirm_s:g}")
        return await system.config().commit(confirm_s, args.get("message", ""),
                                            current_caller().name)

    @table.command("config.confirm", "keep the last commit made with a confirm time",
                   role="installer")
    async def config_confirm(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().confirm(current_caller().name)

    @table.command("config.discard", "drop every staged change", role="installer")
    async def config_discard(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().discard()

    @table.command("config.history", "saved versions: number, time, who and why",
                   role="installer")
    async def config_history(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().history()

    @table.command("config.rollback", "stage saved version N (commit applies it)",
                   {"version": int}, ("version",), role="installer")
    async def config_rollback(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().rollback(args["version"])

    @table.command("config.export", "the running configuration with its passwords (backup)",
                   role="admin")
    async def config_export(system: System, args: Mapping[str, Any]) -> Any:
        return {"toml": system.config().export()}

    @table.command("config.pending", "staged changes, a pending confirm, restart needed",
                   role="user")
    async def config_pending(system: System, args: Mapping[str, Any]) -> Any:
        return system.config().pending()

    @table.command("config.schema", "every table and setting: types, ranges, help",
                   role="user")
    async def config_schema(system: System, args: Mapping[str, Any]) -> Any:
        return {"tables": [t.as_dict() for t in tables()],
                "fields": [f.as_dict() for f in schema_fields()]}

    @table.command("config.paths", "every setting PATH of the candidate (for completion)",
                   role="installer")
    async def config_paths(system: System, args: Mapping[str, Any]) -> Any:
        return concrete_paths(document(system.config().show(True)))

    @table.command("box.restart", "restart the box to apply what a commit could not "
                   "(when_idle: once no call is up)", {"when_idle": bool}, role="installer")
    async def box_restart(system: System, args: Mapping[str, Any]) -> Any:
        return await system.config().restart(bool(args.get("when_idle")),
                                             current_caller().name)


def _values(text: str) -> dict[str, str]:
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"config.add: values must be a JSON object of key -> text: {exc}"
                           ) from exc
    if not isinstance(values, dict):
        raise CommandError("config.add: values must be a JSON object of key -> text")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
