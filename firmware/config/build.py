"""Turn a parsed TOML document into a :class:`Config`, checking each value on its own.

The rules come from the dataclasses in ``firmware.config.schema``: the field's type says
what a value must be (string, whole number, number, true/false, one of a fixed set, a list,
a table, an array of tables) and its metadata the inclusive range of a number. Any key the
schema does not know is an error: a typo such as ``flash_max = 900`` must not silently leave
the default in force. Strings may not hold control characters, since they end up in SIP
headers, caller ID and log lines.

Every value is checked and every issue collected, so one pass shows the user all mistakes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

from firmware.config.office import choice_pairs
from firmware.config.problems import Issue, KeyPath, did_you_mean, one_of
from firmware.config.schema import Config


class _Invalid:
    """Marks a value that failed its check, so the caller skips it and builds nothing."""


_INVALID = _Invalid()


def build_config(document: Mapping[str, object]) -> tuple[Config | None, list[Issue]]:
    """The configuration and every issue found; the configuration is None if any value failed."""
    issues: list[Issue] = []
    config = _build_table(Config, document, (), issues)
    return (config if isinstance(config, Config) and not issues else None), issues


def _build_table(
    cls: Any, table: Mapping[str, object], path: KeyPath, issues: list[Issue]
) -> object:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in table:
        if key not in fields:
            issues.append(Issue((*path, key), _unknown_key(key, table[key], list(fields), path)))
    values: dict[str, object] = {}
    failed = False
    for name, f in fields.items():
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                issues.append(Issue((*path, name), f"missing; add {name} = ..., {_help(f)}"))
                failed = True
            continue
        value = _convert(hints[name], table[name], (*path, name), f.metadata, issues)
        if isinstance(value, _Invalid):
            failed = True
        else:
            values[name] = value
    return _INVALID if failed else cls(**values)


def _convert(
    tp: Any, value: object, path: KeyPath, meta: Mapping[str, Any], issues: list[Issue]
) -> object:
    origin = get_origin(tp)
    problem: str | None = None
    if dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return _build_table(tp, value, path, issues)
        problem = _expected_table(path, value, array=False)
    elif origin is tuple:
        return _convert_list(get_args(tp)[0], value, path, meta, issues)
    elif origin is Literal:
        choices = [str(c) for c in get_args(tp)]
        if isinstance(value, str) and value in choices:
            return value
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        problem = f"must be {one_of(choices)}, got {_show(value)}" + (f"; {hint}" if hint else "")
    elif tp is bool:
        if isinstance(value, bool):
            return value
        problem = f"must be true or false (no quotes), got {_show(value)}"
    elif tp is int or tp is float:
        return _convert_number(tp, value, path, meta, issues)
    elif tp is str:
        if isinstance(value, str):
            bad = next((c for c in value if ord(c) < 0x20 or ord(c) == 0x7F), None)
            if bad is None:
                return value
            problem = f"must not contain control characters, found {bad!r}; remove it"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            problem = f'must be text in quotes, got {value}; write it as "{value}"'
        else:
            problem = f"must be text in quotes, got {_show(value)}"
    else:  # pragma: no cover - a schema field of a type this module does not know
        raise TypeError(f"no conversion for {tp!r} at {path}")
    issues.append(Issue(path, problem))
    return _INVALID


def _convert_number(
    tp: type, value: object, path: KeyPath, meta: Mapping[str, Any], issues: list[Issue]
) -> object:
    whole = tp is int
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and isinstance(value, float))
    ):
        kind = "a whole number" if whole else "a number"
        hint = "; write it without quotes" if isinstance(value, str) and _numeric(value) else ""
        issues.append(Issue(path, f"must be {kind}, got {_show(value)}{hint}"))
        return _INVALID
    number: int | float = value if whole else float(value)
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        issues.append(Issue(path, f"must be between {_num(lo)} and {_num(hi)}, got {value}"))
        return _INVALID
    return number


def _convert_list(
    item: Any, value: object, path: KeyPath, meta: Mapping[str, Any], issues: list[Issue]
) -> object:
    if isinstance(value, dict) and meta.get("pairs"):  # a menu's choices as a table
        pairs = choice_pairs(value, path, issues)
        if pairs is None:
            return _INVALID
        value = pairs
    if not isinstance(value, list):
        if dataclasses.is_dataclass(item):
            problem = _expected_table(path, value, array=True)
        else:
            problem = f"must be a list in brackets, got {_show(value)}; write [{_toml(value)}]"
        issues.append(Issue(path, problem))
        return _INVALID
    items: list[object] = []
    for index, element in enumerate(value):
        converted = _convert(item, element, (*path, index), meta, issues)
        items.append(converted)
    if any(isinstance(i, _Invalid) for i in items):
        return _INVALID
    return tuple(items)


def _expected_table(path: KeyPath, value: object, *, array: bool) -> str:
    name = str(path[-1])
    if array:
        if isinstance(value, dict):
            return f"must be an array of tables: write [[{name}]], not [{name}]"
        return f"must be an array of tables, got {_show(value)}; write a [[{name}]] table"
    if isinstance(value, list):
        return f"must be a single table: write [{name}], not [[{name}]]"
    return f"must be a table, got {_show(value)}; write a [{name}] table"


def _unknown_key(key: str, value: object, allowed: list[str], path: KeyPath) -> str:
    what = "table" if isinstance(value, dict | list) and not path else "key"
    where = "" if not path else f" in {_table_name(path)}"
    hint = did_you_mean(key, allowed)
    if hint:
        return f"unknown {what}{where}; {hint}"
    return f"unknown {what}{where}; allowed here: {', '.join(allowed)}"


def _table_name(path: KeyPath) -> str:
    names = [p for p in path if isinstance(p, str)]
    dotted = ".".join(names)
    return f"[[{dotted}]]" if isinstance(path[-1], int) else f"[{dotted}]"


def _help(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("help", ""))


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _num(bound: float | None) -> str:
    if bound is None:
        return "any"
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, with its kind where that helps."""
    if isinstance(value, str):
        return f"{_toml(value)} (text)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return _toml(value)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
