"""The box as the registrar of its IP phones (``[[sip_user]]``), RFC 3261 section 10.

An IP phone or softphone is an extension like an analog handset: it registers here with
its extension number as the user and its password (digest, ``firmware.sip.digest``), and
the box then knows where to send its calls. Rules:

- **Who.** The To user of a REGISTER names the account. The source address must lie in
  the account's ``allow`` networks (by default the private networks and loopback: an
  office LAN; a phone on the Internet needs its network listed). Unknown users are
  challenged exactly like known ones, so a scanner cannot tell which extensions exist;
  every wrong answer, and every REGISTER for an unknown user or from outside ``allow``,
  is a failed login for the SIP guard (``guard.auth_failed``), which bans repeat guessers.
- **Bindings.** Each Contact becomes a binding with its own expiry (the Contact's
  ``expires`` parameter, else the Expires header, else ``DEFAULT_EXPIRES_S``), clamped to
  ``max_expires_s``; below ``min_expires_s`` the answer is 423 with Min-Expires.
  ``expires=0`` removes one binding, ``Contact: *`` with ``Expires: 0`` all of them. An
  account keeps at most ``max_contacts`` bindings: a new one pushes out the oldest.
- **NAT.** A phone behind NAT writes its private address in Contact; the box sends its
  calls to the address the REGISTER came from instead (what Kamailio's
  ``fix_nated_contact`` does), keeping the user part and the transport. Phones keep
  their NAT mapping open with their own keep-alives (CRLF or OPTIONS, which pjsip
  answers), or by registering again within the binding's life.
- **Calls from a phone.** A new INVITE whose From user is an account, from a source
  that is one of its bindings or is no trunk's address, must carry a Proxy-Authorization
  for that account; without one it gets 407 with a challenge.

Pure: the time and the source address are arguments, replies are data; the SIP screen
(``firmware.sip.screen``) sends them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from firmware.sip.digest import DigestAuth
from firmware.sip.message import header, header_lines, parse_name_addr, split_list

DEFAULT_EXPIRES_S = 600
DEFAULT_ALLOW = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                 "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128")

_URI_IN_BRACKETS = re.compile(r"<([^>]*)>")
_HOSTPORT = re.compile(r"^(sips?:)(?:([^@]*)@)?(\[[^\]]+\]|[^;:?>]+)(?::(\d+))?(.*)$",
                       re.IGNORECASE)


@dataclass(frozen=True)
class PhoneAccount:
    """One ``[[sip_user]]``: the extension an IP phone registers as."""

    extension: str
    password: str
    name: str = ""
    max_contacts: int = 3
    allow: tuple[str, ...] = DEFAULT_ALLOW

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.allow)


@dataclass
class Binding:
    uri: str  # the Contact URI as the phone wrote it
    source: tuple[str, int]  # where its REGISTER came from
    transport: str  # udp, tcp, tls
    expires_at: float
    registered_at: float
    user_agent: str = ""
    call_id: str = ""  # of the REGISTER: a new one means the phone started afresh

    def target(self) -> str:
        """Where to send a call for this binding: the Contact URI with its host and port
        replaced by the REGISTER's source (right behind NAT, and the same otherwise)."""
        m = _HOSTPORT.match(self.uri)
        host, port = self.source
        host = f"[{host}]" if ":" in host else host
        if m is None:
            return f"sip:{host}:{port}"
        scheme, user, _, _, rest = m.groups()
        rest = re.sub(r";transport=[^;?>]*", "", rest, flags=re.IGNORECASE)
        params = "" if self.transport == "udp" else f";transport={self.transport}"
        userpart = f"{user}@" if user else ""
        return f"{scheme}{userpart}{host}:{port}{params}{rest}"


@dataclass(frozen=True)
class Reply:
    """A response to send: code, reason, extra headers; ``failed_login`` feeds the guard;
    ``note`` says why, for the log."""

    code: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    failed_login: bool = False
    note: str = ""
    # A 200 that bound a fresh contact: (extension, its contact URIs). Fresh is a contact
    # not bound before, or bound by another Call-ID: a phone keeps its REGISTER Call-ID
    # while it runs (RFC 3261 10.2.4), so a new one is a phone that restarted and has
    # forgotten what it was told (its message-waiting state: firmware/sip/mwi.py).
    fresh: tuple[str, tuple[str, ...]] | None = None


@dataclass
class Registrar:
    auth: DigestAuth
    min_expires_s: int = 60
    max_expires_s: int = 3600
    accounts: dict[str, PhoneAccount] = field(default_factory=dict)
    _bindings: dict[str, list[Binding]] = field(default_factory=dict)

    def set_accounts(self, accounts: Iterable[PhoneAccount]) -> None:
        """The configured accounts (at start and after a commit); a removed account's
        bindings go, a changed password keeps them until they expire or re-register."""
        self.accounts = {a.extension: a for a in accounts}
        for ext in [e for e in self._bindings if e not in self.accounts]:
            del self._bindings[ext]

    # --- REGISTER ------------------------------------------------------------------------
    def register(self, text: str, source: tuple[str, int], transport: str,
                 now: float) -> Reply:
        ext = parse_name_addr(header(text, "To") or "").user or ""
        refusal = self.authenticate("REGISTER", ext, text, source, now)
        if refusal is not None:
            return refusal
        return self._update(self.accounts[ext], text, source, transport, now)

    def authenticate(self, method: str, ext: str, text: str, source: tuple[str, int],
                     now: float) -> Reply | None:
        """None when ``text`` (a REGISTER, or a phone's SUBSCRIBE) proves with its
        Authorization that it comes from account ``ext``; else the 401/403 to send.
        Unknown users are challenged as known ones are."""
        account = self.accounts.get(ext)
        challenge = (("WWW-Authenticate", self.auth.challenge(now)),)
        if account is not None and not _allowed(account, source[0]):
            return Reply(403, "Forbidden", failed_login=True,
                         note=f"{source[0]} is outside the allow list of {ext}")
        verdict = self.auth.verify(method, header(text, "Authorization"),
                                   lambda user: self._password(user, ext), now)
        if verdict.problem == "missing":
            return Reply(401, "Unauthorized", challenge, failed_login=account is None,
                         note="" if account else f"no account {ext!r}")
        if verdict.problem == "stale":
            return Reply(401, "Unauthorized",
                         (("WWW-Authenticate", self.auth.challenge(now, stale=True)),))
        if verdict.user is None or account is None:
            return Reply(401, "Unauthorized", challenge, failed_login=True,
                         note=f"{ext or '(no user)'}: {verdict.problem or 'no account'}")
        return None

    def _password(self, user: str, ext: str) -> str | None:
        # The digest user must be the extension registered (no registering for others).
        account = self.accounts.get(user)
        return account.password if account is not None and user == ext else None

    def _update(self, account: PhoneAccount, text: str, source: tuple[str, int],
                transport: str, now: float) -> Reply:
        ext = account.extension
        default = _int(header(text, "Expires"), DEFAULT_EXPIRES_S)
        contacts = [c for line in header_lines(text, "Contact") for c in split_list(line)]
        current = self._live(ext, now)
        if contacts == ["*"]:
            if default != 0:
                return Reply(400, "Bad Request", note="Contact: * needs Expires: 0")
            self._bindings.pop(ext, None)
            return Reply(200, "OK")
        agent = header(text, "User-Agent") or ""
        call_id = header(text, "Call-ID") or ""
        known = {(b.uri, b.call_id) for b in current}
        for contact in contacts:
            m = _URI_IN_BRACKETS.search(contact)
            uri = (m.group(1) if m else contact.split(";", 1)[0]).strip()
            params = contact[m.end():] if m else contact[len(uri):]
            expires = _int(_param(params, "expires"), default)
            if not uri.lower().startswith(("sip:", "sips:")):
                return Reply(400, "Bad Request", note=f"contact {uri!r} is no SIP URI")
            current = [b for b in current if b.uri != uri]
            if expires == 0:
                continue
            if expires < self.min_expires_s:
                return Reply(423, "Interval Too Brief",
                             (("Min-Expires", str(self.min_expires_s)),))
            expires = min(expires, self.max_expires_s)
            current.append(Binding(uri, source, transport, now + expires, now, agent,
                                   call_id))
        current = current[-account.max_contacts:]
        if current:
            self._bindings[ext] = current
        else:
            self._bindings.pop(ext, None)
        fresh = tuple(b.uri for b in current if (b.uri, b.call_id) not in known)
        return Reply(200, "OK", tuple(
            ("Contact", f"<{b.uri}>;expires={max(0, round(b.expires_at - now))}")
            for b in current), fresh=(ext, fresh) if fresh else None)

    # --- INVITE from a phone -------------------------------------------------------------
    def caller_of(self, text: str, source: tuple[str, int], *, trunk_source: bool) -> str | None:
        """The account an INVITE comes from, if it claims one: its From user is an
        account, and it comes from one of that account's bindings or from no trunk."""
        ext = parse_name_addr(header(text, "From") or "").user or ""
        if ext not in self.accounts:
            return None
        if trunk_source and not any(b.source == source for b in self._bindings.get(ext, ())):
            return None
        return ext

    def authorize_invite(self, ext: str, text: str, source: tuple[str, int],
                         now: float) -> Reply | None:
        """None when the INVITE proves it is ``ext``; else the 403/407 to send."""
        account = self.accounts[ext]
        if not _allowed(account, source[0]):
            return Reply(403, "Forbidden", failed_login=True,
                         note=f"{source[0]} is outside the allow list of {ext}")
        verdict = self.auth.verify("INVITE", header(text, "Proxy-Authorization"),
                                   lambda user: self._password(user, ext), now)
        if verdict.user is not None:
            return None
        stale = verdict.problem == "stale"
        return Reply(407, "Proxy Authentication Required",
                     (("Proxy-Authenticate", self.auth.challenge(now, stale=stale)),),
                     failed_login=verdict.problem not in ("missing", "stale"),
                     note=f"{ext}: {verdict.problem}")

    # --- lookups -------------------------------------------------------------------------
    def bindings(self, ext: str, now: float) -> list[Binding]:
        """The live bindings of ``ext``, the most recent first."""
        return sorted(self._live(ext, now), key=lambda b: b.registered_at, reverse=True)

    def _live(self, ext: str, now: float) -> list[Binding]:
        return [b for b in self._bindings.get(ext, ()) if b.expires_at > now]

    def expire(self, now: float) -> list[tuple[str, Binding]]:
        """Forget expired bindings; returns them (for the log)."""
        gone: list[tuple[str, Binding]] = []
        for ext in list(self._bindings):
            keep = [b for b in self._bindings[ext] if b.expires_at > now]
            gone += [(ext, b) for b in self._bindings[ext] if b.expires_at <= now]
            if keep:
                self._bindings[ext] = keep
            else:
                del self._bindings[ext]
        return gone

    def status(self, now: float) -> dict[str, object]:
        return {ext: {"name": account.name,
                      "contacts": [{"uri": b.uri, "source": f"{b.source[0]}:{b.source[1]}",
                                    "transport": b.transport,
                                    "expires_in": round(b.expires_at - now),
                                    "user_agent": b.user_agent}
                                   for b in self.bindings(ext, now)]}
                for ext, account in sorted(self.accounts.items())}


PHONE_LEG_PREFIX = "phone"


def phone_leg(extension: str) -> str:
    """The leg of IP phone ``extension``'s calls, both ways (one call at a time)."""
    return f"{PHONE_LEG_PREFIX}{extension}"


def phone_extension(leg: str) -> str | None:
    """The extension of a phone leg (``phone110`` -> ``110``); None for other legs."""
    return leg[len(PHONE_LEG_PREFIX):] if leg.startswith(PHONE_LEG_PREFIX) else None


def _allowed(account: PhoneAccount, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in account.networks())


def _param(params: str, name: str) -> str | None:
    m = re.search(rf";\s*{name}\s*=\s*([^;\s,]+)", params, re.IGNORECASE)
    return m.group(1) if m else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
