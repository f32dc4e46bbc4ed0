"""My phone: what a ``user`` sees besides the dashboard: their own extension's port, its
settings, its forwarding and do-not-disturb, their password and API token.

The settings come from me.phone and change through me.set (firmware/commands/me_cmds.py):
the command decides which port is theirs and which settings they may change, and runs the
change at once; its refusals show at the field. Forwarding, do-not-disturb and call
waiting are the star codes' values (firmware/web/pages/forwarding.py, the forwarding.*
commands): the form posts to /me/forwarding and comes back here. An IP phone's owner
(``[[sip_user]]``) has no port settings here, only the forwarding form.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from firmware.config.describe import field_info
from firmware.core.errors import PbxError, PermissionDeniedError
from firmware.web.auth import needs
from firmware.web.context import command, ctx, known_caller, session_of
from firmware.web.fielderrors import by_path, error_fields
from firmware.web.forms import field_html
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, flash, render
from firmware.web.pages import forwarding
from firmware.web.pages.dashboard import port_view

routes = web.RouteTableDef()

PAGE = Tpl("""<section aria-labelledby="h-port"><h2 id="h-port">Extension $extension</h2>
$port</section>
$settings
$forwarding
<section aria-labelledby="h-pw"><h2 id="h-pw">Password</h2>
<form method="post" action="/me/passwd" class="card" novalidate>$csrf
<div class="field"><label for="m-pw">New password</label>
<input id="m-pw" name="password" type="password" autocomplete="new-password"
 aria-describedby="m-pw-help"><small id="m-pw-help">At least 8 characters, not your name.
</small></div>
<div class="field"><label for="m-pw2">New password again</label>
<input id="m-pw2" name="password2" type="password" autocomplete="new-password"></div>
<div class="actions"><button>Change my password</button></div></form></section>
<section aria-labelledby="h-token"><h2 id="h-token">API token</h2>$token
<form method="post" action="/me/token" class="card">$csrf
<p class="help">For your own scripts: <code>Authorization: Bearer …</code>. A new token
replaces the old one.</p><div class="actions"><button>Make a new API token</button></div>
</form></section>""")

FORWARDING = Tpl("""<section aria-labelledby="h-fwd"><h2 id="h-fwd">Forwarding and do not
disturb</h2>$form</section>""")

SETTINGS = Tpl("""<form method="post" action="/me/save" class="card" novalidate>$csrf$fields
<p class="help">A change runs at once.</p>
<div class="actions"><button class="primary">Save</button></div></form>""")


async def _my_port(request: web.Request, extension: str | None) -> dict[str, Any] | None:
    status = await command(request, "status")
    return next((p for p in status.get("ports", [])
                 if p.get("kind") == "fxs" and extension and p.get("extension") == extension),
                None)


async def _is_ip_phone(request: web.Request, extension: str | None) -> bool:
    """Whether ``extension`` is an IP phone's (``[[sip_user]]``): it has forwarding too."""
    if not extension:
        return False
    try:
        view = await command(request, "forwarding.show")
    except PbxError:
        return False
    return bool(view.get("phone"))


async def _show(request: web.Request, *, errors: dict[str, str] | None = None,
                submitted: dict[str, list[str]] | None = None, token: str = "",
                status: int = 200, fwd_errors: dict[str, str] | None = None,
                fwd_submitted: dict[str, list[str]] | None = None) -> web.Response:
    caller = known_caller(request)
    port = await _my_port(request, caller.extension)
    csrf = csrf_input(request)
    if port is None and await _is_ip_phone(request, caller.extension):
        port_html = element("p", "An IP phone (SIP) rings this extension.")
        settings = Html("")  # the settings of me.set are a phone port's
        fwd = FORWARDING(form=await forwarding.section(request, None, "/me/forwarding",
                                                       fwd_errors, fwd_submitted))
    elif port is None:
        port_html = element("p", "No phone port rings this extension." if caller.extension
                            else "Your account has no extension: an admin can give it one.")
        settings = Html("")
        fwd = Html("")
    else:
        css, state, hook, _ = port_view(port)
        port_html = element("p", join([f"Phone port {port.get('index')}: ",
                                       element("span", state, class_=f"badge {css}"),
                                       f", {hook}."]))
        # A port's own settings; an IP phone or no port has none, and no empty heading.
        settings = element("section", join([
            element("h2", "Settings", id="h-settings"),
            await _settings(request, csrf, errors or {}, submitted or {})]),
            aria_labelledby="h-settings")
        fwd = FORWARDING(form=await forwarding.section(request, None, "/me/forwarding",
                                                       fwd_errors, fwd_submitted))
    body = PAGE(extension=caller.extension or "—", port=port_html, settings=settings,
                forwarding=fwd, csrf=csrf,
                token=element("p", element("code", token, class_="secret")) if token else "")
    return await render(request, "My phone", body, status=status)


async def _settings(request: web.Request, csrf: Html, errors: dict[str, str],
                    submitted: dict[str, list[str]]) -> Html:
    try:
        mine = await command(request, "me.phone")
    except PbxError as exc:
        return element("p", str(exc), class_="help")
    fields = []
    for key, value in mine.get("settings", {}).items():
        info = field_info("fxs", key)
        if info is not None:
            path = f"{mine['path']}.{key}"
            fields.append(field_html(info, path, value, error=errors.get(path, ""),
                                     submitted=submitted.get(path)))
    return SETTINGS(csrf=csrf, fields=join(fields))


@routes.get("/me")
@needs("user")
async def me(request: web.Request) -> web.Response:
    return await _show(request)


@routes.post("/me/save")
@needs("user")
async def save(request: web.Request) -> web.StreamResponse:
    mine = await command(request, "me.phone")
    form = await request.post()
    errors: dict[str, str] = {}
    submitted: dict[str, list[str]] = {}
    changed = []
    for key, current in mine.get("settings", {}).items():
        path = f"{mine['path']}.{key}"
        if path not in form:
            continue
        submitted[path] = [str(v) for v in form.getall(path)]
        value = submitted[path][-1]
        if value == str(current):
            continue
        try:
            await command(request, "me.set", {"key": key, "value": value})
            changed.append(key)
        except PbxError as exc:
            errors.update(by_path(error_fields(exc)) or {path: str(exc)})
    if errors:
        return await _show(request, errors=errors, submitted=submitted, status=400)
    flash(request, "ok", f"Saved and running: {', '.join(changed)}." if changed
          else "Nothing changed.")
    raise web.HTTPSeeOther("/me")


@routes.post("/me/forwarding")
@needs("user")
async def save_forwarding(request: web.Request) -> web.StreamResponse:
    try:
        errors, submitted = await forwarding.submit(request, None)  # one's own extension
    except PermissionDeniedError as exc:  # an account without an extension
        return await forwarding.forbidden(request, exc)
    if errors:
        return await _show(request, fwd_errors=errors, fwd_submitted=submitted, status=400)
    raise web.HTTPSeeOther("/me#forwarding")


@routes.post("/me/passwd")
@needs("user")
async def passwd(request: web.Request) -> web.StreamResponse:
    caller = known_caller(request)
    form = await request.post()
    password = str(form.get("password", ""))
    if password != str(form.get("password2", "")):
        flash(request, "error", "The two passwords differ.")
        raise web.HTTPSeeOther("/me")
    try:
        await ctx(request).run(caller, "user.passwd", {"name": caller.name,
                                                       "password": password})
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", "Password changed; your other sessions are logged out.")
        ctx(request).sessions.drop_account(caller.name, keep=session_of(request))
    raise web.HTTPSeeOther("/me")


@routes.post("/me/token")
@needs("user")
async def token(request: web.Request) -> web.StreamResponse:
    caller = known_caller(request)
    try:
        result = await ctx(request).run(caller, "user.token", {"name": caller.name})
    except PbxError as exc:
        flash(request, "error", str(exc))
        raise web.HTTPSeeOther("/me") from None
    return await _show(request, token=str(result.get("token", "")))
