"""The configuration across updates: migrated forward by a new slot, readable again by the
old slot after a fallback.

``config.toml`` in the state dir carries no version of its own; ``config.schema`` beside it
says which schema the file is written in (no file: schema 1, the first). A new slot whose
:data:`SCHEMA` is higher runs :data:`MIGRATIONS` in order before the daemon starts; before
that, the update keeps the file as it was in ``config.schema-N.toml`` (N the old schema), and
a fallback to the old slot puts that copy back, so the old slot reads the schema it knows.
A migration takes the parsed TOML (a dict) and returns the next schema's; it must not
lose a setting the older schema had.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.core.files import fsync_directory, write_atomic

log = logging.getLogger(__name__)

# The schema this firmware reads and writes. Raise it with a migration in MIGRATIONS.
SCHEMA = 1
# MIGRATIONS[n] turns schema n into n + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}

CONFIG = "config.toml"
SCHEMA_FILE = "config.schema"


class MigrationError(Exception):
    pass


def schema_of(state_dir: Path) -> int:
    path = state_dir / SCHEMA_FILE
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return 1
    if not text.isdigit():
        raise MigrationError(f"{path}: {text!r} is not a schema number")
    return int(text)


def snapshot_name(schema: int) -> str:
    return f"config.schema-{schema}.toml"


def snapshot(state_dir: Path) -> int:
    """Keep the configuration as the running (old) firmware wrote it, for a fallback.
    Returns its schema."""
    schema = schema_of(state_dir)
    config = state_dir / CONFIG
    if config.exists():
        write_atomic(state_dir / snapshot_name(schema), config.read_text())
    return schema


def restore(state_dir: Path, schema: int) -> bool:
    """After a fallback: put back the copy in ``schema`` if the file was migrated past it."""
    copy = state_dir / snapshot_name(schema)
    if schema_of(state_dir) == schema or not copy.exists():
        return False
    write_atomic(state_dir / CONFIG, copy.read_text())
    write_atomic(state_dir / SCHEMA_FILE, f"{schema}\n")
    return True


def migrate(state_dir: Path, target: int = SCHEMA,
            migrations: dict[int, Migration] | None = None,
            render: Callable[[dict[str, Any]], str] | None = None) -> int:
    """Bring config.toml up to ``target``; returns the schema it was in. A file newer than
    this firmware is refused (never rewritten backwards)."""
    steps = MIGRATIONS if migrations is None else migrations
    config = state_dir / CONFIG
    start = schema_of(state_dir)
    if start > target:
        raise MigrationError(f"{config} is in schema {start}, newer than this firmware's "
                             f"{target}; restore {snapshot_name(target)} or update again")
    if start == target or not config.exists():
        return start
    data = tomllib.loads(config.read_text())
    for n in range(start, target):
        if n not in steps:
            raise MigrationError(f"no migration from schema {n} to {n + 1}")
        data = steps[n](data)
    write_atomic(config, (render or _render)(data))
    write_atomic(state_dir / SCHEMA_FILE, f"{target}\n")
    fsync_directory(state_dir)
    log.info("configuration migrated from schema %d to %d", start, target)
    return start


def _render(data: dict[str, Any]) -> str:
    """Top-level keys, [tables] and [[arrays of tables]], one level deep: the shape of
    config.toml."""
    from firmware.config.render import toml_value

    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict | list)
             or (isinstance(v, list) and not any(isinstance(x, dict) for x in v))]
    for key, value in data.items():
        tables = [value] if isinstance(value, dict) else (
            value if isinstance(value, list) and value and all(isinstance(x, dict) for x in value)
            else [])
        header = f"[{key}]" if isinstance(value, dict) else f"[[{key}]]"
        for table in tables:
            lines += ["", header, *(f"{k} = {toml_value(v)}" for k, v in table.items())]
    return "\n".join(lines).lstrip("\n") + "\n"
