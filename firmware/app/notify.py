"""systemd readiness (sd_notify) without linking libsystemd: one datagram to
``$NOTIFY_SOCKET``. Outside systemd (no socket named) it does nothing."""

from __future__ import annotations

import os
import socket


def sd_notify(state: str) -> bool:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):  # abstract namespace
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(path)
            sock.sendall(state.encode())
        except OSError:
            return False
    return True
