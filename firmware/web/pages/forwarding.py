"""Forwarding and do-not-disturb on the web page (issue 11): the form a person sees on
"My phone" for their own extension, and the Forwarding page where an admin sees every
phone port and IP phone and changes any of them. An IP phone takes one call at a time, so
its form has no call waiting.

Everything goes through the ``forwarding`` commands (firmware/commands/forwarding_cmds.py),
which decide who may change which extension (another's is 403 here) and keep the values in
the store the star codes use, so a star code's change shows at the next page load and a
change here rings at the next call. The form works without JavaScript: a plain POST, each
refusal shown at its field (named in a summary at the top too), the values typed kept.
Field names are the settings' own: forward_always, forward_busy, forward_no_answer,
forward_after_s, dnd, call_waiting (a hidden "false" before each checkbox: the last wins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web

from firmware.core.errors import NotFoundError, PbxError, PermissionDeniedError
from firmware.web.auth import needs
from firmware.web.context import command, known_caller
from firmware.web.fielderrors import by_path, error_fields
from firmware.web.html import Html, Tpl, element, join, void
from firmware.web.layout import csrf_input, flash, render

routes = web.RouteTableDef()

TARGETS = ("forward_always", "forward_busy", "forward_no_answer")
CHECKS = ("dnd", "call_waiting")
FIELDS = (*TARGETS, "forward_after_s", *CHECKS)

LABELS = {"forward_always": "Forward every call to",
          "forward_busy": "Forward when busy to",
          "forward_no_answer": "Forward when not answered to",
          "forward_after_s": "Ring for (seconds) before forwarding",
          "dnd": "Do not disturb", "call_waiting": "Call waiting"}
SHORT = {"forward_always": "forward always", "forward_busy": "forward when busy",
         "forward_no_answer": "forward when not answered",
         "forward_after_s": "no-answer time", "dnd": "do not disturb",
         "call_waiting": "call waiting"}
HELP = {"forward_always": "An extension, a group's number or an outside number, as you "
                          "would dial it; empty: off.",
        "forward_busy": "While your phone is in a call; empty: off.",
        "forward_no_answer": "When nobody answers in the time below; empty: off.",
        "forward_after_s": "1 to 300 seconds: how long your phone rings first.",
        "dnd": "Your phone does not ring; callers hear busy (or reach your mailbox).",
        "call_waiting": "A second caller during a call gives you a tone; a flash of the "
                        "hook answers."}

FORM = Tpl("""<form method="post" action="$action" class="card" id="forwarding"
 novalidate>$csrf$summary$now
$fields
<p class="help">A change runs at once, like the star codes on the $device.</p>
<div class="actions"><button class="primary">Save forwarding</button></div></form>""")

SUMMARY = Tpl("""<div class="flash error" role="alert" id="forwarding-errors">
<p>Not saved: nothing was changed. Fix the field$plural below:</p><ul>$items</ul></div>""")


def _fid(name: str) -> str:
    return f"fw-{name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def _shown(name: str, value: Any) -> str:
    """A value as a sentence says it: "to 103", "off", "12 s", "on"."""
    if name == "forward_after_s":
        return f"{_text(value)} s"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"to {value}" if value else "off"


def _help(view: Mapping[str, Any], name: str) -> str:
    bits = [HELP[name]]
    codes = (view.get("codes") or {}).get(name)
    if codes:
        on, off = codes
        where = "On the phone" if view.get("phone") else "On the handset"
        bits.append(f"{where}: {on} + number, {off} off." if name in TARGETS
                    else f"{where}: {on} on, {off} off.")
    configured = (view.get("configured") or {}).get(name)
    if configured is not None and configured != (view.get("current") or {}).get(name):
        shown = _text(configured) or "off"
        bits.append(f"The configuration says: {shown}.")
    return " ".join(bits)


def _field(view: Mapping[str, Any], name: str, error: str,
           submitted: Sequence[str] | None) -> Html:
    fid, help_id, err_id = _fid(name), f"fw-h-{name}", f"fw-e-{name}"
    text = submitted[-1] if submitted else _text(view["current"].get(name))
    attrs: dict[str, Any] = {"id": fid, "name": name,
                             "aria_describedby": f"{help_id} {err_id}" if error else help_id,
                             "aria_invalid": "true" if error else None}
    help_html = element("small", _help(view, name), id=help_id)
    error_html = element("p", error, class_="field-error", id=err_id) if error else Html("")
    label = element("label", LABELS[name], for_=fid)
    if name in CHECKS:
        box = join([void("input", type="hidden", name=name, value="false"),
                    void("input", type="checkbox", value="true",
                         checked=text.lower() in ("true", "on", "1", "yes"), **attrs)])
        return element("div", join([box, label, help_html, error_html]), class_="field check")
    control = void("input", type="text", value=text, autocomplete="off", spellcheck="false",
                   inputmode="decimal" if name == "forward_after_s" else "tel", **attrs)
    return element("div", join([label, control, help_html, error_html]), class_="field")


def now_text(current: Mapping[str, Any], phone: str = "your phone") -> str:
    """One sentence: where a call to this extension goes now."""
    if current.get("dnd"):
        return f"Do not disturb is on: {phone} does not ring."
    if current.get("forward_always"):
        return f"Every call goes to {current['forward_always']}."
    bits = []
    if current.get("forward_busy"):
        bits.append(f"to {current['forward_busy']} while busy")
    if current.get("forward_no_answer"):
        bits.append(f"to {current['forward_no_answer']} after "
                    f"{_text(current.get('forward_after_s'))} s without an answer")
    return (f"Calls ring {phone}, and go " + " and ".join(bits) + "." if bits
            else f"Calls ring {phone}.")


def form_html(view: Mapping[str, Any], csrf: Html, action: str,
              errors: Mapping[str, str] | None = None,
              submitted: Mapping[str, Sequence[str]] | None = None,
              own: bool = True) -> Html:
    """The form for ``view`` (forwarding.show's answer); ``own``: the reader's own
    extension (My phone), else an admin's view of another's."""
    errors = errors or {}
    submitted = submitted or {}
    fields = join(_field(view, name, errors.get(name, ""), submitted.get(name))
                  for name in FIELDS if not (view.get("phone") and name == "call_waiting"))
    summary = Html("")
    if errors:
        items = join(element("li", join([
            element("a", LABELS.get(name, name or "Forwarding"), href=f"#{_fid(name)}"),
            f": {message}"])) for name, message in errors.items())
        summary = SUMMARY(plural="s" if len(errors) > 1 else "", items=items)
    now = element("p", join([element("strong", "Now: "),
                             now_text(view["current"], "your phone" if own else "the phone")]),
                  class_="now", id="forwarding-now")
    return FORM(action=action, csrf=csrf, summary=summary, now=now, fields=fields,
                device="phone" if view.get("phone") else "handset")


async def section(request: web.Request, extension: str | None, action: str,
                  errors: Mapping[str, str] | None = None,
                  submitted: Mapping[str, Sequence[str]] | None = None) -> Html:
    """The form for ``extension`` (None: one's own), or why there is none."""
    try:
        view = await command(request, "forwarding.show",
                             {"extension": extension} if extension else {})
    except PbxError as exc:
        return element("p", str(exc), class_="help")
    return form_html(view, csrf_input(request), action, errors, submitted,
                     own=extension is None)


async def submit(request: web.Request, extension: str | None
                 ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Runs the posted form: (errors by field, what was sent); a success is flashed. A
    change refused as not one's own is the 403 page (PermissionDeniedError passes)."""
    form = await request.post()
    submitted = {k: [str(v) for v in form.getall(k)] for k in FIELDS if k in form}
    args: dict[str, Any] = {k: v[-1] for k, v in submitted.items()}
    if extension:
        args["extension"] = extension
    try:
        result = await command(request, "forwarding.set", args)
    except PermissionDeniedError:
        raise
    except PbxError as exc:
        errors = by_path(error_fields(exc)) or {"": str(exc)}
        return errors, submitted
    now = result.get("current", {})
    changed = [f"{SHORT[k]} {_shown(k, now.get(k))}" for k in FIELDS
               if k in result.get("changed", [])]
    text = (f"Saved for extension {result['extension']}: {', '.join(changed)}."
            if changed else "Nothing changed.")
    if not result.get("saved", True):
        text += " It runs now, but the box could not save it: it is lost at a restart."
    flash(request, "ok" if result.get("saved", True) else "error", text)
    return {}, submitted


async def forbidden(request: web.Request, exc: PbxError) -> web.Response:
    body = element("p", join([str(exc), ". Go back to ", element("a", "My phone", href="/me"),
                              "."]), class_="flash error")
    return await render(request, "Not allowed", body, status=403)


LIST_HEAD = "".join(f'<th scope="col">{h}</th>' for h in
                    ("Extension", "Where calls go now", "Call waiting"))


@routes.get("/forwarding")
@needs("user")
async def listing(request: web.Request) -> web.StreamResponse:
    """An admin: every phone port; anyone else: their own form, on My phone."""
    if known_caller(request).role != "admin":
        raise web.HTTPSeeOther("/me#forwarding")
    try:
        ports = await command(request, "forwarding.list")
    except PbxError as exc:
        return await render(request, "Forwarding", element("p", str(exc), class_="help"))
    rows = [element("tr", join([
        element("th", join([
            element("a", p["extension"], href=f"/forwarding/{quote(p['extension'])}",
                    aria_label=f"Change extension {p['extension']}"),
            element("small", f"port {p['port']}" if p.get("port") else "IP phone")]),
            scope="row"),
        element("td", now_text(p["current"], "the phone")),
        element("td", "—" if p.get("phone") else
                "on" if p["current"].get("call_waiting") else "off")]),
        data_extension=p["extension"]) for p in ports]
    body = join([
        element("p", "Forwarding and do-not-disturb of each phone port and IP phone, as the "
                     "star codes and each person's My phone page set them. Open an "
                     "extension to change it.", class_="intro"),
        Html(f'<div class="scroll"><table class="forwarding"><thead><tr>{LIST_HEAD}</tr>'
             f'</thead><tbody>{join(rows)}</tbody></table></div>') if rows
        else element("p", "No phone ports or IP phones.")])
    return await render(request, "Forwarding", body)


async def _page(request: web.Request, extension: str,
                errors: Mapping[str, str] | None = None,
                submitted: Mapping[str, Sequence[str]] | None = None,
                status: int = 200) -> web.Response:
    try:
        view = await command(request, "forwarding.show", {"extension": extension})
    except PermissionDeniedError as exc:
        return await forbidden(request, exc)
    except NotFoundError as exc:
        raise web.HTTPNotFound(text=f"{exc}\n") from None
    form = form_html(view, csrf_input(request), f"/forwarding/{quote(extension)}", errors,
                     submitted, own=known_caller(request).extension == extension)
    back = (element("p", element("a", "All phones", href="/forwarding"))
            if known_caller(request).role == "admin" else Html(""))
    return await render(request, f"Forwarding of extension {extension}", join([back, form]),
                        status=status)


@routes.get("/forwarding/{extension}")
@needs("user")
async def one(request: web.Request) -> web.StreamResponse:
    return await _page(request, request.match_info["extension"])


@routes.post("/forwarding/{extension}")
@needs("user")
async def save(request: web.Request) -> web.StreamResponse:
    extension = request.match_info["extension"]
    try:
        errors, submitted = await submit(request, extension)
    except PermissionDeniedError as exc:
        return await forbidden(request, exc)
    if errors:
        return await _page(request, extension, errors, submitted, status=400)
    raise web.HTTPSeeOther(f"/forwarding/{quote(extension)}")
