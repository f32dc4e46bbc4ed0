"""The guard in front of every request: who is asking, CSRF, body size, first-boot setup,
and the security headers on every answer.

Rules:
- A person is known by the session cookie (pages and the page's own /api/ calls) or, on
  /api/ only, by ``Authorization: Bearer <API token>`` (scripts). A bearer request carries no
  ambient authority a foreign page could borrow, so it needs no CSRF token.
- Every request that changes state (any method but GET/HEAD/OPTIONS) carries a CSRF token:
  the session's own, as the ``_csrf`` form field or the ``X-CSRF-Token`` header. The login
  and setup forms, sent before a session exists, use a double-submit token: a random
  SameSite=Strict cookie that the form repeats.
- A bad API token counts as a failed login for the address (the throttle applies).
- While the box has no admin, every page leads to the setup page.
- ``/callback`` (PUBLIC_PATHS) is for a web site's visitors: it skips the session, the
  CSRF token and the setup redirect, and runs one command under a caller of its own.
- Bodies larger than MAX_BODY_BYTES are refused before they are read (413).
- Headers: a CSP that allows only the box's own scripts, styles and images and no framing;
  nosniff; no Referer; no caching of pages (they carry tokens and live state); HSTS under
  HTTPS.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from firmware.commands.caller import Caller
from firmware.web.context import BEARER, CALLER, SESSION, ctx
from firmware.web.sessions import COOKIE, Session
from firmware.web.settings import UPLOAD_BODY_BYTES, UPLOAD_PATHS
from firmware.web.throttle import keys_for

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
PRE_COOKIE = "minipbx_pre"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSP = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'; object-src 'none'")
OPEN_PATHS = ("/setup", "/static/")
"""Reachable while the box has no admin."""
PUBLIC_PATHS = ("/callback",)
"""Pages for strangers with checks of their own (the web call-back's token, origins and
rate limits, firmware/web/callback_web.py): no session, no CSRF token, no setup first."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_public(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS)


def json_error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"ok": False, "error": message, **extra}, status=status)


def _plain_error(request: web.Request, status: int, message: str) -> web.Response:
    if request.path.startswith("/api/"):
        return json_error(status, message)
    return web.Response(status=status, text=message + "\n", content_type="text/plain")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    c = ctx(request)
    if request.path in UPLOAD_PATHS:  # a file upload: its own, larger limit
        request = request.clone(client_max_size=UPLOAD_BODY_BYTES)
    if (request.content_length or 0) > request.client_max_size:
        return _plain_error(request, 413,
                            f"request body larger than {request.client_max_size} bytes")
    is_api = request.path.startswith("/api/")
    token = bearer_token(request) if is_api else None
    request[SESSION] = None
    request[CALLER] = None
    request[BEARER] = False
    if token is not None:
        keys = keys_for(request.remote or "?", "")[:1]
        wait = c.throttle.wait_s(keys)
        if wait > 0:
            return web.json_response(
                {"ok": False, "error": f"too many failed logins; try again in {wait:.0f} s"},
                status=429, headers={"Retry-After": str(max(1, round(wait)))})
        account = c.accounts.verify_token(token)
        if account is None:
            c.throttle.failed(keys)
            return json_error(401, "API token not known: make a new one with "
                                   "`minipbx user token NAME`")
        request[CALLER] = Caller(account.name, account.role, "api", account.extension)
        request[BEARER] = True
    else:
        session = c.sessions.get(request.cookies.get(COOKIE))
        if session is not None and c.accounts.get(session.name) is None:
            c.sessions.drop(session.id)  # the account was deleted meanwhile
            session = None
        if session is not None:
            request[SESSION] = session
            request[CALLER] = session.caller("api" if is_api else "web")
    if is_public(request.path):
        return await handler(request)
    if not c.accounts.has_admin() and not request.path.startswith(OPEN_PATHS):
        if is_api:
            return json_error(503, "the box has no admin account yet: open the web page and "
                                   "finish the setup")
        raise web.HTTPSeeOther("/setup")
    if is_api and request[CALLER] is None:
        return json_error(401, "log in first: a session cookie with its CSRF token, or "
                               "Authorization: Bearer <API token>")
    if request.method not in SAFE_METHODS and not request[BEARER]:
        supplied = request.headers.get(CSRF_HEADER)
        if supplied is None and request.content_type in FORM_TYPES:
            form = await request.post()
            value = form.get(CSRF_FIELD)
            supplied = value if isinstance(value, str) else None
        session = request[SESSION]
        if not _csrf_ok(request, session, supplied):
            return _plain_error(request, 403, "the form's security token is missing or out of "
                                              "date: reload the page and try again")
    return await handler(request)


def _csrf_ok(request: web.Request, session: Session | None, supplied: str | None) -> bool:
    if session is not None:
        return session.csrf_ok(supplied)
    pre = request.cookies.get(PRE_COOKIE)
    return bool(pre) and bool(supplied) and secrets.compare_digest(
        (pre or "").encode(), (supplied or "").encode())


def pre_session_token(request: web.Request) -> str:
    """The double-submit token for a form shown before login; the page that shows the form
    sets it as the PRE_COOKIE cookie too."""
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def set_cookie(request: web.Request, response: web.StreamResponse, name: str,
               value: str) -> None:
    response.set_cookie(name, value, path="/", httponly=True, samesite="Strict",
                        secure=ctx(request).settings.https)


def clear_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/", httponly=True, samesite="Strict",
                        secure=ctx(request).settings.https)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, errors and static files included."""
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h.setdefault("Cache-Control", "no-store")
    if ctx(request).settings.https:
        h["Strict-Transport-Security"] = "max-age=31536000"
