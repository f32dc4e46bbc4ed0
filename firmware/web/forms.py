"""Forms generated from the configuration schema (firmware.config.describe), LuCI style:
one form per single table, one per entry of an array of tables, and an "add" form per array.

Rules:
- Every field's ``name`` is its configuration PATH, exactly as ``config set`` takes it
  (``fxs.1.extension``); the add form, whose entry has no PATH yet, names its fields by the
  PATH pattern (``fxs.<port>.extension``). Every field has a visible label and its help text
  (tied by aria-describedby), and an error shows right under it.
- Forms are sent with ``novalidate``: the schema's own message is the one a person sees, not
  the browser's.
- Booleans are a hidden "false" plus a checkbox "true" (the last value wins); lists with a
  fixed set of items are a group of checkboxes after a hidden empty marker; passwords are
  never shown (the mask stands for "unchanged").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firmware.config.describe import MASK, FieldInfo, TableInfo, fields_of, tables
from firmware.web.html import Html, Tpl, element, join, void

WORDS = {"id": "ID", "sip": "SIP", "rtp": "RTP", "tls": "TLS", "dtmf": "DTMF", "did": "DID",
         "fxs": "FXS", "fxo": "FXO", "ms": "(ms)", "s": "(s)", "hz": "(Hz)", "db": "(dB)"}


@dataclass(frozen=True)
class ConfigPage:
    slug: str
    title: str
    tables: tuple[str, ...]
    intro: str


PAGES = (
    ConfigPage("box", "Box", ("box", "sip", "web", "console"),
               "The box itself: its name, country and board, its SIP endpoint, this web page "
               "and the serial console."),
    ConfigPage("phones", "Phones (FXS ports)", ("fxs",),
               "Each analog handset port: its extension, caller ID and hook timing."),
    ConfigPage("lines", "Lines (FXO ports)", ("fxo",),
               "Each PSTN line port: the extension that rings for an incoming call, and how "
               "the far end's hang-up is detected."),
    ConfigPage("trunks", "Trunks", ("trunk",),
               "SIP providers and peer boxes, with their registration."),
    ConfigPage("routes", "Routes", ("outbound", "inbound"),
               "Outbound: dialled numbers that leave through a trunk (the first match wins). "
               "Inbound: calls from trunks, by the number they were made to."),
    ConfigPage("dialplan", "Dial plan", ("dialplan",), "Digit collection and ring timers."),
    ConfigPage("office", "Office", ("group", "menu", "schedule"),
               "Hunt groups behind one number, voice menus and office hours; routes and menu "
               "choices send calls to them (group:NAME, menu:NAME)."),
)


TABLE_TITLES = {"box": "Box", "sip": "SIP endpoint", "web": "Web page",
                "console": "Serial console", "fxs": "Phone ports", "fxo": "Line ports",
                "trunk": "Trunks", "dialplan": "Dial plan", "outbound": "Outbound routes",
                "inbound": "Inbound routes", "group": "Hunt groups", "menu": "Voice menus",
                "schedule": "Office hours", "inform": "Auto-informer",
                "callback": "Web call-back"}


def table_title(name: str) -> str:
    return TABLE_TITLES.get(name) or label(name)


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def page_of_table(name: str) -> ConfigPage:
    """The page that edits table ``name``; a table no page names lands on the Box page, so a
    table added to the schema appears without a change here."""
    return next((p for p in PAGES if name in p.tables), PAGES[0])


def page_tables(page: ConfigPage) -> list[TableInfo]:
    named = {t for p in PAGES for t in p.tables}
    return [t for t in tables()
            if t.name in page.tables or (page is PAGES[0] and t.name not in named)]


def page_of_path(path: str) -> ConfigPage:
    return page_of_table(path.split(".", 1)[0])


def label(key: str) -> str:
    words = [WORDS.get(w, w) for w in key.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def value_text(field: FieldInfo, value: Any) -> str:
    """A value as ``config set`` takes it back."""
    if value is None:
        return ""
    if field.type == "bool":
        return "true" if value else "false"
    if field.type == "list":
        return ", ".join(str(v) for v in value)
    if field.type == "float":
        return f"{float(value):g}"
    return str(value)


def submitted_text(field: FieldInfo, values: Sequence[str]) -> str:
    """What the form sent for one PATH, as ``config set`` text."""
    if field.type == "list" and field.choices:
        return ",".join(v for v in values if v)
    return values[-1] if values else ""


def entry_path(info: TableInfo, entry: Mapping[str, Any], position: int) -> str:
    natural = position if info.key == "position" else entry.get(info.key or "")
    return f"{info.name}.{natural}"


def entry_title(info: TableInfo, entry: Mapping[str, Any], position: int) -> str:
    if info.name in ("fxs", "fxo"):
        kind = "Phone" if info.name == "fxs" else "Line"
        name = f" · {entry['name']}" if entry.get("name") else ""
        return f"{kind} {entry.get('port')} · extension {entry.get('extension')}{name}"
    if info.name == "trunk":
        return f"{entry.get('name')} · {entry.get('host')}"
    if info.name == "outbound":
        return f"#{position} · {entry.get('pattern')} → {entry.get('trunk')}"
    if info.name == "inbound":
        return f"#{position} · {entry.get('did')} → {entry.get('extension')}"
    key = info.key or ""
    return f"{label(info.name)} {entry.get(key, position)}"


FIELD = Tpl("""<div class="field$cls">$label_html$control$help$error</div>""")


_STATIC: dict[str, tuple[Html, Html]] = {}
"""PATH -> (label text with its tags, help line): the parts of a field that depend on the
schema alone, built once (a PATH always names the same setting)."""


def _static_parts(field: FieldInfo, path: str) -> tuple[Html, Html]:
    parts = _STATIC.get(path)
    if parts is None:
        tags = join([element("span", "restart", class_="tag",
                             title="applied by a restart of the box")] if field.restart else [])
        parts = (join([label(field.key), " ", tags]), _help(field, f"h-{path}"))
        if len(_STATIC) < 4096:
            _STATIC[path] = parts
    return parts


def field_html(field: FieldInfo, path: str, value: Any, *, error: str = "",
               submitted: Sequence[str] | None = None, readonly: bool = False) -> Html:
    """One labelled control whose name is ``path``."""
    fid = f"f-{path}"
    help_id = f"h-{path}"
    err_id = f"e-{path}"
    described = f"{help_id} {err_id}" if error else help_id
    text = (submitted_text(field, submitted) if submitted is not None
            else value_text(field, value))
    label_text, help_html = _static_parts(field, path)
    common: dict[str, Any] = {"id": fid, "name": path, "aria_describedby": described,
                              "aria_invalid": "true" if error else None,
                              "disabled": readonly}
    if field.type == "bool":
        checked = text.strip().lower() in ("true", "yes", "on", "1")
        control = join([void("input", type="hidden", name=path, value="false",
                             disabled=readonly),
                        void("input", type="checkbox", value="true", checked=checked,
                             **common)])
        label_html = element("label", label_text, for_=fid)
        return FIELD(cls=" check", label_html=join([control, label_html]), control="",
                     help=help_html, error=_error(error, err_id))
    label_html = element("label", label_text, for_=fid)
    if field.type == "choice":
        options = [element("option", c or "(default)", value=c, selected=c == text)
                   for c in field.choices]
        control = element("select", join(options), **common)
    elif field.type == "list" and field.choices:
        chosen = {v.strip() for v in text.split(",")}
        boxes = [element("label", join([void("input", type="checkbox", name=path, value=c,
                                                checked=c in chosen, disabled=readonly),
                                           " ", c]), class_="inline") for c in field.choices]
        group = element("fieldset", join([
            element("legend", label_text),
            void("input", type="hidden", name=path, value="", disabled=readonly),
            join(boxes), help_html, _error(error, err_id)]),
            class_="group", id=fid, aria_describedby=described)
        return FIELD(cls=" list", label_html="", control=group, help="", error="")
    elif field.secret:
        control = void("input", type="password", autocomplete="new-password",
                       placeholder="unchanged" if text else "not set",
                       value=MASK if text == MASK else text, **common)
    elif field.type in ("int", "float"):
        control = void("input", type="text", inputmode="decimal" if field.type == "float"
                       else "numeric", value=text, autocomplete="off", **common)
    else:
        control = void("input", type="text", value=text, autocomplete="off",
                       spellcheck="false", **common)
    return FIELD(cls="", label_html=label_html, control=control, help=help_html,
                 error=_error(error, err_id))


def _help(field: FieldInfo, help_id: str) -> Html:
    bits = [field.help]
    if field.type in ("int", "float") and (field.lo is not None or field.hi is not None):
        bits.append(f"{_num(field.lo)} to {_num(field.hi)}")
    if field.type == "list" and not field.choices:
        bits.append("separate items with commas")
    if field.default not in (None, "", []) and field.type != "bool":
        default = (", ".join(map(str, field.default)) if isinstance(field.default, list)
                   else field.default)
        bits.append(f"default {default}")
    return element("small", "; ".join(b for b in bits if b), id=help_id)


def _num(value: float | None) -> str:
    if value is None:
        return "…"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _error(error: str, err_id: str) -> Html:
    return element("p", error, class_="field-error", id=err_id) if error else Html("")


def fields_for(info: TableInfo) -> list[FieldInfo]:
    return list(fields_of(info.name).values())


def form_fields(info: TableInfo, prefix: str, entry: Mapping[str, Any],
                errors: Mapping[str, str], submitted: Mapping[str, Sequence[str]],
                readonly: bool = False) -> Html:
    out = []
    for field in fields_for(info):
        path = f"{prefix}.{field.key}"
        out.append(field_html(field, path, entry.get(field.key, field.default),
                              error=errors.get(path, ""), submitted=submitted.get(path),
                              readonly=readonly))
    return join(out)


def add_fields(info: TableInfo, errors: Mapping[str, str],
               submitted: Mapping[str, Sequence[str]]) -> Html:
    """The add form: the entry's required settings, and any other that an error names or
    the person already filled in, named by their PATH pattern."""
    out = []
    for field in fields_for(info):
        if not (field.required or field.path in errors or field.path in submitted):
            continue
        out.append(field_html(field, field.path, None, error=errors.get(field.path, ""),
                              submitted=submitted.get(field.path)))
    return join(out)
