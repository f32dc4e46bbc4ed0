"""Maintenance: configuration backup and restore, restart, and the last log lines.

The backup is config.export (the running configuration with its passwords, admin only) as
a file download; a restore is config.load, which stages the file like any other change, so
the bar shows its diff and Apply runs it. Restart is box.restart, now or once no call is up.
"""

from __future__ import annotations

import time

from aiohttp import web

from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command, ctx
from firmware.web.html import Tpl
from firmware.web.layout import csrf_input, flash, render
from firmware.web.settings import MAX_BODY_BYTES

routes = web.RouteTableDef()

LOG_LINES = 100

PAGE = Tpl("""<section aria-labelledby="h-backup"><h2 id="h-backup">Backup</h2>
<p>The running configuration as a file, passwords included: keep it somewhere safe.</p>
<p><a class="button" href="/maintenance/backup" download>Download the configuration</a></p>
</section>
<section aria-labelledby="h-restore"><h2 id="h-restore">Restore</h2>
<form method="post" action="/maintenance/restore" enctype="multipart/form-data" class="card">
$csrf<div class="field"><label for="file">Configuration file (TOML)</label>
<input id="file" name="file" type="file" accept=".toml,text/plain"></div>
<p class="help">The file is staged like any change: check the diff in the bar, then Apply.</p>
<div class="actions"><button>Stage this file</button></div></form></section>
<section aria-labelledby="h-restart"><h2 id="h-restart">Restart</h2>
<form method="post" action="/maintenance/restart" class="card">$csrf
<div class="field check"><input type="checkbox" id="when_idle" name="when_idle" value="true"
 checked><label for="when_idle">Wait until no call is up</label></div>
<div class="actions"><button class="danger" data-confirm="Restart the box?">Restart the box
</button></div></form></section>
<section aria-labelledby="h-log"><h2 id="h-log">Log</h2>
<p class="help">The last $count lines, newest last.</p><pre class="log">$log</pre></section>""")


@routes.get("/maintenance")
@needs("installer")
async def maintenance(request: web.Request) -> web.Response:
    logs = ctx(request).logs
    lines = logs.lines(LOG_LINES) if logs is not None else []
    body = PAGE(csrf=csrf_input(request), count=len(lines),
                log="\n".join(lines) if lines else "(no log lines kept)")
    return await render(request, "Maintenance", body)


@routes.get("/maintenance/backup")
@needs("installer")
async def backup(request: web.Request) -> web.StreamResponse:
    try:
        result = await command(request, "config.export")
    except PbxError as exc:
        flash(request, "error", str(exc))
        raise web.HTTPSeeOther("/maintenance") from None
    name = f"minipbx-{time.strftime('%Y%m%d-%H%M%S')}.toml"
    return web.Response(text=str(result.get("toml", "")), content_type="application/toml",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@routes.post("/maintenance/restore")
@needs("installer")
async def restore(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload = form.get("file")
    data = getattr(upload, "file", None)
    if data is None:
        flash(request, "error", "Choose a configuration file first.")
        raise web.HTTPSeeOther("/maintenance")
    raw = data.read(MAX_BODY_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        flash(request, "error", "That file is not text (UTF-8): choose a .toml backup.")
        raise web.HTTPSeeOther("/maintenance") from None
    source = str(getattr(upload, "filename", "") or "upload")
    try:
        await command(request, "config.load", {"text": text, "source": source})
    except PbxError as exc:
        flash(request, "error", f"Not staged: {exc}")
    else:
        flash(request, "ok", f"{source} staged: check the diff in the bar, then Apply.")
    raise web.HTTPSeeOther("/maintenance")


@routes.post("/maintenance/restart")
@needs("installer")
async def restart(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    when_idle = str(form.get("when_idle", "")) == "true"
    try:
        result = await command(request, "box.restart",
                                        {"when_idle": when_idle})
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", f"Restart: {result.get('restart', 'asked')}. The page comes back "
                             "when the box is up again (log in again).")
    raise web.HTTPSeeOther("/maintenance")

