"""A stand-in SIP trunk on a UDP socket: records when each INVITE arrives (monotonic clock,
the same clock as every process on this machine) and refuses it with 486 Busy Here, so the
box's call ends at once and frees its pjsua2 call slot."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

LOCALHOST = "127.0.0.1"


class InviteSink:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCALHOST, 0))
        self.port: int = self.sock.getsockname()[1]
        self.invites: list[tuple[float, str]] = []  # (monotonic arrival, request URI)
        self._lock = threading.Lock()
        self._call_ids: set[str] = set()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="invite-sink", daemon=True)
        self._thread.start()

    def invites_since(self, t: float) -> list[tuple[float, str]]:
        with self._lock:
            return [item for item in self.invites if item[0] >= t]

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                return
            now = time.monotonic()
            text = data.decode("utf-8", "replace")
            first = text.split("\r\n", 1)[0]
            method = first.split(" ", 1)[0]
            if method == "INVITE":
                call_id = next(iter(_header(text, "call-id")), "")
                with self._lock:
                    if call_id not in self._call_ids:  # not a retransmission
                        self._call_ids.add(call_id)
                        self.invites.append((now, first.split(" ")[1]))
                self._reply(text, addr, 486, "Busy Here")
            elif method in ("BYE", "CANCEL", "OPTIONS"):
                self._reply(text, addr, 200, "OK")
            # ACK and responses need no answer.

    def _reply(self, request: str, addr: tuple[str, int], code: int, reason: str) -> None:
        lines = [f"SIP/2.0 {code} {reason}"]
        lines += [f"Via: {v}" for v in _header(request, "via")]
        for name in ("from", "call-id", "cseq"):
            lines += [f"{name.title()}: {v}" for v in _header(request, name)]
        to = _header(request, "to")
        if to:
            lines.append(f"To: {to[0]}" + ("" if ";tag=" in to[0] else ";tag=bench"))
        lines += ["Content-Length: 0", "", ""]
        with contextlib.suppress(OSError):
            self.sock.sendto("\r\n".join(lines).encode(), addr)


def _header(text: str, name: str) -> list[str]:
    head = text.split("\r\n\r\n", 1)[0]
    compact = {"v": "via", "f": "from", "t": "to", "i": "call-id"}
    found = []
    for line in head.split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and compact.get(key, key) == name:
            found.append(value.strip())
    return found
