"""Voicemail: the messages of one's mailbox (every mailbox for an admin), each with an
inline player (seekable: served with HTTP Range), a download link and Delete.

Everything goes through the ``voicemail`` commands (firmware/commands/voicemail_cmds.py),
which decide who sees which message: a ``user`` gets only their own extension's mailbox,
and a message that is not theirs is "not found" (404), like one that does not exist. The
file is served from the path the command returns, never from the URL.
"""

from __future__ import annotations

import time

from aiohttp import web

from firmware.core.errors import NotFoundError, PbxError
from firmware.web.audio import serve_audio
from firmware.web.auth import needs
from firmware.web.context import command, known_caller
from firmware.web.html import Html, Tpl, element, esc, join
from firmware.web.layout import csrf_input, flash, render

routes = web.RouteTableDef()

DELETE = Tpl("""<form method="post" action="/voicemail/$box/$uid/delete" class="inline">
$csrf<button class="danger" data-confirm="Delete this message? It cannot be undone.">Delete
</button></form>""")


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


@routes.get("/voicemail")
@needs("user")
async def voicemail(request: web.Request) -> web.Response:
    caller = known_caller(request)
    error = ""
    try:
        result = await command(request, "voicemail.list", {})
    except PbxError as exc:
        error = str(exc)
        result = {"messages": []}
    csrf = csrf_input(request)
    rows = []
    for m in result["messages"]:
        src = f"/voicemail/{m['mailbox']}/{m['uid']}"
        audio = Html(f'<audio controls preload="none" src="{esc(src)}" '
                     f'aria-label="Message of {esc(_when(m["start"]))}"></audio>')
        who = " ".join(x for x in (m.get("caller_number"), m.get("caller_name")) if x)
        rows.append(element("tr", join([
            element("td", m["mailbox"]),
            element("td", _when(m["start"])),
            element("td", who or "—"),
            element("td", f"{m['duration_s']:.0f} s"),
            element("td", element("span", "new" if m["new"] else "heard",
                                  class_="badge" + (" idle" if not m["new"] else ""))),
            element("td", join([audio, " ", element("a", "Download", href=f"{src}?download=1",
                                                    download=""), " ",
                                DELETE(box=m["mailbox"], uid=m["uid"], csrf=csrf)]))]),
            data_uid=m["uid"]))
    mine = (element("p", f"Messages of extension {caller.extension}." if caller.extension
                    else "Your account has no extension, so it has no mailbox.",
                    class_="help") if caller.role == "user" else Html(""))
    head = "".join(f'<th scope="col">{h}</th>' for h in
                   ("Mailbox", "When", "From", "Length", "State", "Message"))
    table = (Html(f'<div class="scroll"><table class="voicemail"><thead><tr>{head}</tr>'
                  f'</thead><tbody>{join(rows)}</tbody></table></div>')
             if rows else element("p", "No messages."))
    body = join([mine, element("p", error, class_="flash error", role="alert") if error
                 else "", table])
    return await render(request, "Voicemail", body)


@routes.get("/voicemail/{box}/{uid}")
@routes.get("/api/voicemail/{box}/{uid}")
@needs("user")
async def message(request: web.Request) -> web.StreamResponse:
    return await serve_audio(request, "voicemail.message",
                             {"extension": request.match_info["box"],
                              "uid": request.match_info["uid"]}, "no such message")


@routes.post("/voicemail/{box}/{uid}/delete")
@needs("user")
async def delete(request: web.Request) -> web.StreamResponse:
    await request.post()
    try:
        await command(request, "voicemail.delete", {"extension": request.match_info["box"],
                                                    "uid": request.match_info["uid"]})
    except NotFoundError:
        raise web.HTTPNotFound(text="no such message\n") from None
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", "Message deleted.")
    raise web.HTTPSeeOther("/voicemail")
