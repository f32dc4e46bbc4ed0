"""The page's own CSS, script and icon, served from memory.

Every file of ``static/`` is read once at start-up into a table by name; a request names a
file of that table or gets 404. Nothing reaches the file system at request time, so no
path (``..``, encoded slashes, absolute paths, symlinks) can lead outside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml",
         ".png": "image/png"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def load_static() -> dict[str, StaticFile]:
    files: dict[str, StaticFile] = {}
    for entry in resources.files("firmware.web").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in TYPES:
            body = entry.read_bytes()
            files[entry.name] = StaticFile(body, TYPES[suffix],
                                           '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return files


def static_routes(files: dict[str, StaticFile]) -> list[web.RouteDef]:
    async def serve(request: web.Request) -> web.Response:
        f = files.get(request.match_info["name"])
        if f is None:
            raise web.HTTPNotFound()
        headers = {"ETag": f.etag, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == f.etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=f.body, content_type=f.content_type, headers=headers)

    return [web.get("/static/{name}", serve)]
