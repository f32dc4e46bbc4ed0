"""The daemon's local control socket: one JSON object per line each way.

Request ``{"id": 1, "cmd": "status", "args": {}}``; reply ``{"id": 1, "ok": true,
"result": ...}`` or ``{"id": 1, "ok": false, "error": "what went wrong"}``. A bad request
gets an error reply and the connection stays usable; nothing a client sends can stop the
daemon or a call in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from firmware.commands.table import CommandTable
from firmware.core.errors import PbxError

log = logging.getLogger(__name__)

# Audio travels through the socket as base64: two minutes of 8 kHz audio is ~2.6 MB.
MAX_REQUEST_BYTES = 8 * 1024 * 1024
SOCKET_NAME = "control.sock"


class ControlServer:
    def __init__(self, path: Path, table: CommandTable, system: Any) -> None:
        self.path = path
        self._table = table
        self._system = system
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(
            self._client, path=str(self.path), limit=MAX_REQUEST_BYTES)
        os.chmod(self.path, 0o660)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than the limit
                    await _send(writer, {"ok": False,
                                         "error": f"request larger than {MAX_REQUEST_BYTES} "
                                                  "bytes"})
                    break
                if not line:
                    break
                await _send(writer, await self._answer(line))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {"ok": False, "error": f"request is not JSON: {exc}"}
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return {"ok": False, "error": 'request must be an object with a string "cmd"'}
        rid = request.get("id")
        try:
            result = await self._table.call(self._system, request["cmd"],
                                            request.get("args") or {})
        except PbxError as exc:
            return {"id": rid, "ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("command %s failed", request["cmd"])
            return {"id": rid, "ok": False,
                    "error": f"{request['cmd']}: internal error: {type(exc).__name__}: {exc}"}
        return {"id": rid, "ok": True, "result": result}


async def _send(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
    writer.write(json.dumps(reply).encode() + b"\n")
    await writer.drain()
