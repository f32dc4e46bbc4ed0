"""SIP trunks as pjsua2 accounts: registration with digest authentication, and the
account a call is placed through.

Rules:

* A registering trunk's account reports every REGISTER pjsua sends (``onRegStarted``)
  and every final answer (``onRegState``) to its ``RegistrationState``
  (``firmware.sip.registration``, which states the retry rules); ``status`` shows it.
* The retry timers are set explicitly on each account, from that module, so what
  ``status`` announces is what pjsua does. A changed account (``modify``) starts
  counting its attempts anew.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

from firmware.sip.registration import (
    REG_FIRST_RETRY_S,
    REG_RETRY_JITTER_S,
    REG_RETRY_S,
    RegistrationState,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrunkSpec:
    name: str
    host: str
    port: int = 5060
    transport: str = "udp"
    register: bool = False
    username: str = ""
    password: str = ""
    auth_username: str = ""
    realm: str = "*"
    outbound_proxy: str = ""
    expires_s: int = 300
    caller_id: str = ""
    caller_name: str = ""
    # Networks besides host and outbound proxy that may send this trunk's calls.
    allow: tuple[str, ...] = ()
    # Added to the Request-URI of calls out (";site=office2": the hub's via routing).
    uri_params: str = ""
    # Hand hook-flash transfers to this trunk's peers by REFER where they allow it
    # (firmware/sip/referrals.py); off: the box always bridges them itself.
    refer: bool = True

    def target(self, user: str) -> str:
        uri = f"sip:{user}@{self.host}:{self.port}{self.uri_params}"
        return uri if self.transport == "udp" else f"{uri};transport={self.transport}"

    @property
    def server_uri(self) -> str:
        uri = f"sip:{self.host}:{self.port}"
        return uri if self.transport == "udp" else f"{uri};transport={self.transport}"


IncomingHandler = Callable[[Any, Any], None]  # (account, OnIncomingCallParam)


class SipAccount(pj.Account):  # type: ignore[misc]
    """One pjsua2 account: a trunk, or the box's local identity for direct calls."""

    def __init__(self, name: str, on_incoming: IncomingHandler) -> None:
        super().__init__()
        self.name = name
        self.registration = RegistrationState()
        self._on_incoming = on_incoming

    def modify(self, cfg: Any) -> None:
        self.registration.reset()  # new settings: attempts count from 1 again
        super().modify(cfg)

    def onRegStarted(self, prm: Any) -> None:
        try:
            if not prm.renew:
                return  # an un-REGISTER: its answer says "unregistered"
            reg = self.registration
            reg.started()
            if reg.attempt > 1:
                log.info("trunk %s: registering again (attempt %d)", self.name, reg.attempt)
        except Exception:
            log.exception("trunk %s: registration start callback failed", self.name)

    def onRegState(self, prm: Any) -> None:
        try:
            code, reason = int(prm.code), str(prm.reason)
            reg = self.registration
            reg.answered(code, reason, int(prm.expiration))
            if reg.state == "registered":
                log.info("trunk %s: registered (expires in %d s)", self.name, prm.expiration)
            elif reg.state == "failed":
                hint = (" (check username and password)" if code in (401, 403, 407)
                        else "")
                wait = reg.next_retry_in_s
                retry = "; not retried" if wait is None else f"; retrying in about {wait:.0f} s"
                log.error("trunk %s: registration failed: %d %s%s%s",
                          self.name, code, reason, hint, retry)
        except Exception:
            log.exception("trunk %s: registration state callback failed", self.name)

    def onIncomingCall(self, prm: Any) -> None:
        try:
            self._on_incoming(self, prm)
        except Exception:
            log.exception("%s: incoming call handling failed", self.name)


def account_config(spec: TrunkSpec, bind: str, rtp_port: int, transport_id: int | None) -> Any:
    user = spec.caller_id or spec.username or "minipbx"
    cfg = pj.AccountConfig()
    display = f'"{spec.caller_name}" ' if spec.caller_name else ""
    cfg.idUri = f"{display}<sip:{user}@{spec.host}>"
    if spec.register:
        cfg.regConfig.registrarUri = spec.server_uri
        cfg.regConfig.registerOnAdd = True
        cfg.regConfig.timeoutSec = spec.expires_s
        cfg.regConfig.firstRetryIntervalSec = REG_FIRST_RETRY_S
        cfg.regConfig.retryIntervalSec = REG_RETRY_S
        cfg.regConfig.randomRetryIntervalSec = REG_RETRY_JITTER_S
    else:
        cfg.regConfig.registrarUri = ""
        cfg.regConfig.registerOnAdd = False
    if spec.username or spec.password:
        auth_user = spec.auth_username or spec.username
        cfg.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", spec.realm or "*", auth_user, 0, spec.password)
        )
    if spec.outbound_proxy:
        proxy = spec.outbound_proxy
        cfg.sipConfig.proxies.append(proxy if ";lr" in proxy else f"{proxy};lr")
    if transport_id is not None:
        cfg.sipConfig.transportId = transport_id
    _common(cfg, bind, rtp_port)
    return cfg


def local_config(user: str, host: str, port: int, rtp_port: int) -> Any:
    cfg = pj.AccountConfig()
    cfg.idUri = f"<sip:{user}@{host}:{port}>"
    cfg.regConfig.registrarUri = ""
    cfg.regConfig.registerOnAdd = False
    _common(cfg, host, rtp_port)
    return cfg


def _common(cfg: Any, bind: str, rtp_port: int) -> None:
    cfg.natConfig.iceEnabled = False
    cfg.natConfig.sdpNatRewriteUse = 0
    cfg.natConfig.contactRewriteUse = 0
    cfg.natConfig.viaRewriteUse = 0
    cfg.mediaConfig.transportConfig.boundAddress = bind
    cfg.mediaConfig.transportConfig.port = rtp_port
    cfg.mediaConfig.transportConfig.portRange = 200
