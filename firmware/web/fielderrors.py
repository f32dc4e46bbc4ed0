"""Errors of the command table as a form shows them: each message at the field whose
``name`` is its configuration PATH.

Commands that check settings raise errors with a ``fields`` list (``[{"path", "message"}]``,
firmware.config.paths.PathError) or, failing that, messages whose lines start with the PATH
("fxs.1.extension: must be digits"); both come out here as ``{path: message}``.
"""

from __future__ import annotations

import re
from typing import Any

_PATH_LINE = re.compile(r"^([a-z_]+(?:\.[A-Za-z0-9_.+-]+)+): (.+)$")


def error_fields(exc: BaseException) -> list[dict[str, str]]:
    fields = getattr(exc, "fields", None)
    if isinstance(fields, list) and fields:
        return [{"path": str(f.get("path", "")), "message": str(f.get("message", ""))}
                for f in fields if isinstance(f, dict)]
    out = []
    for line in str(exc).splitlines():
        m = _PATH_LINE.match(line.strip())
        if m:
            out.append({"path": m.group(1), "message": m.group(2)})
    return out


def by_path(fields: list[dict[str, Any]]) -> dict[str, str]:
    """PATH -> message (messages for one PATH joined); "" holds those with no PATH."""
    out: dict[str, str] = {}
    for f in fields:
        path = str(f.get("path") or "")
        message = str(f.get("message") or "")
        out[path] = f"{out[path]}; {message}" if path in out else message
    return out
