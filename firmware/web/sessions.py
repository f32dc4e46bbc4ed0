"""Login sessions, kept in memory: a restart logs everybody out, which is what a person
expects of a box they just restarted.

Rules:
- A session id is 256 random bits (``secrets``), sent only in an HttpOnly, SameSite=Strict
  cookie (Secure under HTTPS); it never appears in a URL or a page.
- Each session carries its own CSRF token, compared in constant time.
- A session ends when idle for ``idle_s``, at ``absolute_s`` after login whatever its use,
  at logout, or when its account is deleted. At most ``limit`` live at once; the least
  recently used goes first.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.commands.caller import Caller, Role

COOKIE = "minipbx_session"


@dataclass
class Session:
    id: str
    name: str
    role: Role
    extension: str | None
    created: float
    seen: float
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    flash: list[tuple[str, str]] = field(default_factory=list)

    def caller(self, via: str = "web") -> Caller:
        return Caller(self.name, self.role, via, self.extension)

    def csrf_ok(self, supplied: str | None) -> bool:
        return bool(supplied) and hmac.compare_digest(self.csrf.encode(),
                                                      (supplied or "").encode())


class SessionStore:
    def __init__(self, idle_s: float, absolute_s: float, limit: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.limit = limit
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def new(self, name: str, role: Role, extension: str | None) -> Session:
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), name, role, extension, now, now)
        self._sessions[session.id] = session
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session with this id (and marks it used), or None."""
        if not sid:
            return None
        session = self._sessions.get(sid)
        if session is None:
            return None
        now = self._clock()
        if not self._live(session, now):
            del self._sessions[sid]
            return None
        session.seen = now
        self._sessions.move_to_end(sid)
        return session

    def alive(self, sid: str) -> bool:
        """Whether the session is still valid, without counting this as a use (a dashboard
        left open must not keep a session alive forever)."""
        session = self._sessions.get(sid)
        return session is not None and self._live(session, self._clock())

    def _live(self, session: Session, now: float) -> bool:
        return now - session.seen <= self.idle_s and now - session.created <= self.absolute_s

    def drop(self, sid: str) -> None:
        self._sessions.pop(sid, None)

    def drop_account(self, name: str, keep: Session | None = None) -> None:
        """Ends every session of account ``name`` but ``keep`` (after a password change,
        the person who made it stays logged in; a thief's session goes)."""
        for sid in [s.id for s in self._sessions.values() if s.name == name]:
            if keep is None or sid != keep.id:
                del self._sessions[sid]
