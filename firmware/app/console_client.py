"""``minipbx console``: the installer's command line of the running daemon, here.

The terminal goes raw (every key, Ctrl-C included, goes to the daemon's console, which
edits the line and answers ``?`` and Tab itself) and comes back as it was on any exit. With
stdin not a terminal (a script), the lines are sent as typed, output never stops at
``--More--``, and the end of stdin ends the session once its commands ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import socket
import sys
import termios
import tty
from pathlib import Path

from firmware.app.client import ClientError
from firmware.console.socket_console import SOCKET_NAME


def run_console(state_dir: Path) -> int:
    path = state_dir / SOCKET_NAME
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError as exc:
        sock.close()
        raise ClientError(f"cannot reach the console at {path}: {exc.strerror or exc} (is "
                          "the daemon running with this --state-dir?)") from exc
    stdin = sys.stdin.fileno()
    interactive = os.isatty(stdin)
    size = shutil.get_terminal_size((80, 24))
    rows = size.lines if interactive and os.isatty(sys.stdout.fileno()) else 0
    sock.sendall(json.dumps({"cols": size.columns, "rows": rows}).encode() + b"\n")
    saved = termios.tcgetattr(stdin) if interactive else None
    try:
        if interactive:
            tty.setraw(stdin)
        _pump(sock, stdin)
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)
        sock.close()
    return 0


def _pump(sock: socket.socket, stdin: int) -> None:
    out = sys.stdout.buffer
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(stdin, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                data = sock.recv(65536)
                if not data:
                    return
                out.write(data)
                out.flush()
            else:
                data = os.read(stdin, 4096)
                if not data:
                    # No more input: the daemon runs what was typed, then closes.
                    sel.unregister(stdin)
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_WR)
                    continue
                sock.sendall(data)
