"""What the web server needs to know to start, and its fixed security limits.

The composition root builds :class:`WebSettings` from the ``[web]`` table; everything else
here is a constant a reviewer should be able to find in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

SESSION_IDLE_S = 30 * 60.0
"""A session not used for this long is gone (OWASP: 15-30 minutes for low-risk apps)."""
SESSION_ABSOLUTE_S = 12 * 3600.0
"""No session lives longer than a working day, used or not."""
MAX_SESSIONS = 256
"""Sessions kept in memory at most; the oldest goes first (a flood cannot eat the RAM)."""
MAX_BODY_BYTES = 256 * 1024
"""Largest request body: a configuration file to restore is a few KB."""
UPLOAD_BODY_BYTES = 16 * 1024 * 1024
UPLOAD_PATHS = ("/prompts/upload",)
"""The one form that carries a file (a prompt's WAV, firmware/web/pages/prompts.py) may send
up to this much; the prompt cache refuses files over 10 MiB with the size named."""
LOGIN_BASE_DELAY_S = 1.0
"""After the n-th failed login for an address or account, wait base * 2**(n-1)."""
LOGIN_MAX_DELAY_S = 300.0
SSE_POLL_S = 0.2
"""How often the dashboard feed looks at the box while someone watches: an event reaches the
browser within this plus the network, well inside a second; nobody watching costs nothing."""
SSE_KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class WebSettings:
    bind: str = "127.0.0.1"
    port: int = 8080
    tls_cert: str = ""
    tls_key: str = ""

    @property
    def https(self) -> bool:
        return bool(self.tls_cert)

    def url(self, port: int | None = None) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        return f"{'https' if self.https else 'http'}://{host}:{port or self.port}/"
