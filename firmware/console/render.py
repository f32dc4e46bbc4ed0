"""Command results as text for an 80-column terminal.

Rules:
- A formatter the composition root gives for a command (``status``) wins; otherwise the
  shape of the result decides: a configuration text (``toml``) or a diff is shown as it is,
  a list of records as columns when they fit (else ``key=value`` lines; a problem,
  ``{path, message}``, as ``path: message``), a record as ``key: value`` lines, nothing
  as ``ok``.
- Lines are cut to the terminal's width less one (the last column is never written), so
  the pager's count of rows is the screen's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Formatter = Callable[[Any], str]


def render(command: str, result: Any, formatters: Mapping[str, Formatter]) -> str:
    if command in formatters:
        return formatters[command](result)
    if isinstance(result, dict):
        if isinstance(result.get("toml"), str):
            return str(result["toml"]).rstrip("\n")
        if isinstance(result.get("diff"), str):
            return str(result["diff"]).rstrip("\n") or "no changes staged"
        return _record(result, "")
    if isinstance(result, list):
        if not result:
            return "(none)"
        if all(isinstance(r, dict) for r in result):
            return _rows(result)
        return "\n".join(_scalar(r) for r in result)
    if result is None:
        return "ok"
    return _scalar(result)


def wrap(text: str, width: int) -> list[str]:
    """``text`` as screen rows of at most ``width - 1`` characters."""
    room = max(10, width - 1)
    rows: list[str] = []
    for line in text.split("\n"):
        line = line.expandtabs(4).rstrip()
        while len(line) > room:
            # Break at the last space that leaves a fair part on the row, else hard.
            cut = line.rfind(" ", room // 2, room + 1)
            cut = cut if cut > 0 else room
            rows.append(line[:cut].rstrip())
            line = "  " + line[cut:].lstrip()
        rows.append(line)
    return rows


def items_text(items: list[tuple[str, str]], width: int) -> str:
    """``?`` lists: the word, then its help, in two columns."""
    if not items:
        return ""
    col = min(max(len(w) for w, _ in items) + 2, width // 2)
    room = max(10, width - 1 - 2 - col)
    lines = []
    for word, text in items:
        parts = wrap(text, room + 2) if text else [""]
        # wrap() indents its continuation rows by two; here they line up under the help.
        parts = [parts[0], *(p[2:] for p in parts[1:])]
        if len(word) > col - 2:
            lines.append(f"  {word}")
            lines += [f"  {'':<{col}}{p}" for p in parts]
        else:
            lines.append(f"  {word:<{col}}{parts[0]}".rstrip())
            lines += [f"  {'':<{col}}{p}" for p in parts[1:]]
    return "\n".join(lines)


def _record(record: Mapping[str, Any], indent: str) -> str:
    lines = []
    for key, value in record.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines.append(_record(value, indent + "  "))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  {_pairs(v)}" for v in value]
        else:
            lines.append(f"{indent}{key}: {_scalar(value)}")
    return "\n".join(lines)


def _rows(rows: list[dict[str, Any]]) -> str:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    cells = [[_scalar(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    if sum(widths) + 2 * len(widths) > 79 or any(isinstance(v, (dict, list)) and v
                                                 for r in rows for v in r.values()):
        return "\n".join(_pairs(r) for r in rows)
    head = "  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip()
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]
    return "\n".join([head, *body])


def _pairs(record: Mapping[str, Any]) -> str:
    if record.keys() == {"path", "message"}:  # a schema problem reads as the CLI says it
        return f"{record['path']}: {record['message']}"
    return " ".join(f"{k}={_scalar(v)}" for k, v in record.items())


def _scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            return ", ".join(_scalar(v) for v in value) or "(none)"
        return json.dumps(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)
