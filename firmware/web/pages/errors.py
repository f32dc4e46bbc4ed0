"""Pages for refusals and for the box's own errors, in the page's own frame."""

from __future__ import annotations

from aiohttp import web

from firmware.commands.caller import Role
from firmware.web.context import caller_of
from firmware.web.html import Tpl
from firmware.web.layout import render

FORBIDDEN = Tpl("""<p class="flash error">Your account ($name, role $have) may not open this
page: it needs the $role role. Ask an admin, or go back to the <a href="/">dashboard</a>.</p>""")


async def forbidden(request: web.Request, role: Role) -> web.Response:
    caller = caller_of(request)
    return await render(request, "Not allowed", FORBIDDEN(
        name=caller.name if caller else "?", have=caller.role if caller else "?", role=role),
        status=403)
