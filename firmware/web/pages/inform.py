"""The auto-informer's page (admin): the campaigns, a start form with errors at their
fields, one campaign's report with a Stop button, and the web call-back's latest requests.

Each action is the command of the same name (inform.start, inform.stop, inform.report,
inform.list, callback.status); the CLI and the console run the same ones.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command
from firmware.web.html import Html, Tpl, attrs, element, esc, join
from firmware.web.layout import csrf_input, flash, render

routes = web.RouteTableDef()

FIELDS = ("name", "numbers", "message", "confirm_digit", "attempts", "retry_after",
          "parallel", "window", "caller_id")
DEFAULTS = {"attempts": "3", "retry_after": "2m", "parallel": "2"}
# An error message starts with the option it is about (firmware/pbx/informer.py and
# firmware/app/informer.py word them so): which form field shows it.
ERROR_FIELD = (("campaign", "name"), ("numbers", "numbers"), ("message", "message"),
               ("confirm-digit", "confirm_digit"), ("attempts", "attempts"),
               ("retry-after", "retry_after"), ("parallel", "parallel"),
               ("window", "window"), ("caller-id", "caller_id"))

PAGE = Tpl("""$report
<section aria-labelledby="h-list"><h2 id="h-list">Campaigns</h2>$list</section>
<section aria-labelledby="h-start"><h2 id="h-start">Start a campaign</h2>
<form method="post" action="/inform/start" class="card" novalidate>$csrf$form_error
$fields
<div class="actions"><button class="primary">Start</button></div></form></section>
<section aria-labelledby="h-cb"><h2 id="h-cb">Call-back requests</h2>$callbacks</section>""")

FIELD = Tpl("""<div class="field"><label for="f-$key">$label</label>$input$error
<small id="f-$key-help">$help</small></div>""")

LABELS = {
    "name": ("Name", "Letters, digits, - and _."),
    "numbers": ("Numbers", "One a line or comma separated: extensions, outside numbers as "
                           "dialled (with the route's prefix)."),
    "message": ("Message", "file:NAME.wav, builtin:NAME or say:LANG:TEXT; several: comma "
                           "separated."),
    "confirm_digit": ("Confirmation key", "Optional: the person presses it to confirm."),
    "attempts": ("Attempts", "Calls per number at most."),
    "retry_after": ("Retry after", "90s, 2m, 1h."),
    "parallel": ("Calls at once", "The box always leaves a channel free for people."),
    "window": ("Calling hours", "Optional, like 09:00-20:00 (the box's local time)."),
    "caller_id": ("Caller ID", "Optional: the number the people called see."),
}


def _input(key: str, value: str, error: bool) -> Html:
    attrs: dict[str, Any] = {"id": f"f-{key}", "name": key,
                             "aria_describedby": f"f-{key}-help" + (f" f-{key}-err" if error
                                                                   else ""),
                             "aria_invalid": "true" if error else None}
    if key == "numbers":
        return element("textarea", value, rows="6", **attrs)
    if key in ("attempts", "parallel"):
        attrs["inputmode"] = "numeric"
    return Html(f"<input{_attrs(attrs)} value=\"{esc(value)}\">")


def _attrs(values: dict[str, Any]) -> str:
    return attrs({k.replace("_", "-"): v for k, v in values.items()})


def error_field(message: str) -> str:
    """The form field an error message is about ("" = the whole form)."""
    text = message.lower()
    if text.startswith("inform.start: "):
        text = text[len("inform.start: "):]
    for word, key in ERROR_FIELD:
        if text.startswith(word):
            return key
    return ""


def _when(t: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(float(t))) if t else ""


def _campaigns(rows: list[dict[str, Any]]) -> Html:
    if not rows:
        return Html("<p>No campaigns yet.</p>")
    body = join(element("tr", join([
        element("th", element("a", r["name"], href=f"/inform?name={quote(r['name'])}"),
                scope="row"),
        element("td", r["state"]), element("td", f"{r['done']} / {r['numbers']}"),
        element("td", r["reached"]), element("td", r["calling"]),
        element("td", _when(r["created"]))])) for r in reversed(rows))
    return Html('<div class="scroll"><table><thead><tr><th scope="col">Campaign</th>'
                '<th scope="col">State</th><th scope="col">Done</th><th scope="col">'
                'Reached</th><th scope="col">Calling</th><th scope="col">Started</th></tr>'
                f"</thead><tbody>{body}</tbody></table></div>")


def _report(request: web.Request, report: dict[str, Any]) -> Html:
    rows = join(element("tr", join([
        element("th", t["number"], scope="row"), element("td", t["result"]),
        element("td", t["attempts"]), element("td", _when(t.get("answered_at"))),
        element("td", "yes" if t["heard_end"] else ""), element("td", t["confirmed"]),
        element("td", t["reason"])])) for t in report["targets"])
    stop = (Html(f'<form method="post" action="/inform/stop" class="inline">'
                 f'{csrf_input(request)}<input type="hidden" name="name" '
                 f'value="{esc(report["name"])}"><button class="danger" '
                 f'data-confirm="Stop campaign {esc(report["name"])}?">Stop</button></form> '
                 f'<a href="/inform?name={quote(report["name"])}">Refresh</a>')
            if report["state"] == "running" else Html(""))
    results = ", ".join(f"{k} {v}" for k, v in sorted(report["results"].items()))
    return Html(
        f'<section aria-labelledby="h-report" class="card"><h2 id="h-report">Campaign '
        f'{esc(report["name"])}: {esc(report["state"])}</h2>'
        f'<p role="status">{esc(report["done"])} of {esc(report["numbers"])} numbers done, '
        f'{esc(report["reached"])} reached; {esc(results)}</p>{stop}'
        '<div class="scroll"><table><thead><tr><th scope="col">Number</th><th scope="col">'
        'Result</th><th scope="col">Calls</th><th scope="col">Answered</th><th scope="col">'
        'Heard to the end</th><th scope="col">Confirmed</th><th scope="col">Last reason</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div></section>")


def _callbacks(rows: list[dict[str, Any]]) -> Html:
    if not rows:
        return Html("<p>No call-back requests since the box started.</p>")
    body = join(element("tr", join([
        element("th", r["id"], scope="row"), element("td", _when(r["created"])),
        element("td", r["number"]), element("td", r["state"]), element("td", r["attempts"]),
        element("td", r["member"]), element("td", r["reason"])])) for r in rows[:50])
    return Html('<div class="scroll"><table><thead><tr><th scope="col">#</th><th scope="col">'
                'Asked</th><th scope="col">Number</th><th scope="col">State</th><th '
                'scope="col">Attempts</th><th scope="col">Answered by</th><th scope="col">'
                f"Reason</th></tr></thead><tbody>{body}</tbody></table></div>")


async def _show(request: web.Request, values: dict[str, str] | None = None,
                error: str = "", status: int = 200) -> web.Response:
    values = {**DEFAULTS, **(values or {})}
    name = request.query.get("name", "")
    report = Html("")
    if name:
        try:
            report = _report(request, await command(request, "inform.report", {"name": name}))
        except PbxError as exc:
            report = element("p", str(exc), class_="flash error", role="alert")
    try:
        campaigns = _campaigns(await command(request, "inform.list"))
    except PbxError as exc:
        campaigns = element("p", str(exc), class_="flash error", role="alert")
    try:
        callbacks = _callbacks(await command(request, "callback.status"))
    except PbxError as exc:
        callbacks = element("p", str(exc))
    at = error_field(error) if error else ""
    fields = join(FIELD(key=key, label=LABELS[key][0], help=LABELS[key][1],
                        input=_input(key, values.get(key, ""), at == key),
                        error=element("p", error, id=f"f-{key}-err", class_="field-error",
                                      role="alert") if at == key else "")
                  for key in FIELDS)
    form_error = (element("p", error, class_="field-error", role="alert")
                  if error and not at else "")
    body = PAGE(report=report, list=campaigns, csrf=csrf_input(request), fields=fields,
                form_error=form_error, callbacks=callbacks)
    return await render(request, "Auto-informer", body, status=status)


@routes.get("/inform")
@needs("admin")
async def inform(request: web.Request) -> web.Response:
    return await _show(request)


@routes.post("/inform/start")
@needs("admin")
async def start(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    args: dict[str, Any] = {k: v for k, v in values.items() if v}
    try:
        for key in ("attempts", "parallel"):
            if key in args:
                args[key] = int(args[key])
    except ValueError:
        return await _show(request, values, f"{key}: {values[key]!r} is not a whole number",
                           400)
    try:
        await command(request, "inform.start", args)
    except PbxError as exc:
        return await _show(request, values, str(exc), 400)
    flash(request, "ok", f"Campaign {values['name']} started.")
    raise web.HTTPSeeOther(f"/inform?name={quote(values['name'])}")


@routes.post("/inform/stop")
@needs("admin")
async def stop(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name = str(form.get("name", ""))
    try:
        await command(request, "inform.stop", {"name": name})
        flash(request, "ok", f"Campaign {name} stopped.")
    except PbxError as exc:
        flash(request, "error", str(exc))
    raise web.HTTPSeeOther(f"/inform?name={quote(name)}")
