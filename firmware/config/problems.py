"""What is wrong with a configuration, and where.

Checks work on key paths, not on text: a path such as ``("fxs", 1, "flash_max_ms")`` names
one value of the parsed document (indexes into ``[[array]]`` tables count from 0, as the
document does). The checks return :class:`Issue` objects; the loader then finds each path's
line in the file and turns the issues into :class:`Problem` objects that name the file, the
line and the key, the way a compiler names them (``config.toml:14: fxs[1].debounce_ms: ...``),
so an editor or a terminal can jump to them.

Every message says what is wrong and, where there is a likely fix, what to do.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from firmware.core.errors import ConfigError

KeyPath = tuple[str | int, ...]
"""Where a value sits in the document: table keys and array indexes, outermost first."""


def format_path(path: KeyPath) -> str:
    """``("fxs", 1, "port")`` -> ``fxs[1].port``; the empty path (the whole file) -> ``""``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """A hint naming the closest of ``choices`` to a mistyped ``word``, or ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close and word.lower() in choices:
        close = [word.lower()]
    return f"did you mean '{close[0]}'?" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """``a, b or c``, for messages that list what is allowed."""
    items = [f"'{c}'" for c in choices]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class Issue:
    """One thing wrong with one value, before the loader knows its line."""

    path: KeyPath
    message: str

    @property
    def key(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located: ``source:line: key: message``.

    ``line`` is 1-based and None when there is no text to point into (a configuration built
    in Python); ``key`` is ``""`` when the whole file is meant (a syntax error before any key).
    """

    source: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class InvalidConfigError(ConfigError):
    """A configuration was refused; ``problems`` lists every reason, in file order.

    The message is one problem per line, so it reads well on the serial console; the web
    page uses ``problems`` to mark each line of the editor.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def network_issues(entries: tuple[str, ...], at: KeyPath) -> list[Issue]:
    """An ``allow`` list's entries that are no IP address or network, each at its index."""
    found: list[Issue] = []
    for i, entry in enumerate(entries):
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            found.append(Issue((*at, i), "must be an IP address or network like 203.0.113.5"
                               f" or 203.0.113.0/24, got {entry!r}"))
    return found
