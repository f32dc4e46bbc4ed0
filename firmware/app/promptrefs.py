"""Where a configuration names prompts, and in which language.

The office features (menus, announcements, the informer, queues) each keep their prompts
in their own table, so rather than a list to keep up to date this walks the
configuration: in every table and every row, a field named ``prompt``, ``prompts``,
``message``, ``music``, ``greeting`` or ``consent`` (the recording notice), or ending
in ``_prompt``, ``_greeting`` or ``_music`` (``[[fxs]] voicemail_greeting``, ``hold_music``),
holds prompt references
(a string, or a list of them). The row's ``language`` field, if it has one, is the
language they play in; else the box's.

Destinations that play a prompt (``announce:closed``, ``announce:file:closed.wav``) are
checked too, wherever a setting holds one.

A place is named the way an installer reads it: ``menu[main].prompt`` for a row with a
``name``, ``announce[2].message`` for one without.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from firmware.app.promptcache import Use
from firmware.media.prompt_texts import COUNTRY_LANGUAGE, TEXTS
from firmware.media.prompts import DEFAULT_LANGUAGE

# A destination that plays a prompt: ``announce:PROMPT``, in any setting that takes a
# destination (a route's ``to``, a menu's choices, a group's overflow...).
ANNOUNCE = re.compile(r"\bannounce:([^\s|@,;]+)")

PROMPT_FIELDS = ("prompt", "prompts", "message", "music", "greeting", "consent")


def box_language(config: Any) -> str:
    """The box's language: ``[box] language`` if the schema has it, else the country's."""
    box = getattr(config, "box", None)
    chosen = str(getattr(box, "language", "") or "")
    if chosen:
        return chosen
    return COUNTRY_LANGUAGE.get(str(getattr(box, "country", "")), DEFAULT_LANGUAGE)


def prompt_uses(config: Any) -> list[Use]:
    """Every prompt reference of ``config``, with where it is and its language."""
    default = box_language(config)
    uses: list[Use] = []
    if not dataclasses.is_dataclass(config):
        return uses
    for table in dataclasses.fields(config):
        value = getattr(config, table.name)
        rows = value if isinstance(value, tuple) else (value,)
        for index, row in enumerate(rows, start=1):
            if not dataclasses.is_dataclass(row):
                continue
            name = getattr(row, "name", None)
            label = (f"{table.name}[{name}]" if isinstance(name, str) and name
                     else f"{table.name}[{index}]" if isinstance(value, tuple)
                     else table.name)
            language = str(getattr(row, "language", "") or "") or default
            for f in dataclasses.fields(row):
                value = getattr(row, f.name)
                where = f"{label}.{f.name}"
                if f.name in PROMPT_FIELDS or f.name.endswith(("_prompt", "_greeting", "_music")):
                    uses += _refs(where, value, language)
                else:
                    uses += [Use(where, announce_ref(m), language)
                             for m in _announced(value)]
    return uses


def announce_ref(target: str) -> str:
    """The prompt of ``announce:TARGET``: a reference as it is (``announce:file:x.wav``),
    else the builtin of that name (``announce:closed`` plays ``builtin:closed``)."""
    return target if ":" in target else f"builtin:{target}"


def _announced(value: Any) -> list[str]:
    texts = [value] if isinstance(value, str) else (
        [v for v in value if isinstance(v, str)] if isinstance(value, tuple | list) else [])
    return [m for text in texts for m in ANNOUNCE.findall(text)]


def _refs(where: str, value: Any, language: str) -> list[Use]:
    if isinstance(value, str):
        return [Use(where, value, language)] if value.strip() else []
    if isinstance(value, tuple | list):
        return [Use(f"{where}[{i}]", v, language)
                for i, v in enumerate(value, start=1) if isinstance(v, str) and v.strip()]
    return []


def languages(config: Any) -> list[str]:
    """The languages whose builtins the box keeps built: its own and its rows' (those
    it has builtins for; a row in another language that names a builtin is refused by
    the check of its prompts, with the row named)."""
    found = [box_language(config)]
    if dataclasses.is_dataclass(config):
        for table in dataclasses.fields(config):
            value = getattr(config, table.name)
            for row in value if isinstance(value, tuple) else (value,):
                lang = str(getattr(row, "language", "") or "")
                if lang in TEXTS and lang not in found:
                    found.append(lang)
    return found
