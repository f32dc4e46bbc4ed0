"""The client side of the control socket, for the ``minipbx`` subcommands."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from firmware.app.control import SOCKET_NAME
from firmware.core.errors import PbxError


class ClientError(PbxError, RuntimeError):
    """The daemon could not be reached, or it refused the command (its message)."""


def call(state_dir: Path, cmd: str, args: dict[str, Any] | None = None,
         timeout: float = 30.0) -> Any:
    path = state_dir / SOCKET_NAME
    if not path.exists():
        raise ClientError(
            f"no minipbx daemon is running with state dir {state_dir} (no {path}); "
            "start one with `minipbx run` or name its --state-dir")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise ClientError(f"cannot reach the daemon at {path}: {exc.strerror or exc} "
                              "(is it still running?)") from exc
        request = {"id": 1, "cmd": cmd, "args": args or {}}
        sock.sendall(json.dumps(request).encode() + b"\n")
        buf = bytearray()
        while not buf.endswith(b"\n"):
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise ClientError("the daemon closed the connection without answering")
            buf += chunk
    except TimeoutError as exc:
        raise ClientError(f"the daemon did not answer {cmd} within {timeout:g} s") from exc
    finally:
        sock.close()
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise ClientError(str(reply.get("error", "the daemon refused the command")))
    return reply.get("result")
