"""The dashboard: ports with their live hook, ringing and call state, trunk registration,
and the calls in progress, kept current by server-sent events.

The parts are rendered here, in Python, both for the first page and for every event, and
the page's script only swaps them in: one renderer, so the live view and the first view
cannot disagree.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from firmware.commands.caller import Caller
from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.chart import load_part
from firmware.web.context import ctx, known_caller, session_of
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import render
from firmware.web.sessions import COOKIE
from firmware.web.settings import SSE_KEEPALIVE_S

routes = web.RouteTableDef()

FEED_CALLER = Caller("web-dashboard", "user", "web")
"""The feed reads ``status`` (a user-level command) once for every viewer."""

BODY = Tpl("""<div class="live" id="live" data-feed="/events">
<p class="feed-state" id="feed-state" role="status">$summary</p>
<section aria-labelledby="h-ports"><h2 id="h-ports">Ports</h2>
<div id="part-ports">$ports</div></section>
$calls_section
<section aria-labelledby="h-trunks"><h2 id="h-trunks">Trunks</h2>
<div id="part-trunks">$trunks</div></section>
<section aria-labelledby="h-load"><h2 id="h-load">Load</h2>
<div id="part-load">$load</div></section>
</div>""")

CALLS_SECTION = Tpl("""<section aria-labelledby="h-calls"><h2 id="h-calls">Calls in progress</h2>
<div id="part-calls" aria-live="polite">$calls</div></section>""")

PRIVATE_PARTS = ("calls",)
"""Parts a ``user`` does not get: the numbers other people are calling. Their own calls
are on the Calls page (firmware/web/pages/calls.py)."""


def for_user(text: str) -> str:
    """A feed event's parts without PRIVATE_PARTS (for a ``user``'s stream)."""
    parts = json.loads(text)
    for name in PRIVATE_PARTS:
        parts.pop(name, None)
    return json.dumps(parts)


PORT_ROW = Tpl("""<tr data-leg="$leg" class="state-$css"><th scope="row">$port</th>
<td>$extension</td><td><span class="badge $css">$state</span></td><td>$hook</td>
<td>$detail</td></tr>""")

PORTS = Tpl("""<div class="scroll"><table class="ports"><thead><tr><th scope="col">Port</th>
<th scope="col">Extension</th><th scope="col">State</th><th scope="col">Hook</th>
<th scope="col">Detail</th></tr></thead><tbody>$rows</tbody></table></div>""")


def port_view(p: dict[str, Any]) -> tuple[str, str, str, str]:
    """(css class, state word, hook word, detail) of one port of ``status``."""
    fxs = p.get("kind") == "fxs"
    exchange = str(p.get("exchange_state") or "idle")
    with_leg = p.get("with")
    if p.get("ringing"):
        css, state = "ringing", "ringing"
    elif with_leg or exchange in ("connected", "talking", "answered"):
        css, state = "call", "in call"
    elif exchange != "idle":
        css, state = "busy", exchange.replace("_", " ")
    elif (fxs and p.get("hook") == "off") or (not fxs and p.get("seized")):
        css, state = "busy", "off hook" if fxs else "seized"
    else:
        css, state = "idle", "idle"
    hook = (("off hook" if p.get("hook") == "off" else "on hook") if fxs
            else ("seized" if p.get("seized") else "free"))
    detail = []
    if with_leg:
        detail.append(f"with {with_leg}")
    playing = p.get("playing")
    if playing:
        detail.append(str(playing).replace("tone:", "") + " tone"
                      if str(playing).startswith("tone:") else str(playing))
    return css, state, hook, ", ".join(detail)


def render_parts(status: dict[str, Any]) -> dict[str, str]:
    """The dashboard's parts as HTML, from one ``status`` reading."""
    rows = []
    for p in status.get("ports", []):
        css, state, hook, detail = port_view(p)
        kind = "Phone" if p.get("kind") == "fxs" else "Line"
        rows.append(PORT_ROW(leg=p.get("leg", ""), port=f"{kind} {p.get('index', '?')}",
                             extension=p.get("extension") or "—", css=css, state=state,
                             hook=hook, detail=detail or "—"))
    ports = PORTS(rows=join(rows)) if rows else Html("<p>No ports configured.</p>")
    return {"ports": ports, "calls": _calls(status), "trunks": _trunks(status),
            "load": load_part(status.get("load")), "summary": _summary(status)}


def _summary(status: dict[str, Any]) -> str:
    ports = status.get("ports", [])
    busy = sum(1 for p in ports if port_view(p)[0] != "idle")
    calls = len(status.get("calls", []))
    return (f"{status.get('name', 'minipbx')} on board {status.get('board', '?')}, country "
            f"{status.get('country', '?')}: {len(ports)} ports, {busy} in use, "
            f"{calls} call{'s' if calls != 1 else ''}")


def _calls(status: dict[str, Any]) -> Html:
    calls = status.get("calls", [])
    if not calls:
        return Html("<p>No calls.</p>")
    rows = [element("tr", join([
        element("td", c.get("id")), element("td", ", ".join(c.get("legs", []))),
        element("td", c.get("number") or "—"), element("td", c.get("state"))]))
        for c in calls]
    head = Html('<thead><tr><th scope="col">Call</th><th scope="col">Legs</th>'
                '<th scope="col">Number</th><th scope="col">State</th></tr></thead>')
    return Html(f'<div class="scroll"><table>{head}<tbody>{join(rows)}</tbody></table></div>')


def _trunks(status: dict[str, Any]) -> Html:
    trunks = (status.get("sip") or {}).get("trunks") or {}
    if not trunks:
        return Html("<p>No trunks configured.</p>")
    rows = []
    for name, t in sorted(trunks.items()):
        reg = t.get("registration") or {}
        state = str(reg.get("state", "?"))
        css = {"registered": "call", "failed": "bad", "registering": "busy"}.get(state, "idle")
        why = " ".join(str(x) for x in (reg.get("code") or "", reg.get("reason") or "") if x)
        rows.append(element("tr", join([
            element("th", name, scope="row"),
            element("td", f"{t.get('host')}:{t.get('port')} ({t.get('transport')})"),
            element("td", element("span", state, class_=f"badge {css}")),
            element("td", why or "—")]), data_trunk=name))
    head = Html('<thead><tr><th scope="col">Trunk</th><th scope="col">Server</th>'
                '<th scope="col">Registration</th><th scope="col">Last answer</th></tr></thead>')
    return Html(f'<div class="scroll"><table>{head}<tbody>{join(rows)}</tbody></table></div>')


async def fetch_status(request_ctx: Any) -> dict[str, Any]:
    status: dict[str, Any] = await request_ctx.run(FEED_CALLER, "status")
    try:
        # Live load (firmware/commands/calls_cmds.py), computed at most every 2 s.
        status["load"] = await request_ctx.run(FEED_CALLER, "load")
    except PbxError:
        status["load"] = None
    return status


@routes.get("/")
@needs("user")
async def dashboard(request: web.Request) -> web.Response:
    status = await fetch_status(ctx(request))
    parts = render_parts(status)
    private = known_caller(request).role == "user"
    body = BODY(summary=parts["summary"], ports=Html(parts["ports"]),
                calls_section=Html("") if private else CALLS_SECTION(
                    calls=Html(parts["calls"])),
                trunks=Html(parts["trunks"]), load=Html(parts["load"]))
    pending = status.get("config")
    return await render(request, "Dashboard", body,
                        pending=pending if isinstance(pending, dict) else None)


@routes.get("/events")
@needs("user")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``status`` events whose data is the dashboard's parts as JSON."""
    c = ctx(request)
    session = session_of(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    queue = c.feed.subscribe()
    sid = request.cookies.get(COOKIE, "")
    private = known_caller(request).role == "user"
    try:
        await response.write(b"retry: 2000\n\n")
        # A session that ends (idle, logout) ends its stream at the next event or keepalive.
        while session is None or c.sessions.alive(sid):
            try:
                text = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if not text:
                break  # the server is stopping
            if private:
                text = for_user(text)
            await response.write(f"event: status\ndata: {text}\n\n".encode())
        await response.write_eof()
    except ConnectionResetError:
        pass  # the browser went away
    finally:
        c.feed.unsubscribe(queue)
    return response
