"""Apply, apply with confirm, confirm, discard, and the history with rollback.

The bar on every page posts here; each action is one command (config.commit, config.confirm,
config.discard, config.rollback) and comes back to the page it was sent from. A commit the
schema refuses leads to the page of the first setting at fault, which shows every problem
at its field.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from firmware.core.errors import PbxError
from firmware.web.auth import needs, safe_next
from firmware.web.context import command, ctx, known_caller
from firmware.web.fielderrors import error_fields
from firmware.web.forms import page_of_path
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, diff_html, flash, render

routes = web.RouteTableDef()

MESSAGE = "from the web page"

HISTORY_ROW = Tpl("""<tr><th scope="row">$version</th><td>$time</td><td>$user</td>
<td>$message</td><td>$action</td></tr>""")

ROLLBACK = Tpl("""<form method="post" action="/changes/rollback">$csrf
<input type="hidden" name="version" value="$version">
<button data-confirm="Stage version $version? Apply makes it run.">Roll back to $version</button>
</form>""")

PAGE = Tpl("""<section aria-labelledby="h-diff"><h2 id="h-diff">Pending changes</h2>$diff</section>
<section aria-labelledby="h-history"><h2 id="h-history">History</h2>
<p class="help">Rolling back stages that version as the candidate; Apply (or Apply with
confirm) makes it run.</p>
<div class="scroll"><table><thead><tr><th scope="col">Version</th><th scope="col">Time</th>
<th scope="col">Who</th><th scope="col">Why</th><th scope="col"></th></tr></thead>
<tbody>$rows</tbody></table></div></section>""")


def _back(form: Any) -> str:
    return safe_next(str(form.get("_back", "/")))


@routes.get("/changes")
@needs("installer")
async def changes(request: web.Request) -> web.Response:
    c = ctx(request)
    caller = known_caller(request)
    diff = await c.run(caller, "config.diff")
    history = await c.run(caller, "config.history")
    csrf = csrf_input(request)
    rows = []
    for h in reversed(history):
        action = (element("span", "running", class_="badge call") if h.get("running")
                  else ROLLBACK(csrf=csrf, version=h.get("version")))
        rows.append(HISTORY_ROW(version=h.get("version"), time=h.get("time", ""),
                                user=h.get("user", ""), message=h.get("message", ""),
                                action=action))
    body = PAGE(diff=diff_html(str(diff.get("diff", ""))) if diff.get("pending")
                else Html("<p>None: the candidate is the running configuration.</p>"),
                rows=join(rows) if rows else Html('<tr><td colspan="5">No saved versions.'
                                                  '</td></tr>'))
    return await render(request, "Changes", body)


@routes.post("/changes/apply")
@needs("installer")
async def apply(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    back = _back(form)
    args: dict[str, Any] = {"message": MESSAGE}
    confirm = str(form.get("confirm_s", "")).strip()
    if confirm:
        try:
            args["confirm_s"] = float(confirm)
        except ValueError:
            flash(request, "error", f"Confirm time must be a number of seconds, got "
                                    f"{confirm!r}.")
            raise web.HTTPSeeOther(back) from None
    try:
        result = await command(request, "config.commit", args)
    except PbxError as exc:
        fields = error_fields(exc)
        flash(request, "error", f"Not applied: {exc}")
        first = next((f["path"] for f in fields if f.get("path")), None)
        if first:
            raise web.HTTPSeeOther(f"/config/{page_of_path(first).slug}") from None
        raise web.HTTPSeeOther(back) from None
    flash(request, "ok", _applied_text(result))
    raise web.HTTPSeeOther(back)


def _applied_text(result: dict[str, Any]) -> str:
    text = f"Applied: version {result.get('version')} is running."
    if result.get("restart_needed"):
        text += (" A restart applies " + ", ".join(map(str, result["restart_needed"])) +
                 " (Maintenance → Restart).")
    if result.get("confirm_by"):
        text += " Confirm it in the bar, or the box goes back by itself."
    return text


async def _simple(request: web.Request, name: str, args: dict[str, Any],
                  done: str) -> web.StreamResponse:
    form = await request.post()
    try:
        await command(request, name, args)
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", done)
    raise web.HTTPSeeOther(_back(form))


@routes.post("/changes/confirm")
@needs("installer")
async def confirm(request: web.Request) -> web.StreamResponse:
    return await _simple(request, "config.confirm", {}, "Confirmed: the change stays.")


@routes.post("/changes/discard")
@needs("installer")
async def discard(request: web.Request) -> web.StreamResponse:
    return await _simple(request, "config.discard", {}, "Discarded the pending changes.")


@routes.post("/changes/rollback")
@needs("installer")
async def rollback(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        flash(request, "error", "Which version? The form sent no number.")
        raise web.HTTPSeeOther("/changes") from None
    return await _simple(request, "config.rollback", {"version": version},
                         f"Version {version} staged: Apply makes it run.")
