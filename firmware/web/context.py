"""What every handler of the web page reaches: the command table and the system it runs on,
the accounts, the sessions, the throttle, the live feed and the log ring.

The web page never touches the box itself; :meth:`WebContext.run` is its only way in, and it
runs every command under the person's :class:`Caller`, so the table checks the role.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from firmware.accounts import AccountStore
from firmware.commands.caller import Caller
from firmware.commands.table import CommandTable
from firmware.web.logring import LogRing
from firmware.web.sessions import Session, SessionStore
from firmware.web.settings import WebSettings
from firmware.web.throttle import LoginThrottle

if TYPE_CHECKING:
    from firmware.web.feed import StatusFeed

T = TypeVar("T")


@dataclass
class WebContext:
    table: CommandTable
    system: Any
    accounts: AccountStore
    settings: WebSettings
    sessions: SessionStore
    throttle: LoginThrottle
    logs: LogRing | None
    feed: StatusFeed
    name_cache: tuple[float, str] | None = None
    # Password hashing (scrypt, 16 MB each) runs here, one at a time: a burst of logins
    # neither holds the loop nor leaves a 16 MB malloc arena behind in every worker thread.
    hasher: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="web-password"))

    async def hash_work(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` (a password check or setup) off the loop, on the hashing thread."""
        return await asyncio.get_running_loop().run_in_executor(self.hasher, fn, *args)

    async def run(self, caller: Caller, name: str, args: dict[str, Any] | None = None) -> Any:
        return await self.table.call(self.system, name, args or {}, caller)


CTX: web.AppKey[WebContext] = web.AppKey("minipbx", WebContext)
# Set by the guard (firmware.web.security) on every request before its handler runs.
SESSION: web.RequestKey[Session | None] = web.RequestKey("session", Session)
CALLER: web.RequestKey[Caller | None] = web.RequestKey("caller", Caller)
BEARER: web.RequestKey[bool] = web.RequestKey("bearer", bool)


def ctx(request: web.Request) -> WebContext:
    return request.app[CTX]


def session_of(request: web.Request) -> Session | None:
    return request.get(SESSION)


def caller_of(request: web.Request) -> Caller | None:
    return request.get(CALLER)


def known_caller(request: web.Request) -> Caller:
    """The caller of a handler behind ``needs()`` (which let only a known one in)."""
    caller: Caller | None = request.get(CALLER)
    if caller is None:
        raise web.HTTPSeeOther("/login")
    return caller


async def command(request: web.Request, name: str, args: dict[str, Any] | None = None) -> Any:
    """Runs command ``name`` as the person behind ``request`` (the table checks the role)."""
    return await ctx(request).run(known_caller(request), name, args)
