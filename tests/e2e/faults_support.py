"""What the fault and soak tests share: a configuration with N handsets, the notify socket
systemd would own, and a check that every line of the box is at rest."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.harness import Daemon, free_even_port


def config_text(phones: int = 2, fxo: int = 1, extra: str = "", sip: str = "",
                dialplan: str = "") -> str:
    """Handsets 1..N with extensions 101.., FXO lines answered by 101, SIP on a free port."""
    text = (f'[box]\nboard = "sim"\ncountry = "us"\n'
            f'[sip]\nport = 0\nrtp_port = {free_even_port()}\n{sip}'
            f'[dialplan]\n{dialplan}'
            '[web]\nenabled = false\n')
    for i in range(1, phones + 1):
        text += f'[[fxs]]\nport = {i}\nextension = "{100 + i}"\n'
    for i in range(1, fxo + 1):
        text += f'[[fxo]]\nport = {i}\nextension = "101"\n'
    return text + extra


class NotifySocket:
    """The socket systemd listens on for a Type=notify service's messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def recv(self, timeout: float) -> list[str] | None:
        """The next message's lines, or None when none came in ``timeout`` seconds."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode().splitlines()
        except TimeoutError:
            return None

    def wait_for(self, line: str, timeout: float) -> None:
        while (got := self.recv(timeout)) is not None:
            if line in got:
                return
        raise AssertionError(f"no {line} from the daemon in {timeout} s")

    def close(self) -> None:
        self.sock.close()


def at_rest(status: dict[str, Any]) -> list[str]:
    """What is not at rest in the box: lines not idle, ringing, seized, playing or bridged,
    calls not ended, SIP calls left (empty when all is quiet)."""
    problems = []
    for p in status["ports"]:
        if p["line_state"] != "idle":
            problems.append(f"{p['leg']} line {p['line_state']}")
        if p.get("ringing") or p.get("seized"):
            problems.append(f"{p['leg']} ringing or seized")
        if p["playing"] or p["with"]:
            problems.append(f"{p['leg']} playing {p['playing']} with {p['with']}")
    problems += [f"call {c['id']} {c['state']}" for c in status["calls"]
                 if c["state"] != "ended"]
    problems += [f"bridged {pair}" for pair in status["bridged"]]
    problems += [f"SIP call {leg}" for leg in status["sip"]["calls"]]
    return problems


def records(box: Daemon) -> list[dict[str, Any]]:
    """Every call record the box wrote (cdr.sqlite, read-only), oldest first; a damaged
    database fails the test."""
    path = box.state / "cdr.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.OperationalError:  # a full disk: no room for the WAL's index file
        db = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    db.row_factory = sqlite3.Row
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [dict(r) for r in db.execute("SELECT * FROM calls ORDER BY id")]
    finally:
        db.close()
