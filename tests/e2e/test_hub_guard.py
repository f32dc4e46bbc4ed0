"""The rendered hub's guards, spoken to in raw SIP over UDP on loopback: digest
authentication per site (right password: 200; wrong: challenged again; one site's
credentials for another site's name: 403), INVITEs need proxy authentication (407), and
pike bans an address that floods it (from 127.0.0.2: the hub exempts only its own)."""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time
from pathlib import Path

import pytest

from tests.e2e.hub_support import Hub

pytestmark = pytest.mark.slow


class Uac:
    """One UDP socket speaking just enough SIP to register and knock."""

    def __init__(self, hub_port: int, address: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.local = self.sock.getsockname()
        self.hub = ("127.0.0.1", hub_port)

    def close(self) -> None:
        self.sock.close()

    def request(self, method: str, user: str, extra: str = "", cseq: int = 1,
                call_id: str = "", wait: float = 2.0) -> str | None:
        host, port = self.local
        uri = (f"sip:{self.hub[0]}:{self.hub[1]}" if method == "REGISTER" or not user
               else f"sip:{user}@{self.hub[0]}:{self.hub[1]}")
        user = user or "ping"
        msg = (f"{method} {uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
               f"From: <sip:{user}@{self.hub[0]}>;tag={secrets.token_hex(4)}\r\n"
               f"To: <sip:{user}@{self.hub[0]}>\r\n"
               f"Call-ID: {call_id or secrets.token_hex(8)}\r\n"
               f"CSeq: {cseq} {method}\r\n"
               f"Contact: <sip:{user}@{host}:{port}>\r\nMax-Forwards: 70\r\n"
               f"{extra}Content-Length: 0\r\n\r\n")
        self.sock.sendto(msg.encode(), self.hub)
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                reply = self.sock.recv(65536).decode(errors="replace")
            except TimeoutError:
                return None
            if not reply.startswith("SIP/2.0 1"):
                return reply
        return None

    def register(self, aor: str, user: str, password: str) -> int:
        """REGISTER ``aor`` answering the challenge as ``user``: the final status code."""
        call_id = secrets.token_hex(8)
        first = self.request("REGISTER", aor, call_id=call_id)
        assert first is not None and first.startswith("SIP/2.0 401"), first
        realm = re.search(r'realm="([^"]+)"', first)
        nonce = re.search(r'nonce="([^"]+)"', first)
        assert realm and nonce
        uri = f"sip:{self.hub[0]}:{self.hub[1]}"
        ha1 = hashlib.md5(f"{user}:{realm[1]}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{nonce[1]}:{ha2}".encode()).hexdigest()
        auth = (f'Authorization: Digest username="{user}", realm="{realm[1]}", '
                f'nonce="{nonce[1]}", uri="{uri}", response="{response}", algorithm=MD5\r\n')
        final = self.request("REGISTER", aor, auth + "Expires: 60\r\n", cseq=2, call_id=call_id)
        assert final is not None
        return int(final.split()[1])


def test_digest_per_site_proxy_auth_and_flood_ban(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "hub", [{"name": "office1", "prefix": "1xx", "password": "pw-1"},
                                 {"name": "office2", "prefix": "2xx", "password": "pw-2"}],
              flood_requests=20)
    uac = Uac(hub.port)
    flooder = Uac(hub.port, "127.0.0.2")
    try:
        hub.start()
        assert uac.register("office1", "office1", "pw-1") == 200
        assert set(hub.registered()) == {"office1"}
        assert uac.register("office2", "office2", "wrong") == 401  # challenged again
        assert uac.register("office2", "office1", "pw-1") == 403  # not its own name
        assert "office2" not in hub.registered()
        invite = uac.request("INVITE", "201")
        assert invite is not None and invite.startswith("SIP/2.0 407"), invite
        # A flood from another address: pike bans it, and it gets no answer at all.
        answered = sum(flooder.request("OPTIONS", "", wait=0.2) is not None
                       for _ in range(60))
        assert answered < 60
        time.sleep(0.5)
        assert flooder.request("OPTIONS", "", wait=1.0) is None  # still banned
        ok = uac.request("OPTIONS", "", wait=2.0)  # the others are not
        assert ok is not None and ok.startswith("SIP/2.0 200"), ok
    except AssertionError:
        print("--- hub log\n" + hub.log())
        raise
    finally:
        uac.close()
        flooder.close()
        hub.close()
