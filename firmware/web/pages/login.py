"""First-boot setup, login and logout.

- While the box has no admin, every page leads here to ``/setup``: the one-time setup code
  (printed in the log and on the serial console at start-up, and by ``minipbx setup-code``
  on the box) and a password for the first admin. Wrong codes are throttled like logins.
- Login verifies the password off the loop, on the one hashing thread (scrypt is slow and
  memory-hard by design), throttles per address
  and per account name (a browser that logged in as the account before: by its device
  token, so a guesser cannot lock the owner out), never checks a password while
  throttled, logs each failure, and always starts a new session (no fixation).
"""

from __future__ import annotations

import logging

from aiohttp import web

from firmware.accounts import Account
from firmware.core.errors import PbxError, PermissionDeniedError
from firmware.web.auth import safe_next
from firmware.web.context import ctx, session_of
from firmware.web.html import Html, Tpl
from firmware.web.layout import render
from firmware.web.security import PRE_COOKIE, clear_cookie, pre_session_token, set_cookie
from firmware.web.sessions import COOKIE
from firmware.web.throttle import keys_for

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
DEVICE_COOKIE = "minipbx_device"
DEVICE_COOKIE_AGE_S = 365 * 86400

LOGIN = Tpl("""<form method="post" action="/login" class="card narrow" novalidate>
<input type="hidden" name="_csrf" value="$csrf"><input type="hidden" name="next" value="$next">
$error
<div class="field"><label for="name">Account name</label>
<input id="name" name="name" autocomplete="username" autocapitalize="none" spellcheck="false"
 value="$name" required autofocus></div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
</div>
<button class="primary">Log in</button>
</form>""")

SETUP = Tpl("""<div class="card narrow">
<p>This box has no admin account yet. Type the <strong>setup code</strong> it printed when it
started (in its log and on the serial console; on the box, <code>minipbx setup-code</code>
shows it), then choose the admin's name and password.</p>
<form method="post" action="/setup" novalidate>
<input type="hidden" name="_csrf" value="$csrf">
$error
<div class="field"><label for="code">Setup code</label>
<input id="code" name="code" autocomplete="one-time-code" autocapitalize="characters"
 spellcheck="false" value="$code" required autofocus aria-describedby="code-help">
<small id="code-help">Like ABCD-EFGH-JKLM; case and dashes do not matter.</small>$code_error</div>
<div class="field"><label for="name">Admin account name</label>
<input id="name" name="name" autocomplete="username" autocapitalize="none" value="$name"
 required aria-describedby="name-help">
<small id="name-help">Lower-case letters, digits, dot, dash or underscore.</small>$name_error</div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required
 aria-describedby="pw-help"><small id="pw-help">At least 8 characters, not the name.</small>
$password_error</div>
<div class="field"><label for="password2">Password again</label>
<input id="password2" name="password2" type="password" autocomplete="new-password" required>
$password2_error</div>
<button class="primary">Create the admin account</button>
</form></div>""")


def _error(text: str, field: str = "") -> Html:
    if not text:
        return Html("")
    ident = f' id="err-{field}"' if field else ""
    return Tpl('<p class="field-error" role="alert"$ident>$text</p>')(ident=Html(ident),
                                                                       text=text)


async def _page(request: web.Request, title: str, body: Tpl, status: int,
                **values: object) -> web.Response:
    """A page with a form shown before login, and the cookie half of its CSRF token."""
    token = pre_session_token(request)
    response = await render(request, title, body(csrf=token, **values), status=status,
                            bar=False)
    set_cookie(request, response, PRE_COOKIE, token)
    return response


@routes.get("/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    if session_of(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return await _login_page(request, "", request.query.get("next", "/"), "", 200)


async def _login_page(request: web.Request, name: str, target: str, error: str,
                      status: int, headers: dict[str, str] | None = None) -> web.Response:
    response = await _page(request, "Log in", LOGIN, status, next=safe_next(target),
                           name=name, error=_error(error))
    if headers:
        response.headers.update(headers)
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    keys = c.throttle.keys(request.remote or "?", name, request.cookies.get(DEVICE_COOKIE))
    wait = c.throttle.wait_s(keys)
    if wait > 0:
        # No password check while throttled: a guesser cannot make the box hash for it.
        return await _login_page(
            request, name, target, f"Too many failed logins: wait {wait:.0f} s and try again.",
            429, {"Retry-After": str(max(1, round(wait)))})
    account = await c.hash_work(c.accounts.verify, name, password)
    if account is None:
        c.throttle.failed(keys)
        log.warning("web login failed for %r from %s", name[:64], request.remote)
        return await _login_page(request, name, target, "Wrong account name or password.", 401)
    c.throttle.succeeded(keys)
    response = _start_session(request, account, target)
    # This browser's later tries for the account are throttled apart from strangers'
    # (firmware/web/throttle.py): a guesser cannot lock its owner out.
    response.set_cookie(DEVICE_COOKIE, c.throttle.trust_device(account.name), path="/login",
                        max_age=DEVICE_COOKIE_AGE_S, httponly=True, samesite="Strict",
                        secure=c.settings.https)
    raise response


def _start_session(request: web.Request, account: Account, target: str) -> web.HTTPSeeOther:
    """The redirect (to raise) that carries a brand-new session's cookie."""
    c = ctx(request)
    session = c.sessions.new(account.name, account.role, account.extension)
    response = web.HTTPSeeOther(target)
    set_cookie(request, response, COOKIE, session.id)
    clear_cookie(request, response, PRE_COOKIE)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    if session is not None:
        ctx(request).sessions.drop(session.id)
    response = web.HTTPSeeOther("/login")
    clear_cookie(request, response, COOKIE)
    raise response


@routes.get("/setup")
async def setup_form(request: web.Request) -> web.StreamResponse:
    if ctx(request).accounts.has_admin():
        raise web.HTTPSeeOther("/login")
    return await _setup_page(request, {}, {}, 200)


async def _setup_page(request: web.Request, values: dict[str, str], errors: dict[str, str],
                      status: int) -> web.Response:
    return await _page(request, "Set up the box", SETUP, status,
                       code=values.get("code", ""), name=values.get("name", "admin"),
                       error=_error(errors.get("", "")),
                       **{f"{k}_error": _error(errors.get(k, ""), k)
                          for k in ("code", "name", "password", "password2")})


@routes.post("/setup")
async def setup(request: web.Request) -> web.StreamResponse:
    c = ctx(request)
    if c.accounts.has_admin():
        raise web.HTTPSeeOther("/login")
    form = await request.post()
    values = {k: str(form.get(k, "")) for k in ("code", "name", "password", "password2")}
    values["name"] = values["name"].strip()
    keys = keys_for(request.remote or "?", "setup")
    wait = c.throttle.wait_s(keys)
    if wait > 0:
        return await _setup_page(request, values, {
            "": f"Too many wrong setup codes: wait {wait:.0f} s and try again."}, 429)
    if values["password"] != values["password2"]:
        return await _setup_page(request, values, {"password2": "The two passwords differ."},
                                 400)
    try:
        account = await c.hash_work(c.accounts.complete_setup, values["code"],
                                    values["name"], values["password"])
    except PermissionDeniedError as exc:
        c.throttle.failed(keys)
        return await _setup_page(request, values, {"code": str(exc)}, 403)
    except PbxError as exc:
        text = str(exc)
        where = "password" if "password" in text.lower() else "name"
        return await _setup_page(request, values, {where: text}, 400)
    c.throttle.succeeded(keys)
    raise _start_session(request, account, "/")
