"""Per-address limits on every SIP request, on failed authentications, scanners and bans.

The SIP screen (firmware/sip/screen.py) asks this guard about every request pjsip hands
it, in this order, cheapest first:

1. **Banned?** A banned address's request is swallowed: no answer, no parsing beyond its
   source address (firmware/sip/bans.py: 1 min, 5 min, 30 min, 2 h, then a day).
2. **Scanner?** A request whose User-Agent names a known scanner (firmware/sip/scanners.py)
   is swallowed and its address banned.
3. **Rate.** Every request (any method: OPTIONS, REGISTER, INVITE, ACK, BYE, in or out of a
   dialog) takes a token from its address's bucket (``PER_ADDRESS_RATE`` a second, bursts
   of ``PER_ADDRESS_BURST``). An address out of tokens is banned and the request swallowed.
4. **Failed authentications.** Each one takes a token from the address's failure bucket
   (``FAILED_AUTH_BURST`` at once, then ``FAILED_AUTH_PER_MIN`` a minute); with none left
   the address is banned. Today the box authenticates no request, so the failures counted
   are the requests the screen refuses as a stranger's (403 to an INVITE or REGISTER from
   an address no trunk names). The registrar of the IP phones (issue 13) calls
   :meth:`Guard.auth_failed` with the source address for each request whose digest is
   wrong or whose user is unknown: that is its whole duty here.

**Trunk addresses are never banned**: a provider's burst, or datagrams forged with its
source address, must not cut the office off. Over its rate a trunk's new requests get
503 (a provider tries its next route), its requests inside a dialog and its ACKs and
CANCELs pass; a trunk's address naming a scanner is swallowed, not banned.

Runs on the loop thread (the screen's callback and the commands); the tables are bounded.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

from firmware.sip.admission import LOG_EVERY_S, MAX_TRACKED_SOURCES, TokenBucket, take_token
from firmware.sip.bans import BanList

log = logging.getLogger(__name__)

PER_ADDRESS_RATE = 20.0
"""Requests a second from one address: a trunk with four calls and its OPTIONS pings
sends a few; a phone re-registering, one a minute."""
PER_ADDRESS_BURST = 60.0
FAILED_AUTH_BURST = 5.0
FAILED_AUTH_PER_MIN = 5.0

Verdict = Literal["pass", "drop", "busy"]
"""pass: on to the next check; drop: swallow unanswered; busy: a trunk over its rate
(answer 503 if the request may be answered, else let it pass)."""


class Guard:
    def __init__(self, is_trunk: Callable[[str], bool], bans: BanList | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.is_trunk = is_trunk
        self.ban_list = bans or BanList()
        self._clock = clock
        self._requests: OrderedDict[str, TokenBucket] = OrderedDict()
        self._failures: OrderedDict[str, TokenBucket] = OrderedDict()
        self._logged: dict[str, float] = {}
        self.counts = {"scanner": 0, "over_rate": 0, "trunk_over_rate": 0, "failed_auth": 0}

    # --- per request, from the screen -----------------------------------------------------
    def banned(self, address: str, now: float) -> bool:
        return self.ban_list.banned(address, now)

    def scanner(self, address: str, agent: str, now: float) -> None:
        """A request naming scanner ``agent`` came from ``address`` (it is swallowed)."""
        self.counts["scanner"] += 1
        if self.is_trunk(address):
            self._log_once(address, now, "SIP: a request from trunk address %s names the "
                           "scanner %r; dropped (trunk addresses are never banned)", agent)
            return
        self.ban_list.ban(address, f"scanner User-Agent {agent!r}", now)

    def request(self, address: str, now: float) -> Verdict:
        """Every request from ``address`` (not banned) takes a token."""
        if take_token(self._requests, address, PER_ADDRESS_RATE, PER_ADDRESS_BURST, now):
            return "pass"
        if self.is_trunk(address):
            self.counts["trunk_over_rate"] += 1
            self._log_once(address, now, "SIP: trunk address %s sends over %g requests a "
                           "second; its new requests get 503 meanwhile", PER_ADDRESS_RATE)
            return "busy"
        self.counts["over_rate"] += 1
        self.ban_list.ban(address, f"over {PER_ADDRESS_RATE:g} requests a second", now)
        return "drop"

    # --- the seam for authentication ------------------------------------------------------
    def auth_failed(self, address: str, now: float | None = None) -> bool:
        """A request from ``address`` failed authentication (a stranger refused, a wrong
        digest, an unknown user). True if the address is banned now."""
        now = self._clock() if now is None else now
        self.counts["failed_auth"] += 1
        if self.is_trunk(address):
            return False
        if take_token(self._failures, address, FAILED_AUTH_PER_MIN / 60.0, FAILED_AUTH_BURST, now):
            return False
        self.ban_list.ban(address, f"over {FAILED_AUTH_BURST:g} failed authentications", now)
        return True

    # --- commands and status --------------------------------------------------------------
    def bans(self) -> list[dict[str, object]]:
        now = self._clock()
        return [b.as_dict(now) for b in self.ban_list.active(now)]

    def unban(self, address: str) -> dict[str, object] | None:
        """Lift ``address``'s ban and forget its history; the ban lifted, or None."""
        address = address.strip()
        self._failures.pop(address, None)
        self._requests.pop(address, None)
        ban = self.ban_list.lift(address)
        now = self._clock()
        return ban.as_dict(now) if ban is not None and ban.until > now else None

    def status(self) -> dict[str, object]:
        return {**self.counts, "dropped_while_banned": self.ban_list.dropped,
                "bans_given": self.ban_list.banned_count, "bans": self.bans()}

    def _log_once(self, address: str, now: float, message: str, *args: object) -> None:
        if now - self._logged.get(address, -1e9) >= LOG_EVERY_S:
            if len(self._logged) >= MAX_TRACKED_SOURCES:
                self._logged.clear()
            self._logged[address] = now
            log.warning(message, address, *args)
