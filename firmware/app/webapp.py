"""Wires the web setup page into the daemon: one call after the control socket is up.

The page runs on the daemon's own asyncio loop (aiohttp), so every command it runs is on the
loop that owns the box, like the control socket's. It is imported only when ``[web]
enabled`` is true, so a box without it pays nothing. A port that cannot be bound is a
logged error, not a stop: the exchange matters more than its setup page (and the test suite
runs many daemons side by side).

``WebApp.apply`` takes a new ``[web]`` table at commit time: it moves the server when the
address, port or certificate changed, and stops or starts it with ``enabled``.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import sys
from typing import TYPE_CHECKING, Any

from firmware.commands.table import CommandTable
from firmware.config import Config
from firmware.config.schema import WebConfig

if TYPE_CHECKING:
    from firmware.web.logring import LogRing
    from firmware.web.server import WebServer

log = logging.getLogger(__name__)

MOVE_DELAY_S = 0.5
"""After a commit that moves the page, time for the commit's own answer to leave."""


class WebApp:
    def __init__(self, table: CommandTable, system: Any) -> None:
        self._table = table
        self._system = system
        self._server: WebServer | None = None
        self._ring: LogRing | None = None
        self._config: WebConfig | None = None
        self.url: str | None = None
        self._moving: asyncio.Task[None] | None = None

    async def start(self, config: WebConfig) -> str | None:
        """Serves the page per ``config``; the URL, or None when off or not bound."""
        self._config = config
        if not config.enabled:
            return None
        from firmware.web.logring import LogRing
        from firmware.web.server import WebServer, create_app
        from firmware.web.settings import WebSettings

        if self._ring is None:
            self._ring = LogRing()
            logging.getLogger().addHandler(self._ring)
        settings = WebSettings(config.bind, config.port, config.tls_cert, config.tls_key)
        app = create_app(self._table, self._system, self._system.accounts(), settings,
                         self._ring)
        server = WebServer(app, settings)
        try:
            self.url = await server.start()
        except (OSError, ValueError) as exc:
            await server.close()
            log.error("web page not started: cannot serve on %s port %s: %s (change [web] "
                      "bind or port, or stop what uses it)", config.bind, config.port, exc)
            return None
        self._server = server
        log.info("web page on %s", self.url)
        return self.url

    async def apply(self, config: WebConfig) -> None:
        """A committed ``[web]`` table: restart the server only if it has to move."""
        if config == self._config and (self._server is not None or not config.enabled):
            return
        await self.close()
        url = await self.start(config)
        if url:
            print(f"minipbx: the web page moved to {url}", file=sys.stderr, flush=True)

    def follow(self, old: Config, new: Config) -> None:
        """The manager's watcher. The move runs a moment later, as its own task: the commit
        may have come through this very server, whose stop waits for that request."""
        if old.web == new.web:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(MOVE_DELAY_S, self._move, new.web)

    def _move(self, config: WebConfig) -> None:
        self._moving = asyncio.create_task(self.apply(config), name="web-move")

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None


async def start_web(config: WebConfig, table: CommandTable, system: Any) -> WebApp:
    """Called by the daemon after the control socket starts; prints where the page is, and
    follows ``[web]`` at every commit."""
    _return_large_blocks()
    web = WebApp(table, system)
    url = await web.start(config)
    if url:
        print(f"  web page: {url}", file=sys.stderr, flush=True)
    system.config().watch(web.follow)
    return web


M_MMAP_THRESHOLD = -3  # mallopt(3)
LARGE_BLOCK = 1 << 20


def _return_large_blocks() -> None:
    """Each login hashes its password with scrypt, which takes 16 MB for a moment. glibc
    raises its mmap threshold after the first such block is freed, and from then on keeps
    the 16 MB on the heap for good; a fixed threshold hands every block over 1 MB back to
    the system when it is freed (the console's logins gain the same)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
    except (OSError, AttributeError):
        log.debug("mallopt not available; large freed blocks may stay resident")
