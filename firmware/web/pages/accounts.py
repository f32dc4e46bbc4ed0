"""Accounts (admin): list, add, delete, set a password, make an API token.

Each action is the user.* command of the same name; the table checks that the person is an
admin, and the account store checks names, roles and passwords with its own messages. A new
API token is shown once, on the page that made it, and never again.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from firmware.commands.caller import ROLES
from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command, ctx, session_of
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, flash, render

routes = web.RouteTableDef()

ROW = Tpl("""<tr><th scope="row">$name</th><td>$role</td><td>$extension</td><td>
<form method="post" action="/accounts/delete" class="inline">$csrf
<input type="hidden" name="name" value="$name">
<button class="danger" data-confirm="Delete the account $name?">Delete</button></form>
<form method="post" action="/accounts/token" class="inline">$csrf
<input type="hidden" name="name" value="$name">
<button data-confirm="Make a new API token for $name? The old one stops working.">New API token
</button></form></td></tr>""")

PAGE = Tpl("""$token
<section aria-labelledby="h-list"><h2 id="h-list">Accounts</h2>
<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Role</th>
<th scope="col">Extension</th><th scope="col">Actions</th></tr></thead><tbody>$rows</tbody>
</table></div>
<p class="help">admin: everything; installer: configuration and line diagnostics; user: the
dashboard and their own extension.</p></section>
<section aria-labelledby="h-add"><h2 id="h-add">Add an account</h2>
<form method="post" action="/accounts/add" class="card" novalidate>$csrf$add_error
<div class="field"><label for="a-name">Name</label>
<input id="a-name" name="name" autocapitalize="none" spellcheck="false" value="$name"></div>
<div class="field"><label for="a-role">Role</label><select id="a-role" name="role">$roles</select>
</div>
<div class="field"><label for="a-ext">Extension (for a user)</label>
<input id="a-ext" name="extension" inputmode="numeric" value="$extension"></div>
<div class="field"><label for="a-pw">Password</label>
<input id="a-pw" name="password" type="password" autocomplete="new-password"
 aria-describedby="a-pw-help"><small id="a-pw-help">At least 8 characters, not the name.</small>
</div>
<div class="actions"><button class="primary">Add</button></div></form></section>
<section aria-labelledby="h-pw"><h2 id="h-pw">Set a password</h2>
<form method="post" action="/accounts/passwd" class="card" novalidate>$csrf
<div class="field"><label for="p-name">Account</label><select id="p-name" name="name">$names
</select></div>
<div class="field"><label for="p-pw">New password</label>
<input id="p-pw" name="password" type="password" autocomplete="new-password"></div>
<div class="actions"><button>Set the password</button></div></form></section>""")

TOKEN = Tpl("""<section class="card token" aria-labelledby="h-token"><h2 id="h-token">API token
for $name</h2><p>Shown once: copy it now. Scripts send it as
<code>Authorization: Bearer …</code>.</p><p><code class="secret">$token</code></p></section>""")


async def _show(request: web.Request, *, token: Html | None = None,
                values: dict[str, str] | None = None, error: str = "",
                status: int = 200) -> web.Response:
    rows_data: list[dict[str, Any]] = await command(request, "user.list")
    csrf = csrf_input(request)
    values = values or {}
    rows = [ROW(csrf=csrf, name=r["name"], role=r["role"], extension=r.get("extension") or "—")
            for r in rows_data]
    roles = join(element("option", r, value=r, selected=r == values.get("role", "user"))
                 for r in ROLES)
    names = join(element("option", r["name"], value=r["name"]) for r in rows_data)
    body = PAGE(token=token or "", rows=join(rows), csrf=csrf, roles=roles, names=names,
                name=values.get("name", ""), extension=values.get("extension", ""),
                add_error=element("p", error, class_="field-error", role="alert")
                if error else "")
    return await render(request, "Accounts", body, status=status)


@routes.get("/accounts")
@needs("admin")
async def accounts(request: web.Request) -> web.Response:
    return await _show(request)


@routes.post("/accounts/add")
@needs("admin")
async def add(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in ("name", "role", "extension")}
    args = {"name": values["name"], "role": values["role"],
            "password": str(form.get("password", ""))}
    if values["extension"]:
        args["extension"] = values["extension"]
    try:
        await command(request, "user.add", args)
    except PbxError as exc:
        return await _show(request, values=values, error=str(exc), status=400)
    flash(request, "ok", f"Account {values['name']} added ({values['role']}).")
    raise web.HTTPSeeOther("/accounts")


async def _act(request: web.Request, name: str, args: dict[str, Any], done: str) -> bool:
    try:
        await command(request, name, args)
    except PbxError as exc:
        flash(request, "error", str(exc))
        return False
    flash(request, "ok", done)
    return True


@routes.post("/accounts/delete")
@needs("admin")
async def delete(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))
    if await _act(request, "user.delete", {"name": name}, f"Account {name} deleted."):
        ctx(request).sessions.drop_account(name)
    raise web.HTTPSeeOther("/accounts")


@routes.post("/accounts/passwd")
@needs("admin")
async def passwd(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))
    if await _act(request, "user.passwd",
                  {"name": name, "password": str(form.get("password", ""))},
                  f"Password of {name} changed; their sessions are logged out."):
        ctx(request).sessions.drop_account(name, keep=session_of(request))
    raise web.HTTPSeeOther("/accounts")


@routes.post("/accounts/token")
@needs("admin")
async def token(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))
    try:
        result = await command(request, "user.token", {"name": name})
    except PbxError as exc:
        flash(request, "error", str(exc))
        raise web.HTTPSeeOther("/accounts") from None
    value = result.get("token", result) if isinstance(result, dict) else result
    return await _show(request, token=TOKEN(name=name, token=value))
