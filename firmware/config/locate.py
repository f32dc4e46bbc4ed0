"""Find the line of each key in a TOML text; tomllib keeps no positions.

:class:`KeyLines` walks a text that tomllib has already accepted and records the 1-based
line where each key path is written: ``[table]`` and ``[[array]]`` headers (the n-th
``[[fxs]]`` is ``("fxs", n)``), ``key = value`` lines, dotted keys, and the items of arrays
and inline tables. Strings, including multi-line ones, are skipped whole, so a ``key =``
inside a string is never mistaken for a key.

A path with no line of its own (a missing key, a value from an inline table written on one
line) takes the line of its nearest recorded parent: the table it belongs in.

:func:`key_at_line` serves the other case, text tomllib refused: it guesses, line by line,
which key a syntax error sits on.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

from firmware.config.problems import KeyPath, format_path

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}#\r\n]")


class _Stop(Exception):
    """The walker met text it does not follow; the lines found so far still hold."""


class KeyLines:
    """The line of every key path in a valid TOML text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self._lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}
        with contextlib.suppress(_Stop, IndexError):
            self._document()

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path`` or of its nearest parent; None for the whole document."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None

    # The walker below trusts the text to be valid TOML, since tomllib parsed it first.

    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if self._pos >= len(self._text):
                return
            line = self._line()
            if self._text.startswith("[[", self._pos):
                self._pos += 2
                table = self._header(self._key(), line, array=True)
                self._expect("]]")
            elif self._text.startswith("[", self._pos):
                self._pos += 1
                table = self._header(self._key(), line, array=False)
                self._expect("]")
            else:
                self._pair(table)

    def _header(self, keys: list[str], line: int, *, array: bool) -> KeyPath:
        path: KeyPath = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            last = i == len(keys) - 1
            if last and array:
                index = self._arrays.get(path, 0)
                self._arrays[path] = index + 1
                self._lines.setdefault(path, line)
                path = (*path, index)
            elif path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        self._lines[path] = line
        return path

    def _pair(self, table: KeyPath) -> None:
        line = self._line()
        path = table
        for key in self._key():
            path = (*path, key)
            self._lines.setdefault(path, line)
        self._skip()
        self._expect("=")
        self._skip()
        self._value(path)

    def _key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self._skip()
            char = self._text[self._pos]
            if char in "\"'":
                start = self._pos
                self._string()
                keys.append(tomllib.loads("k = " + self._text[start : self._pos])["k"])
            else:
                match = _BARE_KEY.match(self._text, self._pos)
                if match is None:
                    raise _Stop
                keys.append(match.group())
                self._pos = match.end()
            self._skip()
            if not self._text.startswith(".", self._pos):
                return keys
            self._pos += 1

    def _value(self, path: KeyPath) -> None:
        char = self._text[self._pos]
        if char in "\"'":
            self._string()
        elif char == "[":
            self._pos += 1
            self._items(path, "]", keyed=False)
        elif char == "{":
            self._pos += 1
            self._items(path, "}", keyed=True)
        else:
            match = _SCALAR_END.search(self._text, self._pos)
            self._pos = len(self._text) if match is None else match.start()

    def _items(self, path: KeyPath, close: str, *, keyed: bool) -> None:
        index = 0
        while True:
            self._skip(newlines=True)
            if self._text.startswith(close, self._pos):
                self._pos += 1
                return
            if keyed:
                self._pair(path)
            else:
                self._lines.setdefault((*path, index), self._line())
                self._value((*path, index))
            self._skip(newlines=True)
            if self._text.startswith(",", self._pos):
                self._pos += 1
                index += 1
            elif not self._text.startswith(close, self._pos):
                raise _Stop

    def _string(self) -> None:
        quote = self._text[self._pos]
        triple = quote * 3
        multi = self._text.startswith(triple, self._pos)
        self._pos += 3 if multi else 1
        while True:
            char = self._text[self._pos]
            if char == "\\" and quote == '"':
                self._pos += 2
            elif multi and self._text.startswith(triple, self._pos):
                self._pos += 3
                while self._text.startswith(quote, self._pos):  # up to two closing-side quotes
                    self._pos += 1
                return
            elif not multi and char == quote:
                self._pos += 1
                return
            else:
                self._pos += 1

    def _skip(self, *, newlines: bool = False) -> None:
        """Skip blanks and comments, and newlines too where the grammar allows them."""
        text = self._text
        while self._pos < len(text):
            char = text[self._pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self._pos += 1
            elif char == "#":
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                return

    def _expect(self, token: str) -> None:
        self._skip()
        if not self._text.startswith(token, self._pos):
            raise _Stop
        self._pos += len(token)

    def _line(self) -> int:
        return bisect.bisect_right(self._starts, self._pos)


_HEADER_LINE = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY_LINE = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*=")


def key_at_line(text: str, line: int) -> str:
    """Best guess of the key on ``line`` of a text that may not be valid TOML, or ``""``.

    Only plain ``[table]``, ``[[array]]`` and ``key =`` lines count; this names the place of
    a syntax error, where no exact answer exists.
    """
    lines = text.splitlines()
    table: KeyPath = ()
    counts: dict[str, int] = {}
    for number, content in enumerate(lines[: max(line, 0)], start=1):
        header = _HEADER_LINE.match(content)
        if header is not None:
            name = header.group(2)
            if header.group(1) == "[[":
                counts[name] = counts.get(name, 0) + 1
                table = (*name.split("."), counts[name] - 1)
            else:
                table = tuple(name.split("."))
            if number == line:
                return format_path(table)
            continue
        if number == line:
            key = _KEY_LINE.match(content)
            return format_path((*table, *key.group(1).split("."))) if key else format_path(table)
    return ""
