"""A console line split into words, the way a shell would, remembering where each was.

Words are separated by spaces; a double-quoted part may hold spaces, and inside quotes a
backslash keeps the next character (``"say \\"hi\\""``). Nothing else is special, so a
value such as ``*98`` or ``a=b`` needs no quoting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    text: str  # without the quotes
    start: int  # index in the line
    quoted: bool


@dataclass(frozen=True)
class Split:
    words: list[Word]
    open_quote: bool  # the line ends inside a quote
    trailing_space: bool  # the line ends after a separator: a new word begins


def split(line: str) -> Split:
    words: list[Word] = []
    i, n = 0, len(line)
    in_quote = False
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        if i >= n:
            break
        start, text, quoted = i, [], False
        while i < n and (in_quote or line[i] != " "):
            ch = line[i]
            if ch == '"':
                in_quote, quoted = not in_quote, True
            elif ch == "\\" and in_quote and i + 1 < n:
                i += 1
                text.append(line[i])
            else:
                text.append(ch)
            i += 1
        words.append(Word("".join(text), start, quoted))
    trailing = bool(line) and line[-1] == " " and not in_quote
    return Split(words, in_quote, trailing)


def quote(text: str) -> str:
    """``text`` as one word: quoted when it holds a space, a quote or nothing at all."""
    if text and not any(ch in text for ch in ' "\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
