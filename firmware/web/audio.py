"""Serving a stored sound (a call recording, a voicemail message) to its owner.

The command named decides who may have it and answers with the file, its type and a
download name; anything it refuses or does not know is 404, so a guessed id tells nothing.
The file goes out through aiohttp's FileResponse, which answers Range requests (206), so
the page's <audio> element can seek; ``?download=1`` makes it an attachment.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web

from firmware.core.errors import NotFoundError, PermissionDeniedError
from firmware.web.context import ctx, known_caller


async def serve_audio(request: web.Request, name: str, args: dict[str, Any],
                      missing: str) -> web.StreamResponse:
    caller = replace(known_caller(request), via="web")  # this front end serves the file
    try:
        found = await ctx(request).run(caller, name, args)
    except (NotFoundError, PermissionDeniedError):
        raise web.HTTPNotFound(text=f"{missing}\n") from None
    headers = {"Content-Type": str(found["mime"]), "Cache-Control": "private, no-store"}
    if request.query.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{found["name"]}"'
    return web.FileResponse(found["file"], headers=headers)
