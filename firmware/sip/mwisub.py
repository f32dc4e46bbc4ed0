"""A phone's subscription to its mailbox's message summary (RFC 3842 over RFC 6665).

Many phones SUBSCRIBE to ``Event: message-summary`` at their registrar and show the
counts from the NOTIFYs of that subscription (pjsua, left alone, answers 489 Bad Event).
The SIP screen hands such SUBSCRIBEs here (firmware/sip/mwi.py authenticates them first).
Rules:

- **Whose mailbox.** The one of the account that proved itself (digest, 401 as for
  REGISTER), whatever user the Request-URI names (phones use their own AOR or a configured
  "MWI server" URI): a phone can only ever learn its own counts.
- **The dialog.** A SUBSCRIBE without a To tag starts one; the box's tag is the top Via's
  branch, the tag pjsip itself puts in a stateless response (``pjsip_endpt_create_response``),
  so the 200 and our NOTIFYs agree without reading pjsip's structures. A SUBSCRIBE with a
  To tag refreshes (or, with ``Expires: 0``, ends) the subscription of that Call-ID and
  From tag; an unknown one gets 481.
- **Expiry.** ``Expires`` (default and most ``MAX_EXPIRES_S``, at least ``MIN_EXPIRES_S``,
  else 423); an expired subscription is forgotten; a phone that ends it gets a last NOTIFY
  ``terminated``. At most ``MAX_PER_EXTENSION`` per extension: a new one pushes out the
  oldest. A NOTIFY answered 481 ends the subscription on our side too.
- **Where.** NOTIFYs go to the SUBSCRIBE's Contact at the address the SUBSCRIBE came from
  (as calls to a phone behind NAT: ``Binding.target``).

Pure: the time and the source are arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from firmware.sip.message import header, header_lines, split_list
from firmware.sip.registrar import Binding, Reply

DEFAULT_EXPIRES_S = 3600
MAX_EXPIRES_S = 3600
MIN_EXPIRES_S = 60
MAX_PER_EXTENSION = 4

_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)
_TAG = re.compile(r";\s*tag\s*=\s*([^;,\s>]+)", re.IGNORECASE)
_URI_IN_BRACKETS = re.compile(r"<([^>]*)>")


def event_type(text: str) -> str:
    """The Event header's package (``message-summary;id=1`` -> ``message-summary``)."""
    return (header(text, "Event") or header(text, "o") or "").split(";", 1)[0].strip().lower()


@dataclass
class Subscription:
    extension: str
    call_id: str
    remote: str  # the SUBSCRIBE's From (the phone's AOR and tag): our NOTIFYs' To
    local: str  # its To with the box's tag: our NOTIFYs' From
    where: Binding  # the SUBSCRIBE's Contact, at its source
    expires_at: float
    cseq: int = 0
    ended: bool = False  # by the phone (Expires: 0), not by time

    def state(self, now: float) -> str:
        left = round(self.expires_at - now)
        if self.ended:
            return "terminated"
        return f"active;expires={left}" if left > 0 else "terminated;reason=timeout"


@dataclass
class Subscriptions:
    _subs: dict[tuple[str, str], Subscription] = field(default_factory=dict)

    def subscribe(self, extension: str, text: str, source: tuple[str, int], transport: str,
                  now: float) -> tuple[Reply, Subscription | None]:
        """An authenticated SUBSCRIBE of ``extension``: the answer, and the subscription
        to NOTIFY right after it (None after a refusal)."""
        call_id = header(text, "Call-ID") or ""
        from_value = header(text, "From") or ""
        to_value = header(text, "To") or ""
        remote_tag = _tag(from_value)
        if not call_id or not remote_tag:
            return Reply(400, "Bad Request", note="SUBSCRIBE without Call-ID or From tag"), None
        try:
            expires = int(header(text, "Expires") or DEFAULT_EXPIRES_S)
        except ValueError:
            expires = DEFAULT_EXPIRES_S
        if 0 < expires < MIN_EXPIRES_S:
            return Reply(423, "Interval Too Brief", (("Min-Expires", str(MIN_EXPIRES_S)),)), None
        expires = min(max(expires, 0), MAX_EXPIRES_S)
        key = (call_id, remote_tag)
        self._prune(now)
        if _tag(to_value):
            sub = self._subs.get(key)
            if sub is None or sub.extension != extension or _tag(sub.local) != _tag(to_value):
                return Reply(481, "Subscription Does Not Exist"), None
        else:
            via = header(text, "Via") or ""
            branch = _BRANCH.search(via)
            if branch is None:
                return Reply(400, "Bad Request", note="SUBSCRIBE without a Via branch"), None
            contacts = [c for line in header_lines(text, "Contact") for c in split_list(line)]
            found = _URI_IN_BRACKETS.search(contacts[0]) if contacts else None
            uri = (found.group(1) if found else (contacts[0] if contacts else "")).strip()
            if not uri.lower().startswith(("sip:", "sips:")):
                return Reply(400, "Bad Request", note="SUBSCRIBE without a SIP Contact"), None
            sub = Subscription(extension, call_id, from_value,
                               f"{to_value};tag={branch.group(1)}",
                               Binding(uri, source, transport, now + expires, now), now)
            mine = [k for k, s in self._subs.items() if s.extension == extension]
            for old in mine[:max(0, len(mine) - MAX_PER_EXTENSION + 1)]:
                del self._subs[old]
            self._subs[key] = sub
        sub.expires_at = now + expires
        if expires == 0:
            sub.ended = True
            self._subs.pop(key, None)
        return Reply(200, "OK", (("Expires", str(expires)),)), sub

    def live(self, extension: str, now: float) -> list[Subscription]:
        self._prune(now)
        return [s for s in self._subs.values() if s.extension == extension]

    def end(self, call_id: str) -> bool:
        """The phone answered 481 to a NOTIFY of ``call_id``: forget that subscription."""
        gone = [k for k in self._subs if k[0] == call_id]
        for key in gone:
            del self._subs[key]
        return bool(gone)

    def _prune(self, now: float) -> None:
        for key in [k for k, s in self._subs.items() if s.expires_at <= now]:
            del self._subs[key]

    def status(self, now: float) -> list[dict[str, object]]:
        return [{"extension": s.extension, "contact": s.where.target(),
                 "expires_in": round(s.expires_at - now)}
                for s in self._subs.values() if s.expires_at > now]


def _tag(value: str) -> str:
    # The tag parameter after the URI (a tag inside <...> would be a URI parameter).
    rest = value[value.rfind(">") + 1:] if ">" in value else value
    m = _TAG.search(rest)
    return m.group(1) if m else ""
