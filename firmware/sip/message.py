"""Reading the few header fields we need from a received SIP message's text.

pjsua2 hands us the whole message as text; we only need the Request-URI's user (the called
number), and the caller's number and name from P-Asserted-Identity (RFC 3325) or From.
Malformed input never raises: a field we cannot read is simply absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME_ADDR = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>')
_URI_USER = re.compile(r"^(?:sips?|tel):([^@;>?]+)", re.IGNORECASE)
_COMPACT = {"f": "from", "t": "to", "m": "contact", "i": "call-id", "v": "via",
            "r": "refer-to"}


@dataclass(frozen=True)
class NameAddr:
    name: str | None
    user: str | None


def uri_user(uri: str) -> str | None:
    m = _URI_USER.match(uri.strip())
    if not m:
        return None
    user = m.group(1)
    return user or None


def parse_name_addr(value: str) -> NameAddr:
    """``"Alice" <sip:101@host>;tag=x`` -> NameAddr("Alice", "101"); also bare URIs."""
    m = _NAME_ADDR.match(value)
    if m:
        quoted, plain, uri = m.groups()
        name = quoted if quoted is not None else (plain or "").strip()
        name = re.sub(r"\\(.)", r"\1", name) if name else name
        return NameAddr(name or None, uri_user(uri))
    bare = value.split(";", 1)[0]
    return NameAddr(None, uri_user(bare))


def header(message: str, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive, compact forms known)."""
    values = header_lines(message, name, first=True)
    return values[0] if values else None


def header_lines(message: str, name: str, *, first: bool = False) -> list[str]:
    """Every line's value of header ``name``, in order (``first``: stop at the first)."""
    wanted = name.lower()
    head = message.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
    found: list[str] = []
    for line in head.splitlines()[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if _COMPACT.get(key, key) == wanted:
            found.append(value.strip())
            if first:
                break
    return found


def split_list(value: str) -> list[str]:
    """A comma-separated header value (Contact: a, b) split where a comma is outside
    quotes and angle brackets."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


def request_user(message: str) -> str | None:
    """The user part of the Request-URI: the number the caller dialled."""
    first = message.lstrip().split("\n", 1)[0].split()
    if len(first) < 3 or first[2].upper() != "SIP/2.0":
        return None
    return uri_user(first[1])
