"""Who may open what: the role a page needs, checked before its handler runs.

The command table checks the role of every command again; this check only keeps a person
from pages whose every action they would be refused, and sends a stranger to the login.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from firmware.commands.caller import Role
from firmware.web.context import caller_of
from firmware.web.security import json_error

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def needs(role: Role) -> Callable[[PageHandler], PageHandler]:
    def deco(fn: PageHandler) -> PageHandler:
        @functools.wraps(fn)
        async def checked(request: web.Request) -> web.StreamResponse:
            caller = caller_of(request)
            is_api = request.path.startswith("/api/")
            if caller is None:
                if is_api:
                    return json_error(401, "log in first: a session cookie with its CSRF "
                                           "token, or Authorization: Bearer <API token>")
                raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}")
            if not caller.may(role):
                if is_api:
                    return json_error(403, f"needs the {role} role; {caller.name} is "
                                           f"{caller.role}")
                from firmware.web.pages.errors import forbidden

                return await forbidden(request, role)
            return await fn(request)
        return checked
    return deco


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
