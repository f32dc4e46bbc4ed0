"""Read the configuration file: TOML text in, a checked :class:`Config` out.

Three passes: tomllib parses the syntax; ``build`` checks each value on its own;
``validate`` checks values against each other. A pass runs only if the one before it found
nothing wrong (checking references in a half-built file would only add noise), and it
reports everything it finds, as one :class:`InvalidConfigError` (a ``ConfigError``, so a
``ValueError``) whose every line names the file, the line and the key, and says what is
wrong and how to fix it::

    config.toml:14: fxs[1].flash_max_ms: must be greater than flash_min_ms (100), got 50

Indexes into ``[[array]]`` tables count from 0: ``fxs[1]`` is the second ``[[fxs]]``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection

from firmware.config.build import build_config
from firmware.config.locate import KeyLines, key_at_line
from firmware.config.problems import InvalidConfigError, Issue, Problem
from firmware.config.schema import Config, FxoPort, FxsPort
from firmware.config.validate import validate_config

_TOML_POSITION = re.compile(
    r"^(?P<what>.*) \((?:at line (?P<line>\d+), column (?P<col>\d+)|at end of document)\)$"
)

_SYNTAX_HINTS = (
    ("Invalid value", 'text needs quotes (name = "Reception"); numbers, true and false do not'),
    ("Cannot overwrite", "this key is already set in this table; keep only one of them"),
    ("Cannot declare", "this table is already declared; merge the two, or use [[name]] for a list"),
    ("Expected ']'", "close the header with ] (or ]] for an [[array]] table)"),
    ("Expected '=' after a key", "write key = value"),
    ("Unterminated string", "close the text with the same quote it opens with"),
    ("Illegal character", "close the text with the same quote on the same line"),
    ("Expected newline", "put each key = value on its own line"),
)


def parse_config(
    text: str, source: str = "<string>", *, known_countries: Collection[str] | None = None
) -> Config:
    """The configuration in ``text``; ``source`` names it in error messages.

    ``known_countries`` lists the country profile codes the box has (the dsp package's list);
    None means the built-in ``KNOWN_COUNTRIES``.
    """
    text = text.removeprefix("\ufeff")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, source) from None
    config, issues = build_config(document)
    if config is not None:
        issues = validate_config(config, known_countries)
    if issues or config is None:
        raise _located(issues, text, source)
    return config


def load_config(
    path: str | os.PathLike[str], *, known_countries: Collection[str] | None = None
) -> Config:
    """The configuration in the file at ``path``; see :func:`parse_config`."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidConfigError(
            [
                Problem(
                    source,
                    None,
                    "",
                    f"cannot read the configuration: {reason}; check the path, or start from"
                    " docs/config-example.toml",
                )
            ]
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidConfigError(
            [Problem(source, line, "", "is not UTF-8 text; save the file as UTF-8")]
        ) from None
    return parse_config(text, source, known_countries=known_countries)


def default_config() -> Config:
    """The built-in configuration: two handsets (101, 102), one PSTN line ringing 101, no trunk."""
    return Config(
        fxs=(
            FxsPort(port=1, extension="101", name="Extension 101"),
            FxsPort(port=2, extension="102", name="Extension 102"),
        ),
        fxo=(FxoPort(port=1, extension="101"),),
    )


def _located(issues: list[Issue], text: str | None, source: str) -> InvalidConfigError:
    """The error for ``issues``, each placed on its line of ``text`` (None: no text, no lines)."""
    lines = KeyLines(text) if text is not None else None
    problems = [
        Problem(source, lines.line_of(i.path) if lines else None, i.key, i.message) for i in issues
    ]
    problems.sort(key=lambda p: p.line or 0)
    return InvalidConfigError(problems)


def check_config(
    config: Config, source: str = "<config>", *, known_countries: Collection[str] | None = None
) -> Config:
    """``config`` itself if its values agree with each other, for configurations built in code."""
    issues = validate_config(config, known_countries)
    if issues:
        raise _located(issues, None, source)
    return config


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> InvalidConfigError:
    message = str(exc)
    match = _TOML_POSITION.match(message)
    if match is None:
        what, line, column = message, None, None
    else:
        what = match.group("what")
        line = int(match.group("line")) if match.group("line") else max(1, len(text.splitlines()))
        column = match.group("col")
    if match is not None and match.group("line") is None:
        hint = "the file ends inside a list, table or text; close it"
    else:
        hint = next((h for prefix, h in _SYNTAX_HINTS if what.startswith(prefix)), "")
    detail = f"TOML syntax error: {what}"
    if column is not None:
        detail += f" (column {column})"
    detail += f"; {hint}" if hint else "; see docs/config-example.toml"
    key = key_at_line(text, line) if line is not None else ""
    return InvalidConfigError([Problem(source, line, key, detail)])
