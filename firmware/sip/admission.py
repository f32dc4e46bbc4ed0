"""Which new INVITEs the box takes: decided before pjsua gives a call its media sockets.

Rules, in order (the first that refuses answers; a refusal is a stateless response, so a
refused INVITE costs no call slot, no RTP socket and no ringing):

1. **Source.** A new call is taken only from an address a trunk names: its host's
   addresses, its outbound proxy's, and the networks of its ``allow`` list ("accept SIP
   only from the proxy", as Grandstream, Cisco and Obihai ATAs call it), or from one of
   the box's own IP phones that proved its password (``firmware.sip.registrar``).
   Anything else gets 403 Forbidden. A box with no trunks and no phones takes no calls
   from the network at all.
2. **Capacity.** With every SIP call slot in use, 503 Service Unavailable: a trunk then
   tries its next route, which a 486 would stop.
3. **Rate.** New INVITEs taken from one address, and from all addresses together, are
   limited by token buckets (``PER_SOURCE_RATE`` / ``TOTAL_RATE`` a second). Beyond that,
   503. This is what keeps a burst from exhausting pjmedia's ioqueue: each INVITE that
   reaches pjsua opens an RTP and an RTCP socket, and a closed socket's slot stays taken
   for 500 ms (PJ_IOQUEUE_KEY_FREE_DELAY) out of 64 (PJ_IOQUEUE_MAX_HANDLES).

Retransmissions of an INVITE that was taken never come here (the transaction layer
absorbs them), and requests inside a dialog (a To tag) are not new calls.

Pure: the time is an argument. The counters feed ``minipbx status``; the log gets one
line per refusing source and reason per ``LOG_EVERY_S``, not one per datagram.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PER_SOURCE_RATE = 10.0
"""New calls a second one address may start (a trunk's busiest hour is far below this)."""
PER_SOURCE_BURST = 20.0
TOTAL_RATE = 25.0
"""New calls a second from everyone: at most 25 x 2 sockets x 0.5 s = 25 ioqueue slots
in the closing list, well inside pjmedia's 64 with every call slot in use."""
TOTAL_BURST = 25.0
LOG_EVERY_S = 60.0
MAX_TRACKED_SOURCES = 4096
"""Buckets kept for this many addresses (least recently seen dropped first): a scan from
a whole network cannot grow the table without bound."""

FORBIDDEN = 403
UNAVAILABLE = 503


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def take_token(table: OrderedDict[str, TokenBucket], address: str, rate: float,
               burst: float, now: float) -> bool:
    """A token from ``address``'s bucket in ``table``, made at its first use; the table keeps
    the ``MAX_TRACKED_SOURCES`` addresses seen last (the admission's and the guard's)."""
    bucket = table.pop(address, None)
    if bucket is None:
        bucket = TokenBucket(rate, burst)
        if len(table) >= MAX_TRACKED_SOURCES:
            table.popitem(last=False)  # the least recently seen
    table[address] = bucket
    return bucket.take(now)


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str  # "source", "capacity", "rate"


@dataclass
class _Noted:
    count: int = 0
    logged_at: float = -1e9
    since_log: int = 0


@dataclass
class Admission:
    """The rules above, for one box: ``decide`` per new INVITE."""

    sources: dict[str, tuple[Network, ...]] = field(default_factory=dict)
    """Trunk name -> the networks it may call from."""
    per_source_rate: float = PER_SOURCE_RATE
    per_source_burst: float = PER_SOURCE_BURST
    total: TokenBucket = field(default_factory=lambda: TokenBucket(TOTAL_RATE, TOTAL_BURST))
    counts: dict[str, int] = field(default_factory=lambda: {
        "admitted": 0, "source": 0, "capacity": 0, "rate": 0})
    _buckets: OrderedDict[str, TokenBucket] = field(default_factory=OrderedDict)
    _noted: dict[tuple[str, str], _Noted] = field(default_factory=dict)

    def set_sources(self, sources: Mapping[str, Iterable[Network]]) -> None:
        self.sources = {name: tuple(nets) for name, nets in sources.items()}

    def trunk_for(self, address: str) -> str | None:
        """The trunk whose networks hold ``address``, or None."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for name, nets in self.sources.items():
            if any(ip.version == net.version and ip in net for net in nets):
                return name
        return None

    def decide(self, address: str, calls: int, max_calls: int, now: float, *,
               phone: bool = False) -> Refusal | None:
        """None to take the INVITE from ``address``; else the refusal to answer with.
        ``phone``: the INVITE proved it comes from one of the box's IP phones (the
        registrar checked its digest), so the source rule does not apply; the others do."""
        refusal: Refusal | None = None
        if not phone and self.trunk_for(address) is None:
            refusal = Refusal(FORBIDDEN, "source")
        elif calls >= max_calls:
            refusal = Refusal(UNAVAILABLE, "capacity")
        elif not take_token(self._buckets, address, self.per_source_rate,
                            self.per_source_burst, now) or not self.total.take(now):
            refusal = Refusal(UNAVAILABLE, "rate")
        if refusal is None:
            self.counts["admitted"] += 1
        else:
            self.counts[refusal.reason] += 1
            self._note(address, refusal, now)
        return refusal

    def _note(self, address: str, refusal: Refusal, now: float) -> None:
        key = (address, refusal.reason)
        noted = self._noted.get(key)
        if noted is None:
            if len(self._noted) >= MAX_TRACKED_SOURCES:
                self._noted.clear()
            noted = self._noted[key] = _Noted()
        noted.count += 1
        noted.since_log += 1
        if now - noted.logged_at >= LOG_EVERY_S:
            log.warning("refused %d new call(s) from %s with %d: %s (%d in all)",
                        noted.since_log, address, refusal.code, _WHY[refusal.reason],
                        noted.count)
            noted.logged_at = now
            noted.since_log = 0

    def status(self) -> dict[str, object]:
        return {"refused": {k: v for k, v in self.counts.items() if k != "admitted"},
                "admitted": self.counts["admitted"],
                "sources": {name: [str(n) for n in nets] for name, nets in self.sources.items()}}


_WHY = {
    "source": "not a trunk's address (add it to the trunk's allow list if it should call in)",
    "capacity": "every SIP call slot is in use",
    "rate": "too many new calls a second",
}


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``10.0.0.0/8``, ``192.0.2.7`` or ``2001:db8::/32``; ValueError names the bad entry."""
    nets: list[Network] = []
    for entry in entries:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network "
                             "(like 203.0.113.5 or 203.0.113.0/24)") from None
    return tuple(nets)
