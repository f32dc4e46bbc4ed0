"""HTTP digest authentication for SIP (RFC 3261 section 22, RFC 2617 with ``qop=auth``,
RFC 7616's SHA-256 as well as MD5), server side: challenges and checking the answers.

Nonces carry their own issue time and an HMAC of it under a secret the box draws at
start, so checking one needs no table: a nonce older than ``NONCE_LIFETIME_S`` is *stale*
(the phone answers the new challenge without asking its user again) and a forged or
mangled one is simply wrong. Nonce counts are not tracked: a captured answer can be
replayed only within a nonce's lifetime, and only for the same request URI and method.

Pure: the time is an argument, and the password comes from a lookup the caller gives.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

NONCE_LIFETIME_S = 300.0
ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?')


def parse_params(value: str) -> dict[str, str] | None:
    """``Digest username="a", nc=00000001, ...`` as a dict (keys lower-case); None when
    the value is not a Digest credential at all."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.end() == pos:
            return None
        quoted, plain = m.group(2), m.group(3)
        params[m.group(1).lower()] = (re.sub(r"\\(.)", r"\1", quoted)
                                      if quoted is not None else plain)
        pos = m.end()
    return params


@dataclass(frozen=True)
class Verdict:
    """What an Authorization header proved: ``user`` when it is right; otherwise
    ``problem`` says what was wrong ("stale" asks only for a fresh challenge)."""

    user: str | None
    problem: Literal["", "missing", "malformed", "unknown user", "wrong realm", "stale",
                     "bad nonce", "wrong password", "wrong uri"] = ""


class DigestAuth:
    def __init__(self, realm: str, secret: bytes | None = None) -> None:
        self.realm = realm
        self._secret = secret or os.urandom(32)

    def nonce(self, now: float) -> str:
        # Whole milliseconds, cut down, never rounded up: a stamp ahead of the clock made
        # an answer within the same millisecond come "before" its nonce, hence stale.
        stamp = f"{math.floor(now * 1000) / 1000:.3f}"
        mac = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp}.{mac}"

    def challenge(self, now: float, *, stale: bool = False,
                  algorithm: str = "MD5") -> str:
        """A WWW-Authenticate (or Proxy-Authenticate) value."""
        value = (f'Digest realm="{self.realm}", nonce="{self.nonce(now)}", '
                 f'algorithm={algorithm}, qop="auth"')
        return value + (", stale=true" if stale else "")

    def _nonce_state(self, nonce: str, now: float) -> Literal["ok", "stale", "bad"]:
        stamp, _, mac = nonce.rpartition(".")
        want = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(mac, want):
            return "bad"
        try:
            issued = float(stamp)
        except ValueError:
            return "bad"
        return "ok" if 0 <= now - issued <= NONCE_LIFETIME_S else "stale"

    def verify(self, method: str, credential: str | None,
               password_for: Callable[[str], str | None], now: float) -> Verdict:
        """Check an Authorization / Proxy-Authorization value for ``method``."""
        if not credential:
            return Verdict(None, "missing")
        params = parse_params(credential)
        if params is None or not all(k in params for k in ("username", "nonce", "uri",
                                                             "response")):
            return Verdict(None, "malformed")
        user = params["username"]
        if params.get("realm", "") != self.realm:
            return Verdict(None, "wrong realm")
        algorithm = params.get("algorithm", "MD5").upper()
        digest = ALGORITHMS.get(algorithm)
        if digest is None:
            return Verdict(None, "malformed")
        state = self._nonce_state(params["nonce"], now)
        if state == "bad":
            return Verdict(None, "bad nonce")
        password = password_for(user)
        if password is None:
            return Verdict(None, "unknown user")

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        ha1 = h(f"{user}:{self.realm}:{password}")
        ha2 = h(f"{method}:{params['uri']}")
        qop = params.get("qop")
        if qop is None:
            want = h(f"{ha1}:{params['nonce']}:{ha2}")
        elif qop == "auth" and "nc" in params and "cnonce" in params:
            want = h(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        else:
            return Verdict(None, "malformed")
        if not hmac.compare_digest(params["response"].lower(), want):
            return Verdict(None, "wrong password")
        if state == "stale":
            return Verdict(None, "stale")
        return Verdict(user)


def answer(method: str, uri: str, challenge: str, user: str, password: str,
           cnonce: str = "0a4f113b", nc: str = "00000001") -> str:
    """The Authorization value a phone would send for ``challenge`` (tests and tools)."""
    params = parse_params(challenge) or {}
    digest = ALGORITHMS[params.get("algorithm", "MD5").upper()]

    def h(text: str) -> str:
        return digest(text.encode()).hexdigest()

    realm, nonce = params["realm"], params["nonce"]
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm={params.get("algorithm", "MD5")}, '
            f'qop=auth, nc={nc}, cnonce="{cnonce}"')
