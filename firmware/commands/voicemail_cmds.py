"""Voicemail messages: voicemail.list, voicemail.message and voicemail.delete.

Who sees what (the recordings' rules, docs/records.md):
- an ``admin`` sees, plays and deletes every mailbox's messages;
- a ``user`` only those of the mailbox of their own extension (none without one);
- an ``installer`` sets the box up and hears no one's messages;
- a message that exists but is not the caller's is answered exactly like one that does
  not exist (NotFoundError, 404 on the web).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from firmware.commands.caller import Caller, current_caller
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError, NotFoundError

MIME = {".opus": "audio/ogg; codecs=opus", ".wav": "audio/wav"}


class Mailboxes(Protocol):
    """The app's VoicemailService (firmware/app/voicemail_app.py), as commands use it."""

    def listing(self, box: str | None) -> list[dict[str, Any]]: ...

    def file(self, box: str, uid: str) -> Any: ...

    def remove(self, box: str, uid: str) -> bool: ...


def _service(system: Any) -> Mailboxes:
    service = getattr(system, "voicemail", None)
    if service is None:
        raise CommandError("voicemail is not running on this box")
    return service  # type: ignore[no-any-return]


def _scope(caller: Caller, asked: str | None) -> str | None:
    """The mailbox the caller may look at (None: all), or NotFoundError."""
    if caller.role == "admin":
        return asked or None
    if caller.role == "user" and caller.extension:
        if asked and asked != caller.extension:
            raise NotFoundError(f"no mailbox {asked!r}")
        return caller.extension
    raise NotFoundError(f"no mailbox {asked!r}" if asked else "no mailbox of yours")


def register(table: CommandTable) -> None:
    @table.command("voicemail.list", "voicemail messages (yours, or any mailbox as admin): "
                   "time, caller, length, new or heard", {"extension": str}, role="user")
    async def voicemail_list(system: Any, args: Mapping[str, Any]) -> Any:
        box = _scope(current_caller(), args.get("extension"))
        return {"messages": _service(system).listing(box)}

    @table.command("voicemail.message", "one voicemail message: its URL (GET, with Range) "
                   "and size", {"extension": str, "uid": str}, ("extension", "uid"),
                   role="user")
    async def voicemail_message(system: Any, args: Mapping[str, Any]) -> Any:
        caller = current_caller()
        box, uid = args["extension"], args["uid"]
        missing = NotFoundError(f"no message {uid!r} in mailbox {box!r}")
        try:
            _scope(caller, box)
        except NotFoundError:
            raise missing from None
        path = _service(system).file(box, uid)
        if path is None:
            raise missing
        found = {"extension": box, "uid": uid, "url": f"/voicemail/{box}/{uid}",
                 "mime": MIME.get(path.suffix, "application/octet-stream"),
                 "bytes": path.stat().st_size, "name": f"voicemail-{box}-{uid}{path.suffix}"}
        if caller.via != "api":
            found["file"] = str(path)
        return found

    @table.command("voicemail.delete", "delete a voicemail message (yours, or any as admin)",
                   {"extension": str, "uid": str}, ("extension", "uid"), role="user")
    async def voicemail_delete(system: Any, args: Mapping[str, Any]) -> Any:
        box, uid = args["extension"], args["uid"]
        missing = NotFoundError(f"no message {uid!r} in mailbox {box!r}")
        try:
            _scope(current_caller(), box)
        except NotFoundError:
            raise missing from None
        if not _service(system).remove(box, uid):
            raise missing
        return {"extension": box, "uid": uid, "deleted": True}
