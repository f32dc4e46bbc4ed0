"""What a slot may take right now: ports, configuration PATHs and values, account names.

The shell refreshes the facts here after each command (``status``, ``config.paths``,
``config.show``, ``user.list``, each only if the caller may run it); completion then reads
them without waiting. PATHs complete one segment at a time (``fxs.`` -> ``fxs.1.`` ->
``fxs.1.extension``), and a setting's help comes from ``firmware.config.describe``, so a new
setting needs nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firmware.config.describe import FieldInfo, field_info, fields_of, table, tables
from firmware.config.paths import get_path
from firmware.console.forms import Item, Slot
from firmware.core.errors import ConfigError

_FXS_COMMANDS = ("sim.phone.", "hw.ring", "hw.tone")
_FXO_COMMANDS = ("sim.line.",)


@dataclass
class Facts:
    """The box as the console last saw it."""

    name: str = "minipbx"
    pending: bool = False
    ports: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)


class ConsoleValues:
    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def values(self, command: str, slot: Slot, args: Mapping[str, str],
               partial: str) -> list[Item]:
        arg = slot.arg
        if arg == "port":
            return self._ports(command)
        if arg == "path":
            return path_items(self._paths(command), partial)
        if arg == "value" and command == "config.set":
            return value_items(args.get("path", ""), self.facts.doc)
        if arg == "table" and command == "config.add":
            return [Item(t.name, t.help) for t in tables() if t.array]
        if slot.type == "pairs":
            return pair_items(args.get("table", ""), partial)
        if arg == "name" and command.startswith("user.") and command != "user.add":
            return [Item(n, "account") for n in self.facts.accounts]
        return []

    def _ports(self, command: str) -> list[Item]:
        kind = ("fxs" if command.startswith(_FXS_COMMANDS) else
                "fxo" if command.startswith(_FXO_COMMANDS) else None)
        out = []
        for p in self.facts.ports:
            if kind is None or p.get("kind") == kind:
                leg = str(p.get("leg", ""))
                number = leg.lstrip("fxso") or "?"
                ext = f" ext {p['extension']}" if p.get("extension") else ""
                out.append(Item(number, f"{leg}{ext}"))
        return out

    def _paths(self, command: str) -> list[str]:
        paths = self.facts.paths
        if command == "config.delete":
            entries = []
            for p in paths:
                head = ".".join(p.split(".")[:2])
                info = table(p.split(".")[0])
                if info is not None and info.array and head not in entries:
                    entries.append(head)
            return entries
        if command == "config.unset":
            return paths + [t.name for t in tables() if not t.array]
        return paths


def path_items(paths: list[str], partial: str) -> list[Item]:
    """The next segment of each PATH that starts with ``partial`` (``fxs.`` before
    ``fxs.1.extension``), with help from the schema."""
    out: list[Item] = []
    seen: set[str] = set()
    for path in paths:
        if not path.startswith(partial):
            continue
        rest = path[len(partial):]
        dot = rest.find(".")
        word = partial + rest[:dot + 1] if dot >= 0 else path
        if word in seen:
            continue
        seen.add(word)
        if dot >= 0:
            out.append(Item(word, _segment_help(word), complete=False))
        else:
            info = _field(path)
            out.append(Item(word, info.help if info else ""))
    return out


def value_items(path: str, doc: Mapping[str, Any]) -> list[Item]:
    info = _field(path)
    if info is None:
        return [Item("<value>", "the new value (complete the PATH first)", insertable=False)]
    now = _current(doc, path)
    now_text = f"; now {now}" if now is not None else ""
    if info.type == "choice":
        return [Item(c or '""', info.help + (" (now)" if str(now) == c else ""))
                for c in info.choices]
    if info.type == "bool":
        return [Item(v, info.help + (" (now)" if str(now).lower() == v else ""))
                for v in ("true", "false")]
    return [Item(f"<{_describe_type(info)}>", f"{info.help}{now_text}", insertable=False)]


def pair_items(table_name: str, partial: str) -> list[Item]:
    """``config add TABLE KEY=VALUE``: the table's keys, then a choice's values."""
    key, eq, value = partial.partition("=")
    if eq:
        info = field_info(table_name, key)
        if info is not None and info.type in ("choice", "bool"):
            options = info.choices if info.type == "choice" else ("true", "false")
            return [Item(f"{key}={c}", info.help) for c in options if c.startswith(value)]
        return [Item(f"{key}=<{_describe_type(info)}>" if info else "KEY=VALUE",
                     info.help if info else "", insertable=False)]
    info_table = table(table_name)
    if info_table is None:
        return [Item("KEY=VALUE", "a setting of the new entry", insertable=False)]
    return [Item(f"{f.key}=", ("required: " if f.required else "") + f.help, complete=False)
            for f in fields_of(table_name).values() if f.key.startswith(key)]


def _field(path: str) -> FieldInfo | None:
    parts = path.split(".")
    if len(parts) < 2:
        return None
    return field_info(parts[0], parts[-1])


def _segment_help(word: str) -> str:
    parts = word.rstrip(".").split(".")
    info = table(parts[0])
    if info is None:
        return ""
    if len(parts) == 1:
        return info.help.rstrip(".")
    return f"{info.name} entry {parts[1]}"


def _describe_type(info: FieldInfo | None) -> str:
    if info is None:
        return "value"
    if info.lo is not None and info.hi is not None:
        return f"{info.type} {info.lo:g}-{info.hi:g}"
    if info.type == "list" and info.choices:
        return "list of " + ",".join(info.choices)
    return info.type


def _current(doc: Mapping[str, Any], path: str) -> Any:
    try:
        return get_path(doc, path)
    except (ConfigError, KeyError, IndexError, TypeError):
        return None
