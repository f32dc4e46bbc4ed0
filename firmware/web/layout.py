"""The page around every page: head, navigation for the person's role, the pending-changes
bar, flash messages and the footer.

The bar is on every page of a person who may change the configuration: it says whether
the candidate differs from the running configuration, shows the diff, and offers Apply,
Apply with confirm and Discard; while a confirmed commit waits, it offers Confirm and counts
down. Everything comes from the command table (config.pending, config.diff), like any
other front end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from firmware import __version__
from firmware.commands.caller import Caller, Role
from firmware.core.errors import PbxError
from firmware.web.context import caller_of, ctx, session_of
from firmware.web.html import Html, Tpl, element, esc, join, void
from firmware.web.security import CSRF_FIELD

log = logging.getLogger(__name__)

DEFAULT_CONFIRM_S = 90


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    role: Role
    only_role: Role | None = None  # shown only to this role (the user's own page)


NAV = (
    NavItem("/", "Dashboard", "user"),
    NavItem("/me", "My phone", "user", only_role="user"),
    NavItem("/calls", "Calls", "user"),
    NavItem("/voicemail", "Voicemail", "user"),
    NavItem("/forwarding", "Forwarding", "admin"),  # a user's own is on My phone
    NavItem("/config/box", "Box", "installer"),
    NavItem("/config/phones", "Phones", "installer"),
    NavItem("/config/lines", "Lines", "installer"),
    NavItem("/config/trunks", "Trunks", "installer"),
    NavItem("/config/routes", "Routes", "installer"),
    NavItem("/config/dialplan", "Dial plan", "installer"),
    NavItem("/accounts", "Accounts", "admin"),
    NavItem("/inform", "Informer", "admin"),
    NavItem("/diagnostics", "Diagnostics", "installer"),
    NavItem("/prompts", "Prompts", "admin"),
    NavItem("/maintenance", "Maintenance", "installer"),
    NavItem("/changes", "Changes", "installer"),
)

PAGE = Tpl("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="$csrf">
<title>$title · $box</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="top">
<a class="brand" href="/">$box</a>
$who
<nav aria-label="Main"><ul>$nav</ul></nav>
</header>
$bar
<main id="main" tabindex="-1">
<h1>$title</h1>
$flash
$body
</main>
<footer>minipbx $version</footer>
</body>
</html>
""")

WHO = Tpl("""<div class="who"><span>$name <small>($role)</small></span>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="$csrf">
<button class="link">Log out</button></form></div>""")

BAR_PENDING = Tpl("""<section class="bar pending" aria-label="Pending changes">
<p><strong>Changes pending</strong> — not yet running on the box.</p>
<details><summary>Show the changes</summary>$diff</details>
<div class="actions">
<form method="post" action="/changes/apply">$csrf<button class="primary">Apply</button></form>
<form method="post" action="/changes/apply" class="confirm-form">$csrf
<label for="confirm_s">Undo unless confirmed within (s)</label>
<input id="confirm_s" name="confirm_s" type="number" min="1" max="86400" value="$confirm_s"
 inputmode="numeric">
<button>Apply with confirm</button></form>
<form method="post" action="/changes/discard">$csrf<button class="danger">Discard</button></form>
</div>
</section>""")

BAR_CONFIRM = Tpl("""<section class="bar confirm" aria-label="Confirm the last change">
<p><strong>Confirm the change</strong>: unless confirmed by $at
(<span class="countdown" data-deadline="$deadline">$left s</span>), the box goes back to the
previous version by itself.</p>
<div class="actions">
<form method="post" action="/changes/confirm">$csrf<button class="primary">Confirm</button></form>
</div>
</section>""")

BAR_CLEAN = Tpl("""<section class="bar clean" aria-label="Pending changes">
<p>No changes pending. <a href="/changes">History</a></p></section>""")


def csrf_input(request: web.Request) -> Html:
    session = session_of(request)
    token = session.csrf if session else ""
    return Html(f'<input type="hidden" name="{CSRF_FIELD}" value="{esc(token)}">')


def flash(request: web.Request, kind: str, text: str) -> None:
    """A message shown once, on the next page this person sees."""
    session = session_of(request)
    if session is not None:
        session.flash.append((kind, text))


async def render(request: web.Request, title: str, body: Html, *, status: int = 200,
                 bar: bool = True, pending: dict[str, Any] | None = None) -> web.Response:
    """The whole page around ``body``; ``pending`` is config.pending's answer when the
    handler already has it (``status`` carries it), saving the bar a command."""
    session = session_of(request)
    caller = caller_of(request)
    messages: list[tuple[str, str]] = []
    if session is not None:
        messages, session.flash = session.flash, []
    nav = join(_nav_item(item, request.path) for item in NAV
               if caller is not None and caller.may(item.role)
               and (item.only_role is None or caller.role == item.only_role))
    who = (WHO(name=session.name, role=session.role, csrf=session.csrf)
           if session is not None else Html(""))
    text = PAGE(
        csrf=session.csrf if session else "", title=title, box=await box_name(request),
        who=who, nav=nav,
        bar=(await _bar(request, caller, pending)
             if bar and caller is not None and caller.may("installer") else Html("")),
        flash=join(element("p", t, class_=f"flash {k}", role="status") for k, t in messages),
        body=body, version=__version__)
    return web.Response(text=text, content_type="text/html", status=status, charset="utf-8")


def _nav_item(item: NavItem, path: str) -> Html:
    current = path == item.href or (item.href != "/" and path.startswith(item.href + "/"))
    link = element("a", item.label, href=item.href,
                   aria_current="page" if current else None)
    return element("li", link)


NAME_TTL_S = 5.0


async def box_name(request: web.Request) -> str:
    """The box's name for titles; read through `status` at most every few seconds."""
    c = ctx(request)
    now = time.monotonic()
    if c.name_cache and now - c.name_cache[0] < NAME_TTL_S:
        return c.name_cache[1]
    try:
        status = await c.run(Caller("web", "user", "web"), "status")
        name = str(status.get("name") or "minipbx")
    except PbxError:
        name = "minipbx"
    c.name_cache = (now, name)
    return name


async def pending_state(request: web.Request, caller: Caller) -> dict[str, Any] | None:
    """config.pending for this person, or None when they may not see it."""
    try:
        state: dict[str, Any] = await ctx(request).run(caller, "config.pending")
    except PbxError:
        return None
    return state


async def _bar(request: web.Request, caller: Caller, known: dict[str, Any] | None) -> Html:
    state = known if known is not None else await pending_state(request, caller)
    if state is None:
        return Html("")
    # The bar's forms come back to the page they were sent from.
    csrf = Html(csrf_input(request) + void("input", type="hidden", name="_back",
                                            value=request.path_qs))
    parts: list[Html] = []
    confirm_by = state.get("confirm_by")
    if confirm_by:
        left = max(0, round(float(confirm_by) - time.time()))
        parts.append(BAR_CONFIRM(
            csrf=csrf, at=time.strftime("%H:%M:%S", time.localtime(float(confirm_by))),
            deadline=f"{float(confirm_by):.0f}", left=left))
    if state.get("pending"):
        diff = await ctx(request).run(caller, "config.diff")
        parts.append(BAR_PENDING(csrf=csrf, diff=diff_html(str(diff.get("diff", ""))),
                                 confirm_s=DEFAULT_CONFIRM_S))
    elif not confirm_by:
        parts.append(BAR_CLEAN())
    return join(parts)


def diff_html(diff: str) -> Html:
    """A unified diff with its added and removed lines marked for colour (and for screen
    readers, by the +/- they keep)."""
    rows = []
    for line in diff.splitlines():
        kind = ("add" if line.startswith("+") and not line.startswith("+++") else
                "del" if line.startswith("-") and not line.startswith("---") else
                "hunk" if line.startswith("@@") else "ctx")
        rows.append(element("span", line + "\n", class_=kind))
    return element("pre", join(rows), class_="diff") if rows else Html("<p>(no difference)</p>")
