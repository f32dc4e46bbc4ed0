"""Message-waiting indication to IP phones (RFC 3842): unsolicited NOTIFY, and
subscriptions.

A phone's mailbox (``[[sip_user]] voicemail``) lights the phone's lamp and its envelope
icon through a NOTIFY with ``Event: message-summary`` and a body of
``application/simple-message-summary``, sent outside any dialog ("unsolicited", as
Asterisk, FreeSWITCH and most IP-PBXs do; Grandstream, Yealink, Cisco, Polycom, snom and
most ATAs take it). Rules:

- **When.** When the mailbox's counts change (a message left, heard, deleted), at start
  and every refresh of the voicemail service (``force``), and when a phone binds a fresh
  contact (``Reply.fresh`` of firmware/sip/registrar.py: a new contact, or a phone that
  restarted), to that contact only. Nothing is sent for a mailbox the voicemail service
  has not named (``update``), so an extension without voicemail gets no NOTIFY.
- **Where.** Only to the live bindings of that extension, at the address their REGISTER
  came from (``Binding.target``), through pjsip's own transport (the phone sees the
  registrar's address and port, and a TCP phone gets it on its own connection). Never
  to anything else: there is no way to name a destination but an extension.
- **Subscriptions.** A phone that SUBSCRIBEs to message-summary (authenticated as for
  REGISTER, and from the address of one of its registrations, else 403) gets 200, a
  NOTIFY in that dialog at once, and one at each change or refresh
  (firmware/sip/mwisub.py); its registrations from the same address then get no
  unsolicited NOTIFY (one lamp, one message). A subscription whose address is no longer
  registered gets nothing. Other events, and users without a mailbox, are left to pjsua
  (489).
- **No answer.** The NOTIFY is sent once, statelessly: it is a hint repeated at the next
  change or refresh, not a transaction worth retransmitting to a phone that has gone. A
  contact that has not answered within ``ANSWER_WAIT_S`` (Timer F, 64*T1), or answered
  with an error (405, 481, 489: a phone that wants a subscription), is logged once until
  it answers 2xx again; at most ``MAX_PENDING`` NOTIFYs are remembered.

Pure: the clock and the sender are injected; firmware/sip/mwisend.py sends through pjsip.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from firmware.sip.message import header, parse_name_addr
from firmware.sip.mwisub import Subscription, Subscriptions, event_type
from firmware.sip.registrar import Binding, Registrar, Reply

log = logging.getLogger(__name__)

EVENT = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"
ANSWER_WAIT_S = 32.0  # RFC 3261 Timer F (64*T1): a non-INVITE's last chance to answer
MAX_PENDING = 256
CALL_ID_PREFIX = "mwi-"


@dataclass(frozen=True)
class Summary:
    """A mailbox's counts: new (unheard) and old (heard) voice messages."""

    new: int
    old: int

    def body(self, account: str) -> str:
        """The RFC 3842 body; urgent counts are always 0/0 (the box has no urgent mark)."""
        return (f"Messages-Waiting: {'yes' if self.new else 'no'}\r\n"
                f"Message-Account: {account}\r\n"
                f"Voice-Message: {self.new}/{self.old} (0/0)\r\n")


@dataclass(frozen=True)
class Local:
    """The box's SIP address on one transport: where a phone's answer comes back."""

    kind: str  # udp, tcp, tls
    host: str
    port: int

    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def contact_of(extension: str, local: Local) -> str:
    """The box's Contact for ``extension``'s NOTIFYs (and a subscription's 200)."""
    params = "" if local.kind == "udp" else f";transport={local.kind}"
    return f"<sip:{extension}@{local.hostport()}{params}>"


def build_notify(request_uri: str, from_value: str, to_value: str, call_id: str, cseq: int,
                 branch: str, local: Local, extension: str, summary: Summary, state: str,
                 user_agent: str = "minipbx") -> bytes:
    """A whole message-summary NOTIFY; ``state`` is its Subscription-State."""
    body = summary.body(f"sip:{extension}@{local.hostport()}").encode()
    lines = [
        f"NOTIFY {request_uri} SIP/2.0",
        f"Via: SIP/2.0/{local.kind.upper()} {local.hostport()};rport;branch=z9hG4bK-{branch}",
        "Max-Forwards: 70",
        f"From: {from_value}",
        f"To: {to_value}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} NOTIFY",
        f"Contact: {contact_of(extension, local)}",
        f"Event: {EVENT}",
        f"Subscription-State: {state}",
        f"User-Agent: {user_agent}",
        f"Content-Type: {CONTENT_TYPE}",
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def notify_text(binding: Binding, extension: str, local: Local, summary: Summary,
                call_id: str, cseq: int, tag: str, user_agent: str = "minipbx") -> bytes:
    """The unsolicited NOTIFY for one binding: Request-URI the Contact as the phone wrote
    it (the phone matches it), From and To the phone's own address of record at the box."""
    account = f"<sip:{extension}@{local.hostport()}>"
    return build_notify(binding.uri, f"{account};tag={tag}", account, call_id, cseq,
                        f"{tag}-{cseq}", local, extension, summary, "active", user_agent)


@dataclass
class _Sent:
    extension: str
    target: str
    at: float


class MwiNotifier:
    """Decides when to send which NOTIFY to which contact, and notes who answers."""

    def __init__(self, registrar: Registrar, send: Callable[[str, bytes], bool],
                 local: Callable[[str], Local | None], clock: Callable[[], float],
                 user_agent: str = "minipbx") -> None:
        self.registrar = registrar
        self.send = send  # (destination URI, datagram) -> sent
        self.local = local  # transport kind -> the box's address on it
        self.clock = clock
        self.user_agent = user_agent
        self.enabled = True
        self.tracking = True  # answers are seen (the SIP screen is on)
        self.summaries: dict[str, Summary] = {}
        self.sent = 0
        self.answers = 0  # 2xx answers to our NOTIFYs
        self._pending: dict[str, _Sent] = {}  # Call-ID -> the NOTIFY awaiting an answer
        self._silent: set[str] = set()  # targets logged as not answering
        self._tag = os.urandom(4).hex()
        self.subscriptions = Subscriptions()  # phones that SUBSCRIBE (mwisub.py)
        self._cseq = itertools.count(1)

    # --- what the voicemail service and the registrar say --------------------------------
    def update(self, extension: str, new: int, old: int, force: bool = False) -> int:
        """The mailbox of ``extension`` has these counts; NOTIFY its contacts if they
        changed (or ``force``). Returns how many NOTIFYs went."""
        summary = Summary(new, old)
        if self.summaries.get(extension) == summary and not force:
            return 0
        self.summaries[extension] = summary
        return self._notify(extension, summary, None)

    def forget(self, extension: str) -> None:
        """The mailbox is gone (voicemail switched off): no more NOTIFYs for it."""
        self.summaries.pop(extension, None)

    def registered(self, extension: str, contacts: tuple[str, ...]) -> int:
        """``contacts`` of ``extension`` were bound afresh: tell them the mailbox's state."""
        summary = self.summaries.get(extension)
        if summary is None:
            return 0
        return self._notify(extension, summary, set(contacts))

    def subscribe(self, text: str, source: tuple[str, int], transport: str,
                  now: float) -> tuple[Reply | None, Subscription | None]:
        """A SUBSCRIBE the screen saw: None to leave it to pjsua (not message-summary, or
        no mailbox for that user: pjsua answers 489), else the answer, and the
        subscription to NOTIFY once it is sent (``notify_subscription``)."""
        if not self.enabled or event_type(text) != EVENT:
            return None, None
        ext = parse_name_addr(header(text, "From") or "").user or ""
        if ext not in self.summaries:
            return None, None
        refusal = self.registrar.authenticate("SUBSCRIBE", ext, text, source, now)
        if refusal is not None:
            return refusal, None
        if not self._registered(ext, source, now) and ";tag=" not in \
                (header(text, "To") or "").replace(" ", "").lower():
            return Reply(403, "Forbidden", note=f"{ext} subscribed from {source[0]}:"
                         f"{source[1]}, where it is not registered"), None
        reply, sub = self.subscriptions.subscribe(ext, text, source, transport, now)
        local = self.local(transport)
        if sub is not None and local is not None:
            reply = Reply(reply.code, reply.reason,
                          (*reply.headers, ("Contact", contact_of(ext, local))))
            log.info("phone %s at %s: message-summary subscription, %s", ext,
                     sub.where.target(), sub.state(now))
        return reply, sub

    def notify_subscription(self, sub: Subscription) -> bool:
        """The subscription's NOTIFY, in its dialog, with the mailbox's current state."""
        summary = self.summaries.get(sub.extension, Summary(0, 0))
        local = self.local(sub.where.transport)
        if local is None:
            return False
        now = self.clock()
        if not self._registered(sub.extension, sub.where.source, now):
            return False  # only ever to a registered contact of that extension
        sub.cseq += 1
        text = build_notify(sub.where.uri, sub.local, sub.remote, sub.call_id, sub.cseq,
                            f"{self._tag}-s{next(self._cseq)}", local, sub.extension,
                            summary, sub.state(now), self.user_agent)
        target = sub.where.target()
        if not self.send(target, text):
            log.warning("phone %s: message-summary NOTIFY to %s not sent", sub.extension,
                        target)
            return False
        if self.tracking:
            self._pending[sub.call_id] = _Sent(sub.extension, target, now)
        self.sent += 1
        return True

    def _registered(self, extension: str, source: tuple[str, int], now: float) -> bool:
        return any(b.source == source for b in self.registrar.bindings(extension, now))

    def answered(self, call_id: str, code: int) -> bool:
        """A response to one of our NOTIFYs (by Call-ID); False if it is none of ours."""
        sent = self._pending.pop(call_id, None)
        if sent is None:
            return False
        if 200 <= code < 300:
            self.answers += 1
            if sent.target in self._silent:
                self._silent.discard(sent.target)
                log.info("phone %s at %s answers its message-waiting NOTIFY again",
                         sent.extension, sent.target)
        elif code == 481 and self.subscriptions.end(call_id):
            log.info("phone %s at %s ended its message-summary subscription (481)",
                     sent.extension, sent.target)
        elif code >= 300:
            self._quiet(sent, f"refused it with {code}")
        return True

    # --- sending --------------------------------------------------------------------------
    def _notify(self, extension: str, summary: Summary, only: set[str] | None) -> int:
        if not self.enabled or extension not in self.registrar.accounts:
            return 0
        now = self.clock()
        self._sweep(now)
        count = 0
        subscribed = set()
        for sub in self.subscriptions.live(extension, now):
            subscribed.add(sub.where.source)
            if only is None and self.notify_subscription(sub):
                count += 1
        for binding in self.registrar.bindings(extension, now):
            if only is not None and binding.uri not in only:
                continue
            if binding.source in subscribed:
                continue  # it subscribed: it hears through its subscription, not twice
            local = self.local(binding.transport)
            if local is None:
                continue
            cseq = next(self._cseq)
            call_id = f"{CALL_ID_PREFIX}{self._tag}-{cseq}"
            text = notify_text(binding, extension, local, summary, call_id, cseq, self._tag,
                               self.user_agent)
            target = binding.target()
            if not self.send(target, text):
                log.warning("phone %s: message-waiting NOTIFY to %s not sent", extension,
                            target)
                continue
            if self.tracking:
                self._pending[call_id] = _Sent(extension, target, now)
            count += 1
            self.sent += 1
        if count:
            log.info("mailbox %s: message-waiting %s (%d/%d) sent to %d contact(s)",
                     extension, "yes" if summary.new else "no", summary.new, summary.old,
                     count)
        while len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        return count

    def _sweep(self, now: float) -> None:
        for call_id, sent in list(self._pending.items()):
            if now - sent.at >= ANSWER_WAIT_S:
                del self._pending[call_id]
                self._quiet(sent, f"did not answer within {ANSWER_WAIT_S:.0f} s")

    def _quiet(self, sent: _Sent, what: str) -> None:
        if sent.target in self._silent:
            return
        self._silent.add(sent.target)
        log.warning("phone %s at %s %s its message-waiting NOTIFY; it gets the next one "
                    "all the same (said once)", sent.extension, sent.target, what)

    def status(self) -> dict[str, object]:
        return {"enabled": self.enabled, "sent": self.sent, "answered": self.answers,
                "subscriptions": self.subscriptions.status(self.clock()),
                "mailboxes": {e: f"{s.new}/{s.old}" for e, s in sorted(self.summaries.items())},
                "not_answering": sorted(self._silent)}
