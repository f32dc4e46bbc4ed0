"""Line diagnostics (installer): ring a port, a test tone, the loopback level, and the hook
timing watch; each is the hw.* command of the same name.

Ring, tone and loopback take seconds to run: the page waits for the result and shows it.
The hook watch lists the board's signals with their timings; with the script it follows
them live (polling /api/hw.hook), without it the button shows the latest.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command, ctx, known_caller
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, render

routes = web.RouteTableDef()

RING_S = 5.0
TONE_S = 3.0
HOOK_ROWS = 30

PAGE = Tpl("""$result
<section aria-labelledby="h-ports"><h2 id="h-ports">Ports</h2>$ports</section>
<section aria-labelledby="h-ring"><h2 id="h-ring">Ring a phone</h2>
<form method="post" action="/diagnostics/ring" class="card" novalidate>$csrf
<div class="field"><label for="r-port">Phone port</label><select id="r-port" name="port">$fxs
</select></div>
<div class="field"><label for="r-s">Seconds</label>
<input id="r-s" name="seconds" inputmode="decimal" value="$ring_s"></div>
<p class="help">Rings with the country's cadence; lifting the handset stops it (ring trip).</p>
<div class="actions"><button>Ring</button></div></form></section>
<section aria-labelledby="h-tone"><h2 id="h-tone">Test tone</h2>
<form method="post" action="/diagnostics/tone" class="card" novalidate>$csrf
<div class="field"><label for="t-port">Port</label><select id="t-port" name="port">$all</select>
</div>
<div class="field"><label for="t-tone">Tone</label><select id="t-tone" name="tone">
<option value="dial">dial tone</option><option value="1000hz">1 kHz test tone</option></select>
</div>
<div class="field"><label for="t-s">Seconds</label>
<input id="t-s" name="seconds" inputmode="decimal" value="$tone_s"></div>
<div class="actions"><button>Play</button></div></form></section>
<section aria-labelledby="h-loop"><h2 id="h-loop">Loopback level</h2>
<form method="post" action="/diagnostics/loopback" class="card" novalidate>$csrf
<div class="field"><label for="l-port">Port</label><select id="l-port" name="port">$all</select>
</div>
<p class="help">Plays 1 kHz into the port and measures what comes back from the line.</p>
<div class="actions"><button>Measure</button></div></form></section>
<section aria-labelledby="h-hook"><h2 id="h-hook">Hook timing watch</h2>
<p class="help">Hook edges with the time since the previous one, pulses, flashes and ring
bursts, as the board reports them.</p>
<form method="get" action="/diagnostics" class="inline">
<input type="hidden" name="hook" value="1"><button>Show the latest</button></form>
<button type="button" id="hook-watch" data-since="$since" hidden>Watch live</button>
<div class="scroll"><table class="hook"><thead><tr><th scope="col">#</th><th scope="col">Port</th>
<th scope="col">Signal</th><th scope="col">Detail</th></tr></thead>
<tbody id="hook-rows">$hook_rows</tbody></table></div></section>""")


def hook_row(event: dict[str, Any]) -> Html:
    detail = ", ".join(f"{k} {v}" for k, v in event.items()
                       if k not in ("seq", "type", "port", "at"))
    return element("tr", join([element("td", event.get("seq")), element("td", event.get("port")),
                               element("td", event.get("type")), element("td", detail)]))


async def _show(request: web.Request, result: Html | None = None,
                status: int = 200) -> web.Response:
    c = ctx(request)
    caller = known_caller(request)
    ports: list[dict[str, Any]] = await c.run(caller, "hw.ports")
    rows = [element("tr", join([element("th", p.get("leg"), scope="row"),
                                element("td", p.get("extension")),
                                element("td", p.get("board", "")),
                                element("td", p.get("line_state"))]))
            for p in ports]
    table = Html('<div class="scroll"><table><thead><tr><th scope="col">Port</th>'
                 '<th scope="col">Extension</th><th scope="col">Board</th>'
                 f'<th scope="col">State</th></tr></thead><tbody>{join(rows)}</tbody></table>'
                 '</div>')
    fxs = join(_option(p) for p in ports if p.get("kind") == "fxs")
    # hw.tone and hw.loopback take a port number and try the phone port first: a line port
    # is reachable only where no phone port has its number.
    phone_numbers = {p.get("index") for p in ports if p.get("kind") == "fxs"}
    every = join(_option(p) for p in ports
                 if p.get("kind") == "fxs" or p.get("index") not in phone_numbers)
    hook = await c.run(caller, "hw.hook", {"since": 0})
    events = hook.get("events", [])[-HOOK_ROWS:] if request.query.get("hook") else []
    body = PAGE(result=result or "", ports=table, csrf=csrf_input(request), fxs=fxs, all=every,
                ring_s=f"{RING_S:g}", tone_s=f"{TONE_S:g}", since=hook.get("last", 0),
                hook_rows=join(hook_row(e) for e in events))
    return await render(request, "Diagnostics", body, status=status)


def _option(port: dict[str, Any]) -> Html:
    kind = "phone" if port.get("kind") == "fxs" else "line"
    return element("option", f"{kind} {port.get('index')} (ext {port.get('extension')})",
                   value=f"{port.get('kind')}:{port.get('index')}")


@routes.get("/diagnostics")
@needs("installer")
async def diagnostics(request: web.Request) -> web.Response:
    return await _show(request)


def _port(form: Any) -> int:
    text = str(form.get("port", ""))
    return int(text.rsplit(":", 1)[-1])


def _seconds(form: Any, default: float) -> float:
    return float(str(form.get("seconds", "") or default))


async def _run(request: web.Request, title: str, name: str,
               build: Any) -> web.Response:
    form = await request.post()
    try:
        args = build(form)
    except ValueError:
        return await _show(request, _result(title, "error", "Port and seconds must be numbers."),
                           400)
    try:
        result = await command(request, name, args)
    except PbxError as exc:
        return await _show(request, _result(title, "error", str(exc)), 400)
    return await _show(request, _result(title, "ok", _describe(result)))


def _result(title: str, kind: str, text: str) -> Html:
    return element("section", join([element("h2", title), element("p", text)]),
                   class_=f"card result {kind}", role="status", aria_live="polite")


def _describe(result: Any) -> str:
    if isinstance(result, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items())
    return str(result)


@routes.post("/diagnostics/ring")
@needs("installer")
async def ring(request: web.Request) -> web.Response:
    return await _run(request, "Ring", "hw.ring",
                      lambda f: {"port": _port(f), "seconds": _seconds(f, RING_S)})


@routes.post("/diagnostics/tone")
@needs("installer")
async def tone(request: web.Request) -> web.Response:
    return await _run(request, "Test tone", "hw.tone",
                      lambda f: {"port": _port(f), "tone": str(f.get("tone", "dial")),
                                 "seconds": _seconds(f, TONE_S)})


@routes.post("/diagnostics/loopback")
@needs("installer")
async def loopback(request: web.Request) -> web.Response:
    return await _run(request, "Loopback", "hw.loopback", lambda f: {"port": _port(f)})
