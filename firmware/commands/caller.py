"""Who is running a command, and what a role may do.

Front ends authenticate the person (the web page and the serial console by password or API
token; the control socket by its file mode: root or the minipbx group) and run every
command under a :class:`Caller`. Handlers that need to know who asked (config history,
"my own extension") read :func:`current_caller`; the table itself checks the role a
command needs before it runs.

Roles are ordered: ``user`` < ``installer`` < ``admin``. ``user`` is one person (their own
extension's settings and calls); ``installer`` adds configuration and line diagnostics;
``admin`` is everything, accounts included.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "installer", "admin"]
ROLES: tuple[Role, ...] = ("user", "installer", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Caller:
    """A person or program running commands: a name for the history, a role for the
    checks, the front end it came through, and for a ``user`` their extension."""

    name: str
    role: Role
    via: str  # "socket", "web", "api", "console", "serial"
    extension: str | None = None

    def may(self, needed: Role) -> bool:
        return _RANK[self.role] >= _RANK[needed]


ROOT = Caller("root", "admin", "socket")
"""The control socket's caller: the socket is mode 0660, so whoever reaches it is root or
in the minipbx group, with every right (the same trust as editing the files)."""

_current: contextvars.ContextVar[Caller] = contextvars.ContextVar("caller", default=ROOT)


def current_caller() -> Caller:
    """The caller of the command being run (ROOT outside any command)."""
    return _current.get()


def run_as(caller: Caller) -> contextvars.Token[Caller]:
    return _current.set(caller)


def reset_caller(token: contextvars.Token[Caller]) -> None:
    _current.reset(token)
