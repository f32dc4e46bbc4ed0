"""Calls: the call records, filtered, sorted and paged, with each call's recording to
play inline (seekable: the file is served with HTTP Range), download, and, for admins,
delete.

Everything goes through the ``calls`` commands (firmware/commands/calls_cmds.py), which
decide who sees which record: a ``user`` gets only their own extension's calls, and a
record or recording that is not theirs is "not found" (404), exactly like one that does
not exist. The recording's file is served from the path the command returns, never from
anything in the URL but the record's id.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from firmware.core.errors import NotFoundError, PbxError
from firmware.records.model import DISPOSITIONS
from firmware.web.audio import serve_audio
from firmware.web.auth import needs, safe_next
from firmware.web.context import command, known_caller
from firmware.web.html import Html, Tpl, element, esc, join
from firmware.web.layout import csrf_input, flash, render

routes = web.RouteTableDef()

PER_PAGE = 25
FILTERS = ("since", "extension", "disposition", "sort", "order")
COLUMNS = (("start", "Start"), ("caller", "From"), ("called", "To"),
           ("disposition", "Disposition"), ("duration", "Duration"), ("billsec", "Talk"))

FORM = Tpl("""<form method="get" action="/calls" class="card filters" role="search">
<div class="field"><label for="f-since">Since</label>
<input id="f-since" name="since" value="$since" placeholder="1h, 7d, 2026-12-07"
 aria-describedby="f-since-help"><small id="f-since-help">30m, 1h, 7d or a date</small></div>
$extension
<div class="field"><label for="f-disp">Disposition</label>
<select id="f-disp" name="disposition">$dispositions</select></div>
<div class="actions"><button class="primary">Show</button>
<a href="/calls">Clear</a></div></form>""")

EXTENSION = Tpl("""<div class="field"><label for="f-ext">Extension</label>
<input id="f-ext" name="extension" inputmode="numeric" value="$value"></div>""")

DELETE = Tpl("""<form method="post" action="/calls/$uid/recording/delete" class="inline">
$csrf<input type="hidden" name="_back" value="$back">
<button class="danger" data-confirm="Delete this recording? It cannot be undone.">Delete
</button></form>""")


def _when(t: float | None) -> str:
    return "—" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _seconds(s: float) -> str:
    s = round(s)
    return f"{s // 60}:{s % 60:02d}"


def _party(number: Any, name: Any) -> Html:
    if not number and not name:
        return esc("—")
    if name:
        return join([number or "", " ", element("small", name)])
    return esc(number)


def _recording(r: dict[str, Any], admin: bool, csrf: Html, back: str) -> Html:
    rec = r.get("recording")
    if not rec:
        return esc("—")
    state = rec.get("state")
    if state != "ready":
        return element("span", state, class_="badge idle")
    src = f"/calls/{r['uid']}/recording"
    audio = Html(f'<audio controls preload="none" src="{esc(src)}" '
                 f'aria-label="Recording of the call at {esc(_when(r["start"]))}"></audio>')
    link = element("a", "Download", href=f"{src}?download=1", download="")
    parts = [audio, " ", link]
    if admin:
        parts += [" ", DELETE(uid=r["uid"], csrf=csrf, back=back)]
    return element("div", join(parts), class_="recording")


def _link(params: dict[str, str], **change: object) -> str:
    merged = {**params, **{k: str(v) for k, v in change.items()}}
    return "/calls?" + urlencode({k: v for k, v in merged.items() if v})


@routes.get("/calls")
@needs("user")
async def calls(request: web.Request) -> web.Response:
    caller = known_caller(request)
    params = {k: request.query.get(k, "") for k in FILTERS}
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    args: dict[str, Any] = {k: v for k, v in params.items() if v}
    args.update(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    error = ""
    try:
        result = await command(request, "calls", args)
    except PbxError as exc:
        error = str(exc)
        result = {"calls": [], "total": 0}
    admin = caller.role == "admin"
    csrf = csrf_input(request)
    back = request.path_qs
    sort, order = params["sort"] or "start", params["order"] or "desc"
    head = []
    for key, label in COLUMNS:
        flip = "asc" if sort == key and order == "desc" else "desc"
        mark = (" ▼" if order == "desc" else " ▲") if sort == key else ""
        head.append(element("th", element("a", label + mark,
                                          href=_link(params, sort=key, order=flip, page="")),
                            scope="col",
                            aria_sort=("descending" if order == "desc" else "ascending")
                            if sort == key else None))
    head += [element("th", "Ended by", scope="col"), element("th", "Via", scope="col"),
             element("th", "Recording", scope="col")]
    rows = []
    for r in result["calls"]:
        via = " › ".join([*(r.get("path") or []), r.get("trunk") or r.get("direction") or ""])
        rows.append(element("tr", join([
            element("td", _when(r["start"])),
            element("td", _party(r.get("caller_number"), r.get("caller_name"))),
            element("td", _party(r.get("called_number"), r.get("called_name"))),
            element("td", element("span", r["disposition"],
                                  class_=f"badge disp-{r['disposition'].replace(' ', '-')}")),
            element("td", _seconds(r["duration"])),
            element("td", _seconds(r["billsec"]) if r.get("answer") is not None else "—"),
            element("td", r.get("hangup_side") or "—"),
            element("td", via.strip(" ›") or "—"),
            element("td", _recording(r, admin, csrf, back))]), data_uid=r["uid"]))
    total = int(result["total"])
    pages = max(1, -(-total // PER_PAGE))
    nav = []
    if page > 1:
        nav.append(element("a", "‹ Newer" if order == "desc" else "‹ Previous",
                           href=_link(params, page=page - 1), rel="prev"))
    nav.append(element("span", f"Page {page} of {pages} · {total} calls"))
    if page < pages:
        nav.append(element("a", "Older ›" if order == "desc" else "Next ›",
                           href=_link(params, page=page + 1), rel="next"))
    options = [element("option", "any", value="")] + [
        element("option", d, value=d, selected=params["disposition"] == d)
        for d in (*DISPOSITIONS, "missed")]
    form = FORM(since=params["since"], dispositions=join(options),
                extension=EXTENSION(value=params["extension"])
                if caller.role != "user" else Html(""))
    mine = (element("p", f"Calls of extension {caller.extension}." if caller.extension
                    else "Your account has no extension, so it has no calls: an admin can "
                         "give it one.", class_="help")
            if caller.role == "user" else Html(""))
    table = (Html(f'<div class="scroll"><table class="calls"><thead><tr>{join(head)}</tr>'
                  f'</thead><tbody>{join(rows)}</tbody></table></div>')
             if rows else element("p", "No calls."))
    body = join([mine, form,
                 element("p", error, class_="flash error", role="alert") if error else "",
                 table, element("nav", join(nav, " "), class_="pager",
                                aria_label="Pages")])
    return await render(request, "Calls", body, status=400 if error else 200)


@routes.get("/calls/{uid}/recording")
@routes.get("/api/calls/{uid}/recording")
@needs("user")
async def recording(request: web.Request) -> web.StreamResponse:
    """The page's player and download link, and scripts (``Authorization: Bearer``)."""
    return await serve_audio(request, "calls.recording", {"uid": request.match_info["uid"]},
                             "no such recording")


@routes.post("/calls/{uid}/recording/delete")
@needs("admin")
async def delete_recording(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    back = safe_next(str(form.get("_back", "")))
    if not back.startswith("/calls"):
        back = "/calls"
    try:
        await command(request, "calls.recording.delete", {"uid": request.match_info["uid"]})
    except NotFoundError:
        raise web.HTTPNotFound(text="no such recording\n") from None
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", "Recording deleted.")
    raise web.HTTPSeeOther(back)

