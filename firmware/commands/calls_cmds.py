"""Call records and live load: calls, calls.get, calls.recording, calls.recording.delete
and load.

Who sees what (docs/records.md):
- ``admin`` and ``installer`` see every call record; a ``user`` sees only the calls their
  own extension made, was called in, or rang for in a hunt group, and none when their
  account has no extension.
- A recording plays for an ``admin``, and for a ``user`` whose call it was; an installer
  sets the box up and hears no one's calls.
- A record or recording that exists but is not the caller's is answered exactly like one
  that does not exist (NotFoundError, 404 on the web): ids tell nothing.
- Deleting a recording is for an ``admin`` only.
- ``load`` (the live load: counts only, no numbers; ``minipbx stats``) is for everyone
  who may see the dashboard. Its name is not ``stats``: the console reads ``stat`` as
  ``status``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from firmware.commands.caller import Caller, current_caller
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError, NotFoundError
from firmware.records.since import parse_since
from firmware.records.store import CallQuery, CallStore

OPUS_MIME = "audio/ogg; codecs=opus"
T = TypeVar("T")


class Recordings(Protocol):
    """REC's RecordingStore (firmware/media/recstore.py), as far as records use it."""

    def get(self, uid: str) -> Any: ...

    def file(self, uid: str) -> Path | None: ...

    def busy(self, uid: str) -> bool: ...

    def delete(self, uid: str) -> bool: ...


class Load(Protocol):
    def stats(self) -> dict[str, Any]: ...


class RecordsSystem(Protocol):
    def records(self) -> CallStore: ...

    def recordings(self) -> Recordings | None: ...

    def load(self) -> Load: ...


async def _reading(fn: Callable[..., T], *args: Any) -> T:
    """A query off the loop; a database the disk will not give up is a clear error."""
    try:
        return await asyncio.to_thread(fn, *args)
    except sqlite3.Error as exc:
        raise CommandError(f"cannot read the call records: {exc}; see `minipbx status` "
                           "for the state dir's disk") from exc


def _system(system: Any) -> RecordsSystem:
    if not hasattr(system, "records"):
        raise CommandError("this box keeps no call records (no state dir)")
    return system  # type: ignore[no-any-return]


def _mine(caller: Caller) -> str | None:
    """None: every record; else the extension whose calls this caller may see."""
    if caller.role in ("admin", "installer"):
        return None
    return caller.extension or "\x00"  # no extension: matches no record


def _hears_recordings(caller: Caller) -> bool:
    return caller.role == "admin" or caller.role == "user"


def recording_info(recordings: Recordings | None, uid: str | None) -> dict[str, Any] | None:
    """What the record's recording is now: None without one; state "deleted" once the
    storage guard or an admin removed it."""
    if not uid:
        return None
    info = recordings.get(uid) if recordings is not None else None
    if info is None:
        return {"state": "deleted" if recordings is not None else "unavailable"}
    return {"state": str(getattr(info, "state", "ready")),
            "seconds": float(getattr(info, "duration_s", 0.0) or 0.0),
            "bytes": int(getattr(info, "bytes", 0) or 0),
            "channels": str(getattr(info, "channels", "") or "")}


def _public(record: dict[str, Any], recordings: Recordings | None,
            caller: Caller) -> dict[str, Any]:
    out = dict(record)
    rec_uid = out.pop("recording", None)
    out["recording"] = (recording_info(recordings, rec_uid)
                        if _hears_recordings(caller) else None)
    return out


def query_of(args: Mapping[str, Any], caller: Caller, now: float) -> CallQuery:
    since = args.get("since")
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise CommandError(f"calls: order {order!r}: use asc or desc")
    q = CallQuery(since=parse_since(since, now) if since else None,
                  extension=args.get("extension") or None,
                  disposition=args.get("disposition") or None, mine=_mine(caller),
                  sort=args.get("sort", "start"), descending=order == "desc",
                  limit=args.get("limit", 50), offset=args.get("offset", 0))
    try:
        q.check()
    except ValueError as exc:
        raise CommandError(f"calls: {exc}") from exc
    return q


def _visible(system: RecordsSystem, uid: str, caller: Caller) -> dict[str, Any]:
    record = system.records().get(uid, mine=_mine(caller))
    if record is None:
        raise NotFoundError(f"no call record {uid!r}")
    return record


def register(table: CommandTable) -> None:
    @table.command("calls", "call records, newest first: since (30m, 1h, 7d or a date), "
                   "extension, disposition (answered, busy, no answer, abandoned, failed or "
                   "missed), sort, order (asc/desc), limit, offset; a user sees their own",
                   {"since": str, "extension": str, "disposition": str, "sort": str,
                    "order": str, "limit": int, "offset": int}, role="user")
    async def calls(system: Any, args: Mapping[str, Any]) -> Any:
        s = _system(system)
        caller = current_caller()
        q = query_of(args, caller, time.time())
        rows, total = await _reading(s.records().query, q)
        recordings = s.recordings()
        return {"calls": [_public(r, recordings, caller) for r in rows], "total": total,
                "limit": q.limit, "offset": q.offset}

    @table.command("calls.get", "one call record with its legs", {"uid": str}, ("uid",),
                   role="user")
    async def calls_get(system: Any, args: Mapping[str, Any]) -> Any:
        s = _system(system)
        caller = current_caller()
        record = await _reading(_visible, s, args["uid"], caller)
        return _public(record, s.recordings(), caller)

    @table.command("calls.recording", "the recording of a call record: its URL (GET, with "
                   "Range) and size (yours, or any as admin)", {"uid": str}, ("uid",),
                   role="user")
    async def calls_recording(system: Any, args: Mapping[str, Any]) -> Any:
        s = _system(system)
        caller = current_caller()
        missing = NotFoundError(f"no recording for call record {args['uid']!r}")
        if not _hears_recordings(caller):
            raise missing
        record = await _reading(_visible, s, args["uid"], caller)
        recordings = s.recordings()
        rec_uid = record.get("recording")
        path = recordings.file(rec_uid) if recordings is not None and rec_uid else None
        if path is None:
            raise missing
        found = {"uid": record["uid"], "url": f"/calls/{record['uid']}/recording",
                 "mime": OPUS_MIME, "bytes": path.stat().st_size,
                 "name": f"call-{record['uid']}.opus"}
        if caller.via != "api":  # the box's own paths are for its front ends, not scripts
            found["file"] = str(path)
        return found

    @table.command("calls.recording.delete", "delete the recording of a call record (the "
                   "record stays)", {"uid": str}, ("uid",), role="admin")
    async def calls_recording_delete(system: Any, args: Mapping[str, Any]) -> Any:
        s = _system(system)
        record = await _reading(_visible, s, args["uid"], current_caller())
        recordings = s.recordings()
        rec_uid = record.get("recording")
        if recordings is not None and rec_uid and recordings.busy(rec_uid):
            # Its writer would save the metadata again after the delete, and the recording
            # would come back; once ready (seconds after the call) nothing writes it.
            raise CommandError(f"the recording of call record {args['uid']!r} is still being "
                               "recorded or encoded; delete it once it is ready")
        if recordings is None or not rec_uid or not recordings.delete(rec_uid):
            raise NotFoundError(f"no recording for call record {args['uid']!r}")
        return {"uid": record["uid"], "deleted": True}

    @table.command("load", "live load (minipbx stats): calls in progress, busy channels "
                   "per trunk, line and group, calls per minute, answered and missed over 5 "
                   "and 60 minutes", role="user")
    async def stats(system: Any, args: Mapping[str, Any]) -> Any:
        return _system(system).load().stats()
