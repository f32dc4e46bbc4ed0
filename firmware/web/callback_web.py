"""The web call-back, as the office's own web site reaches it (issue 9, section 6).

- ``POST /callback`` with ``token`` and ``number`` (a form, or JSON): runs the
  ``callback.request`` command for a visitor, who has no account: the ``[callback] token``
  is the authority, checked by the command with the allowed numbers, the rate limits and
  office hours. Answers JSON when the request was JSON or asks for it (the widget), else a
  small HTML page (a form without JavaScript): 202 taken; 4xx with the reason (400 not a
  number, 403 bad token / number not allowed / premium-rate / origin not allowed, 404 not
  enabled, 409 office closed, 429 too many requests). Nothing is dialled for a refusal.
- CORS only for ``[callback] origins``: a browser's preflight (``OPTIONS /callback``) from
  one of them is allowed, any other is not; a POST whose ``Origin`` is neither one of them
  nor the box itself is refused (403) before the command runs, and logged.
- ``GET /callback/widget.js``: a small script for the office's page. It turns
  ``<form data-minipbx-callback action="https://BOX/callback" method="post">`` (with the
  ``token`` and ``number`` fields) into one that sends by fetch and shows the answer in
  place; the same form without the script posts normally and gets the HTML page.

The guard (``firmware.web.security``) lets ``/callback`` through without a session or CSRF
token: it changes nothing of the box's configuration and has its own checks.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from firmware.commands.caller import Caller
from firmware.commands.inform_cmds import CallbackRefusedError
from firmware.core.errors import PbxError
from firmware.web.context import ctx
from firmware.web.html import Tpl

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

VISITOR = Caller("web-callback", "user", "web")
"""The caller the visitor's request runs as: the command checks the token itself."""
MAX_FIELD = 200

PAGE = Tpl("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Call-back request</title></head>
<body><main><h1>Call-back request</h1><p role="status">$message</p></main></body></html>
""")

WIDGET_JS = """// minipbx call-back widget: <form data-minipbx-callback action=".../callback"
// method="post"> with inputs token and number; works without this script too.
(function () {
  "use strict";
  function wire(form) {
    var out = document.createElement("p");
    out.setAttribute("role", "status");
    out.setAttribute("aria-live", "polite");
    form.appendChild(out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      new FormData(form).forEach(function (v, k) { body[k] = String(v); });
      out.textContent = "Sending\\u2026";
      fetch(form.action, {method: "POST", mode: "cors", credentials: "omit",
                          headers: {"Content-Type": "application/json",
                                    "Accept": "application/json"},
                          body: JSON.stringify(body)})
        .then(function (r) { return r.json(); })
        .then(function (a) { out.textContent = a.ok ? a.message : a.error; })
        .catch(function () { out.textContent = "The request could not be sent."; });
    });
  }
  function init() {
    var forms = document.querySelectorAll("form[data-minipbx-callback]");
    for (var i = 0; i < forms.length; i++) { wire(forms[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
"""


async def _origins(request: web.Request) -> list[str]:
    try:
        info: dict[str, Any] = await ctx(request).run(VISITOR, "callback.info")
    except PbxError:
        return []
    return [str(o) for o in info.get("origins", [])]


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _cors(origin: str | None, allowed: list[str]) -> dict[str, str]:
    if origin and origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def _wants_json(request: web.Request) -> bool:
    return (request.content_type == "application/json"
            or "application/json" in request.headers.get("Accept", ""))


def _answer(request: web.Request, status: int, payload: dict[str, Any],
            headers: dict[str, str]) -> web.Response:
    if _wants_json(request):
        return web.json_response(payload, status=status, headers=headers)
    text = str(payload.get("message") or payload.get("error") or "")
    return web.Response(text=PAGE(message=text), status=status, content_type="text/html",
                        charset="utf-8", headers=headers)


@routes.options("/callback")
async def preflight(request: web.Request) -> web.Response:
    origin = request.headers.get("Origin")
    allowed = await _origins(request)
    if origin not in allowed:
        log.warning("call-back preflight from origin %s refused (not in [callback] origins)",
                    origin)
        return web.Response(status=403, text="origin not allowed\n", headers={"Vary": "Origin"})
    return web.Response(status=204, headers={
        **_cors(origin, allowed), "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type, Accept",
        "Access-Control-Max-Age": "600"})


@routes.post("/callback")
async def take(request: web.Request) -> web.Response:
    origin = request.headers.get("Origin")
    allowed = await _origins(request)
    headers = _cors(origin, allowed)
    address = request.remote or "?"
    if origin and origin not in allowed and origin != _own_origin(request):
        log.warning("call-back request from %s refused: origin %s is not in [callback] "
                    "origins", address, origin)
        return _answer(request, 403, {"ok": False, "code": "origin", "error":
                                      f"requests from {origin[:80]} are not accepted: it is "
                                      "not one of the box's [callback] origins"}, headers)
    try:
        fields = await _fields(request)
    except ValueError as exc:
        return _answer(request, 400, {"ok": False, "code": "bad_request", "error": str(exc)},
                       headers)
    args = {"token": fields.get("token", ""), "number": fields.get("number", ""),
            "address": address}
    try:
        result: dict[str, Any] = await ctx(request).run(VISITOR, "callback.request", args)
    except CallbackRefusedError as exc:
        return _answer(request, exc.status, {"ok": False, "code": exc.code,
                                             "error": str(exc)}, headers)
    except PbxError as exc:
        return _answer(request, 400, {"ok": False, "code": "bad_request", "error": str(exc)},
                       headers)
    return _answer(request, 202, {"ok": True, **result}, headers)


async def _fields(request: web.Request) -> dict[str, str]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"the body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError('the body must be a JSON object: {"token": ..., "number": ...}')
        given: dict[str, Any] = data
    else:
        given = dict((await request.post()).items())
    out = {}
    for key in ("token", "number"):
        value = given.get(key)
        if value is None or not isinstance(value, str):
            raise ValueError(f"the field {key} is missing (send token and number)")
        out[key] = value[:MAX_FIELD]
    return out


@routes.get("/callback/widget.js")
async def widget(request: web.Request) -> web.Response:
    return web.Response(text=WIDGET_JS, content_type="application/javascript",
                        charset="utf-8", headers={"Cache-Control": "max-age=3600"})
