"""``minipbx console``: the same command line over a second local socket,
``state_dir/console.sock`` (mode 0660, like the control socket, so only root and the
minipbx group reach it, and they need no password).

Wire format: the client sends one JSON line, ``{"cols": 80, "rows": 24}`` (rows 0: no
pager, for a script's pipe), then raw terminal bytes both ways, exactly as on a serial line.
The client half-closing its side means "no more input": what was typed still runs, then
the session ends and the server closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from firmware.console.session import Session

log = logging.getLogger(__name__)

SOCKET_NAME = "console.sock"
HELLO_LIMIT = 1024
HELLO_TIMEOUT_S = 10.0
MAX_PENDING = 256 * 1024
READ_BYTES = 4096

# (write, close, cols, rows) -> a Session that has not started yet
SessionFactory = Callable[[Callable[[bytes], None], Callable[[], None], int, int], Session]


class SocketConsole:
    def __init__(self, path: Path, make_session: SessionFactory) -> None:
        self.path = path
        self._make = make_session
        self._server: asyncio.AbstractServer | None = None
        self._sessions: set[Session] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._client, path=str(self.path),
                                                       limit=HELLO_LIMIT)
        os.chmod(self.path, 0o660)

    async def close(self) -> None:
        for session in list(self._sessions):
            session.hangup()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            cols, rows = await _hello(reader)
        except (ValueError, TimeoutError, ConnectionError) as exc:
            with contextlib.suppress(ConnectionError):
                writer.write(f"minipbx console: bad start ({exc})\r\n".encode())
            writer.close()
            return
        closed = asyncio.Event()

        def send(data: bytes) -> None:
            transport = writer.transport
            if transport.is_closing():
                return
            if transport.get_write_buffer_size() > MAX_PENDING:
                return  # a client that does not read loses output, not the daemon's memory
            writer.write(data)

        def close() -> None:
            closed.set()

        session = self._make(send, close, cols, rows)
        self._sessions.add(session)
        try:
            session.start()
            reading = asyncio.ensure_future(self._pump(reader, session))
            ended = asyncio.ensure_future(closed.wait())
            await asyncio.wait({reading, ended}, return_when=asyncio.FIRST_COMPLETED)
            if not ended.done():
                # Input ended: what was typed runs, then the session closes by itself.
                await ended
            reading.cancel()
        except asyncio.CancelledError:
            session.hangup()
            raise
        finally:
            self._sessions.discard(session)
            if session.state != "closed":
                session.hangup()
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, session: Session) -> None:
        try:
            while data := await reader.read(READ_BYTES):
                session.feed(data)
        except ConnectionError:
            session.hangup()
            return
        session.end_of_input()


async def _hello(reader: asyncio.StreamReader) -> tuple[int, int]:
    try:
        line = await asyncio.wait_for(reader.readline(), HELLO_TIMEOUT_S)
    except asyncio.LimitOverrunError as exc:
        raise ValueError("the first line is too long") from exc
    hello = json.loads(line or b"{}")
    if not isinstance(hello, dict):
        raise ValueError("the first line must be a JSON object")
    cols = int(hello.get("cols") or 80)
    rows = hello.get("rows")
    rows = 24 if rows is None else int(rows)
    return max(20, min(cols, 500)), max(0, min(rows, 500))
