"""Temporary bans of SIP source addresses, growing on repeat.

Rules:

- A ban lasts ``BAN_STEPS_S[n - 1]`` for an address's n-th ban (1 min, 5 min, 30 min, 2 h,
  then a day each time); an address whose last ban ended more than ``FORGET_AFTER_S`` ago
  starts again at the first step.
- While banned, every request from the address is swallowed without an answer (a scanner
  learns nothing, and an answer would cost a datagram each); ``dropped`` counts them.
- Lifting a ban (``minipbx sip unban``) forgets the address's history too: the operator
  said it is a friend.
- Trunk addresses are never given to this table (firmware/sip/guard.py): a spoofed source
  or a provider's burst must not cut the office off.
- The table is bounded (``MAX_ADDRESSES``): records whose history is forgotten go first,
  then those whose ban ends soonest.

Pure: the time is an argument; everything runs on the loop thread (the SIP screen's
callback and the commands both run there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

BAN_STEPS_S = (60.0, 300.0, 1800.0, 7200.0, 86400.0)
FORGET_AFTER_S = 86400.0
MAX_ADDRESSES = 4096


@dataclass
class Ban:
    address: str
    reason: str
    level: int  # the address's n-th ban
    since: float
    until: float
    dropped: int = 0

    def as_dict(self, now: float) -> dict[str, object]:
        return {"address": self.address, "reason": self.reason, "ban": self.level,
                "for_s": round(self.until - self.since), "left_s": round(self.until - now, 1),
                "dropped": self.dropped}


class BanList:
    def __init__(self, steps: tuple[float, ...] = BAN_STEPS_S,
                 forget_after_s: float = FORGET_AFTER_S,
                 max_addresses: int = MAX_ADDRESSES) -> None:
        self.steps = steps
        self.forget_after_s = forget_after_s
        self.max_addresses = max_addresses
        self._bans: dict[str, Ban] = {}
        self.dropped = 0  # requests swallowed, all addresses, since start
        self.banned_count = 0  # bans given, since start

    def banned(self, address: str, now: float) -> bool:
        """True (and the request counted as dropped) while ``address`` is banned."""
        ban = self._bans.get(address)
        if ban is None or ban.until <= now:
            return False
        ban.dropped += 1
        self.dropped += 1
        return True

    def ban(self, address: str, reason: str, now: float) -> Ban:
        """Ban ``address`` for its next step; an active ban is left as it is."""
        old = self._bans.get(address)
        if old is not None and old.until > now:
            return old
        level = 1
        if old is not None and now - old.until < self.forget_after_s:
            level = old.level + 1
        seconds = self.steps[min(level, len(self.steps)) - 1]
        if old is None and len(self._bans) >= self.max_addresses:
            self._make_room(now)
        ban = self._bans[address] = Ban(address, reason, level, now, now + seconds)
        self.banned_count += 1
        log.warning("SIP: banned %s for %s (ban %d: %s); its requests are dropped unanswered; "
                    "`minipbx sip unban %s` lifts it", address, _span(seconds), level, reason,
                    address)
        return ban

    def lift(self, address: str) -> Ban | None:
        """Forget ``address`` (its ban, if any, and its history); the ban that was active."""
        ban = self._bans.pop(address, None)
        if ban is not None:
            log.warning("SIP: ban of %s lifted (it had dropped %d requests)", address,
                        ban.dropped)
        return ban

    def active(self, now: float) -> list[Ban]:
        return sorted((b for b in self._bans.values() if b.until > now), key=lambda b: b.since)

    def _make_room(self, now: float) -> None:
        for address, ban in list(self._bans.items()):
            if now - ban.until >= self.forget_after_s:
                del self._bans[address]
        while len(self._bans) >= self.max_addresses:
            soonest = min(self._bans.values(), key=lambda b: b.until)
            del self._bans[soonest.address]


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
