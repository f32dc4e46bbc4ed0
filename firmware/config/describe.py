"""What can be set, and how: the one description of the schema for every front end.

The web page builds its forms from :func:`tables` and :func:`schema_fields`; the serial
console completes paths and values from them; ``config set`` parses values by them. All of
it is read from the dataclasses of ``firmware.config.schema`` (types, defaults, help text,
ranges), so a new setting is declared once, there.

A field's ``path`` is its PATH pattern as ``config set`` takes it: a single table's key is
``table.key`` (``box.country``); an array of tables names its entry by its natural key
(``fxs.<port>.extension``, ``trunk.<name>.password``) or, where order matters and there is no
key, by its 1-based position (``outbound.<n>.pattern``).

``restart`` marks the settings the running box cannot change in place (the SIP endpoint's
transports and addresses, the line board): a commit accepts them and says that a restart
applies them. Whether an added line port needs a restart depends on the board, so the app
decides that one at commit time.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin, get_type_hints

from firmware.config.schema import Config

FieldType = Literal["str", "int", "float", "bool", "list", "choice"]

ARRAY_KEYS: dict[str, str] = {
    "fxs": "port",
    "fxo": "port",
    "trunk": "name",
    "sip_user": "extension",
    "outbound": "position",
    "inbound": "position",
    "group": "name",
    "menu": "name",
    "schedule": "name",
    "peer_site": "name",
}
"""How an entry of each array of tables is named in a PATH: by one of its keys, or by its
1-based position (``"position"``) where the order is the meaning (first match wins)."""

RESTART_TABLES = frozenset({"sip"})
"""Tables whose every setting needs a restart: pjsua2 binds its transports once."""

RESTART_PATHS = frozenset({"box.board"})
"""Single settings that need a restart: the line board is built at start-up."""

SECRET_KEYS = frozenset({"password", "token"})
"""Keys shown as ``********`` (the web form leaves them empty: unchanged)."""

MASK = "********"


@dataclass(frozen=True)
class FieldInfo:
    """One setting: where it sits, what it takes, and what it does."""

    path: str  # PATH pattern: "box.country", "fxs.<port>.extension", "outbound.<n>.trunk"
    table: str
    key: str
    type: FieldType
    choices: tuple[str, ...]  # "choice": the allowed values; "list": the allowed items
    lo: float | None
    hi: float | None
    default: Any  # None for a required field; a list for a list field
    required: bool
    help: str
    secret: bool
    restart: bool

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TableInfo:
    """One table of the file: ``[box]`` or an array such as ``[[fxs]]``."""

    name: str
    array: bool
    key: str | None  # arrays: "port", "name" or "position"; single tables: None
    help: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def placeholder(self) -> str:
        """How an entry shows in a PATH pattern: ``<port>``, ``<name>``, ``<n>``."""
        return "<n>" if self.key == "position" else f"<{self.key}>"


@functools.cache
def tables() -> tuple[TableInfo, ...]:
    """Every table, in file order."""
    out: list[TableInfo] = []
    hints = get_type_hints(Config)
    for f in dataclasses.fields(Config):
        tp = hints[f.name]
        array = get_origin(tp) is tuple
        cls = get_args(tp)[0] if array else tp
        out.append(TableInfo(f.name, array, ARRAY_KEYS.get(f.name) if array else None,
                             _table_help(cls)))
    return tuple(out)


def table(name: str) -> TableInfo | None:
    return next((t for t in tables() if t.name == name), None)


@functools.cache
def schema_fields() -> tuple[FieldInfo, ...]:
    """Every setting of every table, in file order."""
    out: list[FieldInfo] = []
    hints = get_type_hints(Config)
    for info in tables():
        tp = hints[info.name]
        cls = get_args(tp)[0] if info.array else tp
        prefix = f"{info.name}.{info.placeholder}" if info.array else info.name
        for f in dataclasses.fields(cls):
            out.append(_field(info.name, prefix, f, get_type_hints(cls)[f.name]))
    return tuple(out)


@functools.cache
def fields_of(table_name: str) -> dict[str, FieldInfo]:
    """The settings of one table, by key (empty for an unknown table)."""
    return {f.key: f for f in schema_fields() if f.table == table_name}


def field_info(table_name: str, key: str) -> FieldInfo | None:
    return fields_of(table_name).get(key)


def _field(table_name: str, prefix: str, f: dataclasses.Field[Any], tp: Any) -> FieldInfo:
    kind: FieldType
    choices: tuple[str, ...] = ()
    origin = get_origin(tp)
    if origin is tuple:
        kind = "list"
        item = get_args(tp)[0]
        if get_origin(item) is Literal:
            choices = tuple(str(c) for c in get_args(item))
    elif origin is Literal:
        kind = "choice"
        choices = tuple(str(c) for c in get_args(tp))
    elif tp is bool:
        kind = "bool"
    elif tp is int:
        kind = "int"
    elif tp is float:
        kind = "float"
    else:
        kind = "str"
    required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    default: Any = None if required else f.default
    if isinstance(default, tuple):
        default = list(default)
    path = f"{prefix}.{f.name}"
    plain = f"{table_name}.{f.name}"
    return FieldInfo(
        path=path, table=table_name, key=f.name, type=kind, choices=choices,
        lo=f.metadata.get("lo"), hi=f.metadata.get("hi"), default=default, required=required,
        help=str(f.metadata.get("help", "")), secret=f.name in SECRET_KEYS,
        restart=table_name in RESTART_TABLES or plain in RESTART_PATHS)


def _table_help(cls: Any) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0].split(": ", 1)[-1] if doc else ""
