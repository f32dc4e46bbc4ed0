"""Voice prompts (admin): the list (``prompt.list``) and the upload form
(``prompt.upload``), which takes a WAV file of any rate, channels and bit depth.

The form is multipart; the guard lets this one path carry a larger body
(``UPLOAD_BODY_BYTES``). What is wrong with a file (not a WAV, too long, too big, a bad
name) comes back on the page, with the file named.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command, ctx, known_caller
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, render

routes = web.RouteTableDef()

UPLOAD_PATH = "/prompts/upload"

PAGE = Tpl("""$result
<section aria-labelledby="h-up"><h2 id="h-up">Upload a prompt</h2>
<form method="post" action="/prompts/upload" enctype="multipart/form-data" class="card"
 novalidate>$csrf
<div class="field"><label for="p-file">WAV file</label>
<input id="p-file" name="file" type="file" accept=".wav,audio/wav,audio/x-wav"></div>
<div class="field"><label for="p-name">Name</label>
<input id="p-name" name="name" placeholder="welcome.wav"></div>
<p class="help">Any WAV (PCM 8 to 32 bits or float, any rate, mono or stereo); the box keeps
it as 8 kHz mono. A menu plays it as <code>file:NAME.wav</code>. Leave the name empty to use
the file's.</p>
<div class="actions"><button>Upload</button></div></form></section>
<section aria-labelledby="h-list"><h2 id="h-list">Prompts</h2>
<div class="scroll"><table><thead><tr><th scope="col">Name</th><th scope="col">Language</th>
<th scope="col">Seconds</th><th scope="col">Source</th></tr></thead>
<tbody>$rows</tbody></table></div></section>""")


async def _show(request: web.Request, result: Html | None = None,
                status: int = 200) -> web.Response:
    rows: list[dict[str, Any]] = await ctx(request).run(known_caller(request), "prompt.list")
    body = PAGE(result=result or "", csrf=csrf_input(request), rows=join(
        element("tr", join([element("th", r.get("name"), scope="row"),
                            element("td", r.get("language") or "-"),
                            element("td", "not built" if r.get("duration_s") is None
                                    else f"{r['duration_s']:.1f}"),
                            element("td", f"{r.get('source')}"
                                    + (f" ({r['warning']})" if r.get("warning") else ""))]))
        for r in rows))
    return await render(request, "Prompts", body, status=status)


def _result(kind: str, text: str) -> Html:
    return element("section", join([element("h2", "Upload"), element("p", text)]),
                   class_=f"card result {kind}", role="status", aria_live="polite")


@routes.get("/prompts")
@needs("admin")
async def prompts(request: web.Request) -> web.Response:
    return await _show(request)


@routes.post(UPLOAD_PATH)
@needs("admin")
async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField):
        return await _show(request, _result("error", "Choose a WAV file to upload."), 400)
    data = field.file.read()
    name = str(form.get("name") or "").strip() or field.filename or ""
    if not data:
        return await _show(request, _result("error", f"{name or 'the file'}: empty file"),
                           400)
    try:
        result = await command(request, "prompt.upload",
                               {"name": name, "data": base64.b64encode(data).decode("ascii")})
    except PbxError as exc:
        return await _show(request, _result("error", str(exc)), 400)
    return await _show(request, _result(
        "ok", f"Stored {result['name']}: {result['seconds']} s."))
