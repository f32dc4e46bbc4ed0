"""The configuration pages (box, phones, lines, trunks, routes, dial plan): forms built from
the schema that stage changes in the candidate through config.set, config.add and
config.delete. Nothing runs on the box until Apply in the bar.

A save compares each field with the candidate and stages only what changed, the entry's
natural key last (renaming ``fxs.1`` to port 3 must not strand the entry's other fields).
Refused values come back at their fields with the schema's message; problems that only a
commit would refuse (config.pending's "problems") show at their fields too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from firmware.config.describe import MASK, TableInfo, tables
from firmware.config.paths import PathError, field_at, get_path, parse_value
from firmware.core.errors import PbxError
from firmware.web.auth import needs
from firmware.web.context import command, ctx, known_caller
from firmware.web.fielderrors import by_path, error_fields
from firmware.web.forms import (
    PAGES,
    ConfigPage,
    add_fields,
    entry_path,
    entry_title,
    fields_for,
    form_fields,
    page_tables,
    sentence,
    submitted_text,
    table_title,
)
from firmware.web.html import Html, Tpl, element, join
from firmware.web.layout import csrf_input, flash, pending_state, render

routes = web.RouteTableDef()

Submitted = Mapping[str, Sequence[str]]

SINGLE = Tpl("""<section class="table" aria-labelledby="t-$name">
<h2 id="t-$name">$title</h2><p class="help">$help</p>
<form method="post" action="/config/$slug/save" class="card" novalidate id="form-$name">$csrf
$fields<div class="actions"><button class="primary">Save</button></div></form></section>""")

ARRAY = Tpl("""<section class="table" aria-labelledby="t-$name">
<h2 id="t-$name">$title</h2><p class="help">$help</p>
$entries
<details class="add card"$add_open><summary>Add $one</summary>
<form method="post" action="/config/$slug/add" novalidate>$csrf
<input type="hidden" name="_table" value="$name">$add_error
$add_fields<p class="help">The other settings take their defaults; change them after adding.</p>
<div class="actions"><button class="primary">Add</button></div></form></details></section>""")

ENTRY = Tpl("""<details class="entry card" id="$anchor"$open><summary>$title $badge</summary>
<form method="post" action="/config/$slug/save" novalidate>$csrf$entry_error
$fields<div class="actions"><button class="primary">Save</button>
$extra<button class="danger" formaction="/config/$slug/delete" name="_delete" value="$path"
 data-confirm="Delete $path? (staged: Apply makes it so)">Delete</button></div>
</form></details>""")

ONE = {"fxs": "a phone port", "fxo": "a line port", "trunk": "a trunk",
       "outbound": "an outbound route", "inbound": "an inbound route",
       "group": "a hunt group", "menu": "a voice menu", "schedule": "office hours"}


def _page(slug: str) -> ConfigPage:
    page = next((p for p in PAGES if p.slug == slug), None)
    if page is None:
        raise web.HTTPNotFound()
    return page


async def candidate(request: web.Request) -> dict[str, Any]:
    shown = await command(request, "config.show",
                                   {"candidate": True, "json": True})
    doc: dict[str, Any] = shown["config"]
    return doc


async def show(request: web.Request, slug: str, *, errors: Mapping[str, str] | None = None,
               submitted: Submitted | None = None, add_errors: Mapping[str, str] | None = None,
               add_submitted: Submitted | None = None, add_open: str = "",
               status: int = 200) -> web.Response:
    page = _page(slug)
    caller = known_caller(request)
    doc = await candidate(request)
    shown_errors: dict[str, str] = {}
    state = await pending_state(request, caller)
    for problem in (state or {}).get("problems") or []:
        shown_errors.setdefault(str(problem.get("path", "")), str(problem.get("message", "")))
    shown_errors.update(errors or {})
    trunks: dict[str, Any] = {}
    if slug == "trunks":
        status_now = await ctx(request).run(caller, "status")
        trunks = (status_now.get("sip") or {}).get("trunks") or {}
    sections = []
    csrf = csrf_input(request)
    for info in page_tables(page):
        help_text = sentence(info.help)
        if not info.array:
            sections.append(SINGLE(
                name=info.name, title=table_title(info.name), help=help_text, slug=slug,
                csrf=csrf,
                fields=form_fields(info, info.name, doc.get(info.name) or {}, shown_errors,
                                   submitted or {})))
            continue
        entries = []
        rows = doc.get(info.name) or []
        for position, entry in enumerate(rows, start=1):
            path = entry_path(info, entry, position)
            mine = {p: m for p, m in shown_errors.items()
                    if p == path or p.startswith(path + ".")}
            badge, extra = _trunk_bits(info, entry, trunks)
            entries.append(ENTRY(
                anchor=f"entry-{path}", open=Html(" open" if mine or len(rows) <= 2 else ""),
                title=entry_title(info, entry, position), badge=badge, slug=slug, csrf=csrf,
                entry_error=_entry_error(shown_errors.get(path, "")),
                fields=form_fields(info, path, entry, shown_errors, submitted or {}),
                extra=extra, path=path))
        mine_add = add_errors if add_open == info.name else {}
        sections.append(ARRAY(
            name=info.name, title=table_title(info.name), help=help_text, slug=slug,
            csrf=csrf,
            entries=join(entries) if entries else element(
                "p", f"No {table_title(info.name).lower()} yet."),
            one=ONE.get(info.name, "an entry"),
            add_open=Html(" open" if add_open == info.name else ""),
            add_error=_entry_error((mine_add or {}).get("", "")),
            add_fields=add_fields(info, mine_add or {},
                                  (add_submitted or {}) if add_open == info.name else {})))
    body = join([element("p", page.intro, class_="intro"), *sections])
    return await render(request, page.title, body, status=status, pending=state)


def _entry_error(text: str) -> Html:
    return element("p", text, class_="field-error", role="alert") if text else Html("")


def _trunk_bits(info: TableInfo, entry: Mapping[str, Any],
                trunks: Mapping[str, Any]) -> tuple[Html, Html]:
    if info.name != "trunk":
        return Html(""), Html("")
    name = str(entry.get("name", ""))
    reg = (trunks.get(name) or {}).get("registration") or {}
    state = str(reg.get("state", "not running yet"))
    css = {"registered": "call", "failed": "bad", "registering": "busy"}.get(state, "idle")
    badge = element("span", state, class_=f"badge {css}")
    button = element("button", "Test registration", formaction="/config/trunks/test",
                     name="_trunk", value=name)
    return badge, button


@routes.get("/config/{slug}")
@needs("installer")
async def config_page(request: web.Request) -> web.Response:
    return await show(request, request.match_info["slug"])


def _submitted(form: Mapping[str, Any], keys: Sequence[str]) -> dict[str, list[str]]:
    getall = form.getall  # type: ignore[attr-defined]
    return {k: [str(v) for v in getall(k)] for k in keys}


@routes.post("/config/{slug}/save")
@needs("installer")
async def save(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["slug"]
    _page(slug)
    c = ctx(request)
    caller = known_caller(request)
    form = await request.post()
    keys = list(dict.fromkeys(k for k in form if not k.startswith("_")))
    submitted = _submitted(form, keys)
    doc = await candidate(request)
    errors: dict[str, str] = {}
    changes: list[tuple[bool, str, str]] = []
    for path in keys:
        try:
            field = field_at(doc, path)
        except PathError as exc:
            errors.update(by_path(exc.fields))
            continue
        text = submitted_text(field, submitted[path])
        if field.secret and text in ("", MASK):
            continue  # a password left empty stays as it is
        try:
            new = parse_value(field, text, path)
        except PathError as exc:
            errors.update(by_path(exc.fields))
            continue
        if new == get_path(doc, path):
            continue
        table_key = next((t.key for t in tables() if t.name == field.table), None)
        changes.append((field.key == table_key, path, text))
    staged = []
    # The natural key (port, name) last: it renames the entry the other fields live in.
    for _is_key, path, text in sorted(changes, key=lambda ch: ch[0]):
        try:
            await c.run(caller, "config.set", {"path": path, "value": text})
            staged.append(path)
        except PbxError as exc:
            found = by_path(error_fields(exc))
            errors.update(found if found else {path: str(exc)})
    if staged:
        flash(request, "ok", f"Staged: {', '.join(staged)}. Apply in the bar above.")
    if errors:
        return await show(request, slug, errors=errors, submitted=submitted, status=400)
    if not staged:
        flash(request, "info", "Nothing changed.")
    raise web.HTTPSeeOther(f"/config/{slug}")


@routes.post("/config/{slug}/add")
@needs("installer")
async def add(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["slug"]
    page = _page(slug)
    form = await request.post()
    table = str(form.get("_table", ""))
    info = next((t for t in page_tables(page) if t.name == table and t.array), None)
    if info is None:
        raise web.HTTPBadRequest(text=f"no table {table!r} to add to on this page")
    by_key = {f.key: f for f in fields_for(info)}
    keys = [k for k in form if not k.startswith("_")]
    submitted = _submitted(form, list(dict.fromkeys(keys)))
    values = {}
    for pattern, texts in submitted.items():
        key = pattern.rsplit(".", 1)[-1]
        if key in by_key:
            values[key] = submitted_text(by_key[key], texts)
    try:
        result = await command(request, "config.add",
                                        {"table": table, "values": json.dumps(values)})
    except PbxError as exc:
        errors: dict[str, str] = {}
        for path, message in by_path(error_fields(exc)).items():
            key = path.rsplit(".", 1)[-1]
            target = by_key[key].path if key in by_key else ""
            errors[target] = f"{errors[target]}; {message}" if target in errors else message
        if not errors:
            errors[""] = str(exc)
        return await show(request, slug, add_errors=errors, add_submitted=submitted,
                          add_open=table, status=400)
    path = str(result.get("path", table))
    flash(request, "ok", f"Added {path} (staged). Apply it in the bar above.")
    raise web.HTTPSeeOther(f"/config/{slug}#entry-{path}")


@routes.post("/config/{slug}/delete")
@needs("installer")
async def delete(request: web.Request) -> web.StreamResponse:
    slug = request.match_info["slug"]
    _page(slug)
    form = await request.post()
    path = str(form.get("_delete", ""))
    try:
        await command(request, "config.delete", {"path": path})
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", f"Deleted {path} (staged). Apply it in the bar above.")
    raise web.HTTPSeeOther(f"/config/{slug}")


@routes.post("/config/trunks/test")
@needs("installer")
async def test_registration(request: web.Request) -> web.StreamResponse:
    """Send the trunk's REGISTER now (``trunk.register``) and say what the registrar
    answered; the command waits a few seconds for it."""
    form = await request.post()
    name = str(form.get("_trunk", ""))
    try:
        result = await command(request, "trunk.register", {"name": name})
    except PbxError as exc:
        flash(request, "error", str(exc))
    else:
        reg = result.get("registration") or {}
        if not result.get("answered"):
            flash(request, "error", f"Trunk {name}: REGISTER sent, no answer yet (state "
                                    f"{reg.get('state', '?')}); check the host and port.")
        elif reg.get("state") == "registered":
            flash(request, "ok", f"Trunk {name}: registered ({_reg_text(reg)}).")
        else:
            flash(request, "error", f"Trunk {name}: {_reg_text(reg)}.")
    raise web.HTTPSeeOther(f"/config/trunks#entry-trunk.{name}")


def _reg_text(reg: dict[str, Any]) -> str:
    bits = [str(reg.get("state", "?"))]
    if reg.get("code"):
        bits.append(f"{reg['code']} {reg.get('reason', '')}".strip())
    if reg.get("code") in (401, 403, 407):
        bits.append("check the user name and password")
    return ", ".join(bits)
