"""The JSON API: ``POST /api/<command>`` with the arguments as a JSON object, answered like
the control socket: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...,
"fields": [{"path", "message"}]}``.

The command names, arguments and errors are the command table's own; the person is the
session's (cookie plus the X-CSRF-Token header) or the API token's (Authorization: Bearer),
and the table checks their role. HTTP status: 400 bad arguments, 401 not logged in, 403 the
role does not allow it, 404 no such command or thing, 429 throttled, 500 a bug.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from firmware.core.errors import CommandError, NotFoundError, PbxError, PermissionDeniedError
from firmware.web.auth import needs
from firmware.web.context import caller_of, ctx
from firmware.web.fielderrors import error_fields
from firmware.web.security import json_error

log = logging.getLogger(__name__)

routes = web.RouteTableDef()


@routes.post("/api/{name}")
@needs("user")
async def call(request: web.Request) -> web.Response:
    c = ctx(request)
    caller = caller_of(request)
    assert caller is not None  # needs() let us in
    name = request.match_info["name"]
    if c.table.get(name) is None:
        return json_error(404, f"unknown command {name!r}; known: "
                               f"{', '.join(c.table.names(caller))}")
    args: Any = {}
    if request.can_read_body:
        try:
            args = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return json_error(400, f"the body is not JSON: {exc}")
    if not isinstance(args, dict):
        return json_error(400, "the body must be a JSON object of the command's arguments")
    try:
        result = await c.run(caller, name, args)
    except PermissionDeniedError as exc:
        return json_error(403, str(exc))
    except NotFoundError as exc:
        return json_error(404, str(exc), fields=error_fields(exc))
    except (CommandError, PbxError) as exc:
        return json_error(400, str(exc), fields=error_fields(exc))
    except Exception as exc:
        log.exception("web API command %s failed", name)
        return json_error(500, f"{name}: internal error: {type(exc).__name__}: {exc}")
    return web.json_response({"ok": True, "result": result})
