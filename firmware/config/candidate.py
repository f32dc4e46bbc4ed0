"""Staging changes on a configuration: each change is checked before it is kept.

Pure functions over :class:`Config` values; the app keeps the candidate and the running
configuration, this module only says whether a change is acceptable and what it makes.

Rules:

- A change (set, unset, add, delete) is made on the TOML document of the candidate, then the
  whole document is built again (``firmware.config.build``): a value of the wrong type or out
  of range is refused at once, naming its PATH.
- Rules between values (``firmware.config.validate``) refuse a change only where they point
  at the setting or entry that was changed: ``set fxs.1.extension abc`` is refused, while a
  change that leaves *another* setting wrong for now (deleting the extension an inbound route
  rings, before that route is changed too) is kept, and :func:`check` refuses it at commit.
- Errors name settings in the PATH language (``fxs.1.extension``), never by list index.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping

from firmware.config.build import build_config
from firmware.config.paths import (
    Document,
    PathError,
    add_entry,
    delete_path,
    entry_path,
    keypath_to_path,
    locate,
    set_path,
    unset_path,
)
from firmware.config.problems import Issue
from firmware.config.render import to_toml
from firmware.config.schema import Config
from firmware.config.validate import validate_config


def document(config: Config) -> Document:
    """The TOML document of ``config``, every key written out."""
    return tomllib.loads(to_toml(config))


def stage_set(config: Config, path: str, text: str,
              known_countries: Collection[str] | None = None) -> Config:
    doc = document(config)
    after = set_path(doc, path, text)
    info, index, key = locate(doc, path)
    if index is not None:  # a renamed entry (fxs.1.port = 3) is blamed under its new name
        path = f"{entry_path(after, info.name, index)}.{key}"
    return _build(after, path, known_countries)


def stage_unset(config: Config, path: str,
                known_countries: Collection[str] | None = None) -> Config:
    doc = document(config)
    return _build(unset_path(doc, path), path, known_countries)


def stage_delete(config: Config, path: str,
                 known_countries: Collection[str] | None = None) -> Config:
    doc = document(config)
    # An entry that is gone has no settings to blame; other settings that named it are
    # reported by check() at commit.
    return _build(delete_path(doc, path), None, known_countries)


def stage_add(config: Config, table_name: str, values: Mapping[str, str],
              known_countries: Collection[str] | None = None) -> tuple[Config, str]:
    """The candidate with a new entry, and the new entry's PATH (``fxs.3``)."""
    doc, path = add_entry(document(config), table_name, values)
    return _build(doc, path, known_countries), path


def check(config: Config, known_countries: Collection[str] | None = None) -> None:
    """Raise PathError naming every setting that breaks a rule between values."""
    issues = validate_config(config, known_countries)
    if issues:
        raise _error(document(config), issues)


def problems(config: Config, known_countries: Collection[str] | None = None
             ) -> list[dict[str, str]]:
    """What :func:`check` would refuse, as ``[{"path", "message"}]`` (empty: none)."""
    try:
        check(config, known_countries)
    except PathError as exc:
        return exc.fields
    return []


def _build(doc: Document, focus: str | None,
           known_countries: Collection[str] | None) -> Config:
    config, issues = build_config(doc)
    if config is None or issues:
        raise _error(doc, issues)
    if focus is not None:
        mine = [i for i in validate_config(config, known_countries)
                if _within(keypath_to_path(doc, i.path), focus)]
        if mine:
            raise _error(doc, mine)
    return config


def _within(path: str, focus: str) -> bool:
    return path == focus or path.startswith(focus + ".")


def _error(doc: Document, issues: list[Issue]) -> PathError:
    return PathError((keypath_to_path(doc, i.path), i.message) for i in issues)
