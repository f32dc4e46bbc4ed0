"""The auto-informer's and the web call-back's commands (issue 9, sections 5 and 6).

- ``inform.start``, ``inform.status``, ``inform.stop``, ``inform.report``, ``inform.list``
  (admin: a campaign phones many people at the office's cost);
- ``callback.request`` (role user: the web server runs it for a visitor who has no
  account; the ``[callback] token`` is the request's authority), ``callback.info`` (whether
  requests are taken and the site origins for CORS, no secrets), ``callback.status``
  (admin: the latest requests and what became of them).

A refused call-back request raises :class:`CallbackRefusedError`, whose ``code`` and
``status`` (HTTP) the web server answers with; the message names the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError

START_ARGS: dict[str, type] = {
    "name": str, "numbers": str, "message": str, "confirm_digit": str, "attempts": int,
    "retry_after": str, "parallel": int, "window": str, "caller_id": str,
}


class CallbackRefusedError(CommandError):
    """A call-back request refused: ``code`` (bad_token, not_allowed, premium,
    rate_address, rate_number, bad_number, closed, disabled) and the HTTP ``status``."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def register(table: CommandTable) -> None:
    @table.command("inform.start",
                   "start a campaign: call NUMBERS (a list, one per line or comma separated) "
                   "and play MESSAGE (prompt references, comma separated)",
                   START_ARGS, ("name", "numbers", "message"), role="admin")
    async def inform_start(system: System, args: Mapping[str, Any]) -> Any:
        options = {k: v for k, v in args.items() if k not in ("name", "numbers")}
        return await system.informer().start(args["name"], args["numbers"], options)

    @table.command("inform.status", "a campaign's progress", {"name": str}, ("name",),
                   role="admin")
    async def inform_status(system: System, args: Mapping[str, Any]) -> Any:
        return system.informer().status(args["name"])

    @table.command("inform.stop", "stop a campaign (calls in progress are hung up)",
                   {"name": str}, ("name",), role="admin")
    async def inform_stop(system: System, args: Mapping[str, Any]) -> Any:
        return system.informer().stop(args["name"])

    @table.command("inform.report", "every number of a campaign: result, attempts, "
                   "answered, heard to the end, confirmed", {"name": str}, ("name",),
                   role="admin")
    async def inform_report(system: System, args: Mapping[str, Any]) -> Any:
        return system.informer().report(args["name"])

    @table.command("inform.list", "every campaign and its state", role="admin")
    async def inform_list(system: System, args: Mapping[str, Any]) -> Any:
        return system.informer().listing()

    @table.command("callback.request", "a web visitor asks to be called back (checked "
                   "against the [callback] token, allowed numbers and rate limits)",
                   {"token": str, "number": str, "address": str}, ("token", "number"),
                   role="user")
    async def callback_request(system: System, args: Mapping[str, Any]) -> Any:
        answer = system.callbacks().request(args["token"], args["number"],
                                            args.get("address") or "local")
        refused = answer.get("refused")
        if isinstance(refused, dict):
            raise CallbackRefusedError(str(refused["message"]), str(refused["code"]),
                                       int(refused["status"]))
        return answer

    @table.command("callback.info", "whether call-back requests are taken, and the web "
                   "origins that may send them", role="user")
    async def callback_info(system: System, args: Mapping[str, Any]) -> Any:
        return system.callbacks().info()

    @table.command("callback.status", "the latest call-back requests and their state",
                   role="admin")
    async def callback_status(system: System, args: Mapping[str, Any]) -> Any:
        return system.callbacks().listing()
