"""Write a :class:`Config` as TOML text that reads back equal: ``parse(to_toml(c)) == c``.

tomllib reads but does not write, and our schema needs only a small part of TOML: tables,
arrays of tables, strings, integers, floats, booleans and flat lists of strings. Every key is
written, defaults included, in schema order, so the output is also a complete list of what
can be set. With ``comments=True`` each table and key carries its help text from the schema.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from firmware.config.describe import MASK, SECRET_KEYS
from firmware.config.schema import Config

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def to_toml(config: Config, *, comments: bool = False) -> str:
    """The TOML text of ``config``; ``comments`` adds each key's help as a comment."""
    blocks: list[list[str]] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, tuple):
            blocks.extend(_table(f"[[{f.name}]]", item, comments) for item in value)
        else:
            blocks.append(_table(f"[{f.name}]", value, comments))
    return "\n".join("\n".join(block) + "\n" for block in blocks)


def masked(config: Config) -> Config:
    """``config`` with every secret (passwords, tokens: ``describe.SECRET_KEYS``) shown
    as ``********``; an empty secret stays empty, so a reader sees which are set."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if isinstance(value, tuple):
            hidden = tuple(_hide(item) for item in value)
            if hidden != value:
                changes[f.name] = hidden
        elif (hidden_table := _hide(value)) != value:
            changes[f.name] = hidden_table
    return dataclasses.replace(config, **changes)


def _hide(table: Any) -> Any:
    if not dataclasses.is_dataclass(table) or isinstance(table, type):
        return table
    secrets = {f.name: MASK for f in dataclasses.fields(table)
               if f.name in SECRET_KEYS and getattr(table, f.name)}
    return dataclasses.replace(table, **secrets) if secrets else table


def _table(header: str, table: Any, comments: bool) -> list[str]:
    lines: list[str] = []
    doc = type(table).__doc__
    if comments and doc:
        lines.append(f"# {doc.strip().splitlines()[0].split(': ', 1)[-1]}")
    lines.append(header)
    for f in dataclasses.fields(table):
        help_text = f.metadata.get("help", "")
        if comments and help_text:
            lines.append(f"# {help_text}")
        lines.append(f"{f.name} = {toml_value(getattr(table, f.name))}")
    return lines


def toml_value(value: object) -> str:
    """One value as TOML: a basic string, number, boolean or flat list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ("-" if value < 0 else "") + ("nan" if math.isnan(value) else "inf")
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(_escape(c) for c in value) + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}: {value!r}")


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char
