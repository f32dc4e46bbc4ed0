"""The web setup page: the aiohttp application and the server that runs it on the daemon's
own asyncio loop.

:func:`create_app` builds the application from the command table, the system it runs on
and the account store (the composition root hands these over; this package never reaches
the box any other way). :class:`WebServer` binds it to ``[web] bind``/``port``, with HTTPS
when the box has a certificate.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from firmware.accounts import AccountStore
from firmware.commands.table import CommandTable
from firmware.web import api, callback_web
from firmware.web.context import CTX, WebContext
from firmware.web.feed import StatusFeed
from firmware.web.logring import LogRing
from firmware.web.pages import (
    accounts,
    calls,
    changes,
    config_pages,
    dashboard,
    diagnostics,
    forwarding,
    inform,
    login,
    maintenance,
    me,
    prompts,
    voicemail,
)
from firmware.web.security import add_headers, guard
from firmware.web.sessions import SessionStore
from firmware.web.settings import (
    LOGIN_BASE_DELAY_S,
    LOGIN_MAX_DELAY_S,
    MAX_BODY_BYTES,
    MAX_SESSIONS,
    SESSION_ABSOLUTE_S,
    SESSION_IDLE_S,
    SSE_POLL_S,
    WebSettings,
)
from firmware.web.static_files import load_static, static_routes
from firmware.web.throttle import LoginThrottle

log = logging.getLogger(__name__)

# Open SSE streams end at shutdown (the feed tells them); nothing else should take long.
SHUTDOWN_TIMEOUT_S = 2.0


def create_app(table: CommandTable, system: Any, accounts_store: AccountStore,
               settings: WebSettings, logs: LogRing | None = None,
               clock: Callable[[], float] = time.monotonic) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[guard])
    context: WebContext

    async def fetch() -> dict[str, Any]:
        return await dashboard.fetch_status(context)

    context = WebContext(
        table=table, system=system, accounts=accounts_store, settings=settings,
        sessions=SessionStore(SESSION_IDLE_S, SESSION_ABSOLUTE_S, MAX_SESSIONS, clock),
        throttle=LoginThrottle(LOGIN_BASE_DELAY_S, LOGIN_MAX_DELAY_S, clock),
        logs=logs, feed=StatusFeed(fetch, dashboard.render_parts, SSE_POLL_S))
    app[CTX] = context
    app.on_response_prepare.append(add_headers)

    async def stop_feed(_: web.Application) -> None:
        await context.feed.close()

    async def stop_hasher(_: web.Application) -> None:
        context.hasher.shutdown(wait=False, cancel_futures=True)

    app.on_shutdown.append(stop_feed)
    app.on_cleanup.append(stop_hasher)
    for module in (login, dashboard, me, config_pages, changes, accounts, diagnostics,
                   maintenance, api, calls):
        app.add_routes(module.routes)
    app.add_routes(prompts.routes)
    app.add_routes(inform.routes)
    app.add_routes(callback_web.routes)
    app.add_routes(voicemail.routes)  # firmware/web/pages/voicemail.py
    app.add_routes(forwarding.routes)  # firmware/web/pages/forwarding.py
    app.add_routes(static_routes(load_static()))
    return app


class WebServer:
    def __init__(self, app: web.Application, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings
        self.port = settings.port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Binds and serves; returns the URL to open (with the port the OS gave)."""
        tls = None
        if self.settings.https:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.settings.tls_cert, self.settings.tls_key or None)
        self._runner = web.AppRunner(self.app, access_log=None,
                                     shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.bind, self.settings.port,
                           ssl_context=tls, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self.settings.url(self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
