"""The PATH language of ``config set``: one setting of the TOML document, named the way a
person says it.

::

    box.country              a key of a single table
    fxs.1.extension          the [[fxs]] entry whose port is 1
    trunk.provider.password  the [[trunk]] entry whose name is "provider"
    outbound.2.pattern       the second [[outbound]] entry (1-based: order is meaning)
    fxs.1                    a whole entry (config delete)
    web                      a whole single table (config unset: all its defaults)

Rules:

- Functions take a parsed TOML document (a dict, as tomllib returns it) and return a new
  one; the document passed in is never changed.
- A value arrives as text (from a command line, a console or a form) and is parsed by the
  type of its field (:mod:`firmware.config.describe`): whole numbers, numbers, booleans
  (true/false, yes/no, on/off, 1/0), lists (``udp,tcp`` or ``["udp", "tcp"]``), text
  (optionally in double quotes, TOML escapes allowed). Ranges, choices and the rules between
  values are the schema's own checks, run on the whole document afterwards.
- ``set`` changes an entry that exists; ``add`` creates one (every required key given),
  so a half-made entry never exists.
- Every error is a :class:`PathError` whose lines start with the PATH, and whose ``fields``
  list them as ``{"path": ..., "message": ...}`` for a form to place at its field.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from firmware.config.describe import FieldInfo, TableInfo, fields_of, table, tables
from firmware.config.problems import KeyPath, did_you_mean
from firmware.core.errors import ConfigError

Document = dict[str, Any]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class PathError(ConfigError):
    """One or more settings were refused; each line is ``PATH: what is wrong``."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self.fields = [{"path": path, "message": message} for path, message in fields]
        super().__init__("\n".join(
            f"{f['path']}: {f['message']}" if f["path"] else f["message"] for f in self.fields))


def get_path(doc: Mapping[str, Any], path: str) -> Any:
    """The value (or table, or entry) at ``path``; KeyError-free: raises PathError."""
    info, index, key = locate(doc, path)
    container = _container(doc, info, index)
    if key is None:
        return copy.deepcopy(container)
    if key not in container:
        field = fields_of(info.name)[key]
        return copy.deepcopy(field.default)
    return copy.deepcopy(container[key])


def set_path(doc: Mapping[str, Any], path: str, text: str) -> Document:
    """A copy of ``doc`` with the setting at ``path`` set to ``text``, parsed by its type."""
    info, index, key = locate(doc, path)
    if key is None:
        raise PathError([(path, "names a table or an entry, not one setting; add the key, "
                                f"e.g. {_example(doc, info, index)}")])
    field = fields_of(info.name)[key]
    value = parse_value(field, text, path)
    if index is not None and key == info.key:
        clash = _find(doc[info.name], info, str(value))
        if clash is not None and clash != index:
            raise PathError([(path, f"{key} {value} is already used by another entry "
                                    f"({info.name}.{value}); choose a free one")])
    out = copy.deepcopy(dict(doc))
    _container(out, info, index, create=True)[key] = value
    return out


def unset_path(doc: Mapping[str, Any], path: str) -> Document:
    """A copy of ``doc`` with the setting at ``path`` back to its default (a single table:
    every setting of it); entries are removed with :func:`delete_path`."""
    info, index, key = locate(doc, path)
    out = copy.deepcopy(dict(doc))
    if key is None:
        if info.array:
            raise PathError([(path, f"is an entry; remove it with config delete {path}")])
        out.pop(info.name, None)
        return out
    field = fields_of(info.name)[key]
    if field.required:
        raise PathError([(path, f"is required and has no default; change it with config set "
                                f"{path} VALUE, or delete the entry")])
    _container(out, info, index, create=True).pop(key, None)
    return out


def delete_path(doc: Mapping[str, Any], path: str) -> Document:
    """A copy of ``doc`` without the entry at ``path`` (a key: as :func:`unset_path`)."""
    info, index, key = locate(doc, path)
    if key is not None or not info.array:
        return unset_path(doc, path)
    out = copy.deepcopy(dict(doc))
    assert index is not None
    del out[info.name][index]
    if not out[info.name]:
        del out[info.name]
    return out


def add_entry(doc: Mapping[str, Any], table_name: str,
              values: Mapping[str, str]) -> tuple[Document, str]:
    """A copy of ``doc`` with a new entry in the array ``table_name``, and the entry's PATH.

    ``values`` maps keys to text, parsed by their types; every required key must be there.
    """
    info = table(table_name)
    if info is None or not info.array:
        arrays = [t.name for t in tables() if t.array]
        hint = did_you_mean(table_name, arrays) or f"entries can be added to {', '.join(arrays)}"
        raise PathError([(table_name, f"is not a list of entries; {hint}")])
    fields = fields_of(info.name)
    problems: list[tuple[str, str]] = []
    entry: dict[str, Any] = {}
    for key, text in values.items():
        if key not in fields:
            hint = did_you_mean(key, list(fields)) or f"keys: {', '.join(fields)}"
            problems.append((f"{table_name}.{key}", f"unknown key; {hint}"))
            continue
        try:
            entry[key] = parse_value(fields[key], text, f"{table_name}.{key}")
        except PathError as exc:
            problems.extend((f["path"], f["message"]) for f in exc.fields)
    for key, field in fields.items():
        if field.required and key not in values:
            problems.append((f"{table_name}.{key}", f"missing; add {key}=..., {field.help}"))
    if problems:
        raise PathError(problems)
    entries = list(doc.get(info.name, []))
    if info.key not in (None, "position"):
        natural = entry[info.key]
        if any(e.get(info.key) == natural for e in entries):
            raise PathError([(f"{table_name}.{natural}",
                              f"already exists; change it with config set "
                              f"{table_name}.{natural}.KEY VALUE")])
    out = copy.deepcopy(dict(doc))
    out.setdefault(info.name, []).append(entry)
    return out, entry_path(out, info.name, len(out[info.name]) - 1)


def concrete_paths(doc: Mapping[str, Any]) -> list[str]:
    """Every setting PATH the document can take now, in file order (for completion):
    ``box.name``, ..., ``fxs.1.port``, ``fxs.1.extension``, ..., ``web.port``."""
    out: list[str] = []
    for info in tables():
        keys = list(fields_of(info.name))
        if not info.array:
            out += [f"{info.name}.{k}" for k in keys]
            continue
        for index in range(len(doc.get(info.name, []))):
            prefix = entry_path(doc, info.name, index)
            out += [f"{prefix}.{k}" for k in keys]
    return out


def field_at(doc: Mapping[str, Any], path: str) -> FieldInfo:
    """The field a setting PATH names (raises PathError for a table or an entry)."""
    info, _, key = locate(doc, path)
    if key is None:
        raise PathError([(path, "names a table or an entry, not one setting")])
    return fields_of(info.name)[key]


def entry_path(doc: Mapping[str, Any], table_name: str, index: int) -> str:
    """The PATH of entry ``index`` (0-based) of an array: ``fxs.1``, ``outbound.2``."""
    info = table(table_name)
    assert info is not None and info.array
    if info.key == "position":
        return f"{table_name}.{index + 1}"
    entries = doc.get(table_name, [])
    natural = entries[index].get(info.key) if 0 <= index < len(entries) else None
    return f"{table_name}.{natural}" if natural is not None else f"{table_name}[{index}]"


def keypath_to_path(doc: Mapping[str, Any], keypath: KeyPath) -> str:
    """A loader's key path (``("fxs", 0, "extension")``) as a PATH (``fxs.1.extension``)."""
    if not keypath:
        return ""
    head, rest = str(keypath[0]), list(keypath[1:])
    info = table(head)
    if info is not None and info.array and rest and isinstance(rest[0], int):
        text = entry_path(doc, head, rest[0])
        rest = rest[1:]
    else:
        text = head
    for part in rest:
        if isinstance(part, int):
            break  # an item of a list value: the PATH names the whole list
        text += f".{part}"
    return text


def parse_value(field: FieldInfo, text: str, path: str) -> Any:
    """``text`` as a value of ``field``'s type; range and choice checks come later."""
    if field.type == "bool":
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise PathError([(path, f"must be true or false, got {text!r}")])
    if field.type == "int":
        try:
            return int(text.strip(), 10)
        except ValueError:
            raise PathError([(path, f"must be a whole number, got {text!r}")]) from None
    if field.type == "float":
        try:
            number = float(text.strip())
        except ValueError:
            raise PathError([(path, f"must be a number, got {text!r}")]) from None
        if not math.isfinite(number):
            raise PathError([(path, f"must be a finite number, got {text!r}")])
        return number
    if field.type == "list":
        return _parse_list(text, path)
    return _parse_text(text, path)


def _parse_text(text: str, path: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            raise PathError([(path, f"is not a valid quoted text: {text}")]) from None
        return str(value)
    return text


def _parse_list(text: str, path: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            value = tomllib.loads(f"v = {stripped}")["v"]
        except tomllib.TOMLDecodeError:
            raise PathError([(path, f'must be a list such as ["a", "b"] or a,b; got {text}')]
                            ) from None
        return list(value)
    return [_parse_text(part.strip(), path) for part in stripped.split(",") if part.strip()]


def locate(doc: Mapping[str, Any], path: str) -> tuple[TableInfo, int | None, str | None]:
    """(table, entry index or None, key or None) of ``path`` in ``doc``; raises PathError."""
    head, _, rest = path.strip().partition(".")
    info = table(head)
    if info is None:
        names = [t.name for t in tables()]
        hint = did_you_mean(head, names) or f"tables: {', '.join(names)}"
        raise PathError([(path, f"unknown table {head!r}; {hint}")])
    fields = fields_of(info.name)
    if not info.array:
        if not rest:
            return info, None, None
        if rest not in fields:
            hint = did_you_mean(rest, list(fields)) or f"keys: {', '.join(fields)}"
            raise PathError([(path, f"unknown key in [{head}]; {hint}")])
        return info, None, rest
    if not rest:
        raise PathError([(path, f"names every entry; name one, e.g. {head}."
                                f"{info.placeholder.strip('<>')}")])
    entries = doc.get(info.name, [])
    # Trunk names may hold dots: the whole rest may be a name; else the last part is a key.
    natural, key = rest, None
    if _find(entries, info, rest) is None and "." in rest:
        natural, _, key = rest.rpartition(".")
        if key not in fields:
            hint = did_you_mean(key, list(fields)) or f"keys: {', '.join(fields)}"
            raise PathError([(path, f"unknown key in [[{head}]]; {hint}")])
    index = _find(entries, info, natural)
    if index is None:
        raise PathError([(f"{head}.{natural}", _missing_entry(entries, info, natural))])
    return info, index, key


def _find(entries: list[Any], info: TableInfo, natural: str) -> int | None:
    if info.key == "position":
        if natural.isdigit() and 1 <= int(natural) <= len(entries):
            return int(natural) - 1
        return None
    for index, entry in enumerate(entries):
        if str(entry.get(info.key)) == natural:
            return index
    return None


def _missing_entry(entries: list[Any], info: TableInfo, natural: str) -> str:
    if info.key == "position":
        return (f"no entry {natural}; there are {len(entries)} (numbered from 1); add one with"
                f" config add {info.name} KEY=VALUE...")
    have = ", ".join(str(e.get(info.key)) for e in entries) or "none"
    return (f"no entry with {info.key} {natural} (have: {have}); add it with config add "
            f"{info.name} {info.key}={natural} ...")


def _container(doc: Mapping[str, Any], info: TableInfo, index: int | None,
               create: bool = False) -> dict[str, Any]:
    if index is not None:
        entry: dict[str, Any] = doc[info.name][index]
        return entry
    if create and isinstance(doc, dict):
        single: dict[str, Any] = doc.setdefault(info.name, {})
        return single
    found: dict[str, Any] = doc.get(info.name, {})
    return found


def _example(doc: Mapping[str, Any], info: TableInfo, index: int | None) -> str:
    key = next(iter(fields_of(info.name)))
    where = info.name if index is None else entry_path(doc, info.name, index)
    return f"{where}.{key}"
