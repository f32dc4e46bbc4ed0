"""The SIP side of the box as call legs: events from the PBX become pjsua2 actions, and
pjsua2's callbacks become events for the PBX.

==========================  ===============================================================
event down (from the PBX)   action
==========================  ===============================================================
Setup(leg, trunk=T)         INVITE through trunk T, From = the caller's number and name
Alerting(leg)               180 Ringing to an incoming call
Answer(leg)                 200 OK to an incoming call
Digit(leg, d)               RFC 4733 telephone event
Release(leg, cause)         CANCEL / BYE, or the RFC 3398 response to an unanswered INVITE
Hold(leg, on)               re-INVITE a=sendonly, or back to sendrecv
Refer(leg, target, r)       REFER, with Replaces of the dialog with target when ``r``
                            (the final NOTIFY comes back up as Referred)
==========================  ===============================================================

pjsua2 2.15.1 allows at most four calls per process (TOOLS.md): a fifth is refused here,
before pjsua2 is asked, with cause NO_CIRCUIT_AVAILABLE (503 for an incoming call).

New incoming calls pass the SIP screen first (firmware/sip/screen.py): only a trunk's
addresses may call in, within the call slots and a rate, and a refused INVITE is answered
before pjsua gives it media; every request passes the guard's per-address rate, scanner and
ban checks (firmware/sip/guard.py; ``guard.auth_failed`` is where a registrar reports a
wrong password). Should the screen be off, ``_incoming`` still refuses a
stranger with 403 before anything rings.
"""

from __future__ import annotations

import gc
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from firmware.core.causes import Cause, cause_to_sip
from firmware.core.events import (
    Alerting,
    Answer,
    CallEvent,
    Digit,
    LegId,
    Party,
    Presentation,
    Refer,
    Referred,
    Release,
    Setup,
    Transfer,
)
from firmware.sip import referrals
from firmware.sip.admission import FORBIDDEN, Admission
from firmware.sip.calls import SipCall
from firmware.sip.digest import DigestAuth
from firmware.sip.endpoint import SipEndpoint
from firmware.sip.guard import Guard
from firmware.sip.linksource import source_trunk
from firmware.sip.message import header, parse_name_addr, request_user, uri_user
from firmware.sip.mwisend import start_phone_mwi
from firmware.sip.registrar import PhoneAccount, Registrar, phone_extension, phone_leg
from firmware.sip.registration import RegistrationState
from firmware.sip.rtpwatch import RtpWatch
from firmware.sip.screen import SipScreen
from firmware.sip.switch import MediaSwitch
from firmware.sip.trunks import SipAccount, TrunkSpec, account_config, local_config
from firmware.sip.trusted import host_of, trunk_sources

log = logging.getLogger(__name__)

# The compiled-in limit of the pjsua2 wheel (PJSUA_MAX_CALLS), used when the running library
# cannot tell its own (firmware/sip/library.py); the source build (make pjsua2) allows 64.
MAX_CALLS = 4

Emit = Callable[[CallEvent], None]
Defer = Callable[[Callable[[], None]], None]


class SipAdapter:
    def __init__(self, endpoint: SipEndpoint, switch: MediaSwitch, trunks: list[TrunkSpec],
                 bind: str, sip_port: int, rtp_port: int, emit: Emit, defer: Defer,
                 max_calls: int = MAX_CALLS, rtp_timeout_s: float = 30.0) -> None:
        self._ep = endpoint
        self._switch = switch
        self._emit_now = emit
        self._defer = defer
        # The running library's own limit when it tells it (the source build allows more
        # than the wheel); max_calls is the fallback.
        library = getattr(endpoint, "library", None)
        self.max_calls = library.max_calls if library and library.max_calls else max_calls
        self._calls: dict[LegId, SipCall] = {}
        self._ids = itertools.count(1)
        self.trunks = {t.name: t for t in trunks}
        self.accounts: dict[str, SipAccount] = {}
        self._retired: list[SipAccount] = []  # removed trunks waiting for their calls to end
        self.refused = 0
        self.rtp_watch = RtpWatch(rtp_timeout_s)
        self.local = SipAccount("local", self._incoming)
        self.local.create(local_config("minipbx", bind, sip_port, rtp_port), True)
        for spec in trunks:
            transport = endpoint.transports.get(spec.transport)
            if transport is None:
                raise ValueError(
                    f"trunk {spec.name}: transport {spec.transport} is not enabled in [sip] "
                    "transports"
                )
            acc = SipAccount(spec.name, self._incoming)
            acc.create(account_config(spec, bind, rtp_port, transport.transport_id))
            if spec.register:
                acc.registration.state = "registering"
            self.accounts[spec.name] = acc
        self.admission = Admission()
        self.refresh_sources()
        self.guard = Guard(lambda address: self.admission.trunk_for(address) is not None)
        self.screen = SipScreen(self.admission, self.guard, lambda: len(self._calls),
                                max_calls)
        # The box's IP phones: the screen answers their REGISTERs and checks their
        # INVITEs' digests; a phone's calls use the leg ``phone_leg(extension)``.
        self.registrar = Registrar(DigestAuth("minipbx"))
        self.screen.registrar = self.registrar
        self.screen.refer = self._refer
        self._bind, self._sip_port = bind, sip_port
        first = next(iter(endpoint.transports.values()))
        self.screen.start((first.kind, first.host, first.port), endpoint.poll)
        # Their mailboxes' message-waiting NOTIFYs (RFC 3842): firmware/sip/mwi.py.
        self.mwi, self._mwi_sender = start_phone_mwi(endpoint, self.registrar, self.screen,
                                                     defer)
        endpoint.on_shutdown(self.close)

    def set_phones(self, accounts: list[PhoneAccount], min_expires_s: int = 60) -> None:
        """The ``[[sip_user]]`` accounts (at start and after each commit)."""
        self.registrar.set_accounts(accounts)
        self.registrar.min_expires_s = min_expires_s

    def message_waiting(self, extension: str, new: int, old: int, force: bool = False) -> int:
        """IP phone ``extension``'s mailbox holds ``new``/``old`` messages: NOTIFY its
        contacts if that changed (or ``force``); returns how many were sent."""
        return self.mwi.update(extension, new, old, force)

    def message_waiting_off(self, extension: str) -> None:
        """``extension``'s mailbox was switched off: its lamp out, and no NOTIFY for it
        from now on."""
        self.mwi.update(extension, 0, 0, force=True)
        self.mwi.forget(extension)

    def refresh_sources(self) -> None:
        """Who may call in: call again whenever the trunks change (resolves host names)."""
        self.admission.set_sources(trunk_sources(self.trunks.values()))

    # --- events down ---------------------------------------------------------------------
    def command(self, event: CallEvent) -> None:
        try:
            self._command(event)
        except Exception:  # a pjsua2 error must not take the exchange down
            log.exception("%s: SIP action for %s failed", event.leg, type(event).__name__)
            if isinstance(event, Setup):
                self._emit(Release(event.leg, Cause.TEMPORARY_FAILURE))

    def _command(self, event: CallEvent) -> None:
        if isinstance(event, Setup):
            self._place(event)
            return
        call = self._calls.get(event.leg)
        if call is None:
            return
        if isinstance(event, Alerting):
            if not call.outgoing and not call.answered:
                call.ring()
        elif isinstance(event, Answer):
            if not call.outgoing and not call.answered:
                call.accept()
        elif isinstance(event, Digit):
            if call.answered:
                call.send_digit(event.digit)
        elif isinstance(event, Release) and call.state != "ended":
            call.end(cause_to_sip(event.cause))

    def hold(self, leg: LegId, on: bool) -> None:
        """Hold an answered call (re-INVITE with a=sendonly) or take it off hold."""
        call = self._calls.get(leg)
        if call is None or call.state != "connected":
            return
        try:
            call.set_hold(on)
        except Exception:  # a pjsua2 error (a re-INVITE in progress) must not stop the box
            log.exception("%s: hold %s failed", leg, "on" if on else "off")

    def can_refer(self, held: LegId, target: LegId) -> bool:
        """Whether ``held``'s peer may be asked to call ``target``'s party itself (REFER;
        firmware/sip/referrals.py): with Replaces when ``target`` is answered."""
        target_call = self._calls.get(target)
        replaces = target_call is not None and target_call.state == "connected"
        reason = referrals.why_not(self._calls.get(held), target_call, self.trunks, replaces)
        if reason is not None:
            log.info("%s: no REFER toward %s: %s; the box bridges", held, target, reason)
        return reason is None

    def refer(self, event: Refer) -> None:
        """Send the exchange's REFER; a failure to send is a refused transfer."""
        held, target = self._calls.get(event.leg), self._calls.get(event.target)
        try:
            if held is None or target is None:
                raise LookupError(f"no SIP call for {event.leg} or {event.target}")
            referrals.send_refer(held, target, event.replaces)
        except Exception:
            log.exception("%s: REFER not sent", event.leg)
            self._emit(Referred(event.leg, ok=False, status=500))

    def busy(self) -> bool:
        """Whether SIP work is in flight (a call exists), so pjsua2 wants brisk polling."""
        return bool(self._calls)

    def check_media(self, now: float) -> None:
        """Hang up answered calls whose RTP stopped (firmware/sip/rtpwatch.py); the loop
        calls this about once a second. The PBX gets RECOVERY_ON_TIMER_EXPIRY, so the
        handset hears the busy tone and the record says why."""
        for leg, call in list(self._calls.items()):
            if call.state != "connected":
                continue
            try:
                packets = call.rx_packets()
            except Exception:  # a call pjsua2 is tearing down
                log.debug("%s: no stream statistics", leg, exc_info=True)
                continue
            if not self.rtp_watch.observe(leg, packets, now):
                continue
            log.warning("%s: no RTP from the far end for %.0f s: hanging up", leg,
                        self.rtp_watch.timeout_s)
            self._emit(Release(leg, Cause.RECOVERY_ON_TIMER_EXPIRY))
            try:
                call.end(cause_to_sip(Cause.RECOVERY_ON_TIMER_EXPIRY))
            except Exception:
                log.exception("%s: hangup after the RTP timeout failed", leg)

    def owns(self, leg: LegId) -> bool:
        return leg in self._calls

    # --- outgoing ------------------------------------------------------------------------
    def _place(self, event: Setup) -> None:
        ext = phone_extension(event.leg)
        if ext is not None:
            self._place_phone(event, ext)
            return
        spec = self.trunks.get(event.trunk or "")
        if spec is None:
            log.error("%s: no trunk named %r", event.leg, event.trunk)
            self._emit(Release(event.leg, Cause.NETWORK_OUT_OF_ORDER))
            return
        if len(self._calls) >= self.max_calls:
            self.refused += 1
            log.warning("%s: refused, %d SIP calls already (the limit)", event.leg,
                        self.max_calls)
            self._emit(Release(event.leg, Cause.NO_CIRCUIT_AVAILABLE))
            return
        account = self.accounts[spec.name]
        reg = account.registration.state
        if spec.register and reg in ("failed", "unregistered"):
            # The provider would refuse it anyway: say so at once, so that a route's
            # failover (firmware/pbx/tollguard.py) moves on to its next trunk.
            log.warning("%s: trunk %s is %s; call not sent", event.leg, spec.name, reg)
            self._emit(Release(event.leg, Cause.NETWORK_OUT_OF_ORDER))
            return
        call = SipCall(account, event.leg, self._emit, self._media_changed, self._ended)
        call.trunk = spec.name
        call.target_uri = spec.target(event.called)
        prm = pj.CallOpParam(True)
        caller = event.caller
        number = (caller.number if caller.presentation == "allowed" else None) or (
            spec.caller_id or spec.username or "anonymous")
        name = caller.name if caller.presentation == "allowed" else None
        display = f'"{_quote(name)}" ' if name else ""
        prm.txOption.localUri = f"{display}<sip:{number}@{spec.host}>"
        if caller.presentation != "allowed":
            hdr = pj.SipHeader()
            hdr.hName = "Privacy"
            hdr.hValue = "id"
            prm.txOption.headers.append(hdr)
        self._calls[event.leg] = call
        try:
            call.makeCall(spec.target(event.called), prm)
        except Exception:
            del self._calls[event.leg]
            del call
            gc.collect()  # a failed Call left alive aborts the interpreter at exit
            raise
        log.info("%s: INVITE %s via %s from %s", event.leg, event.called, spec.name, number)

    def _place_phone(self, event: Setup, ext: str) -> None:
        """Ring IP phone ``ext`` at its most recent registration (at the address the
        REGISTER came from, which is right behind NAT too)."""
        bindings = self.registrar.bindings(ext, time.monotonic())
        if not bindings:
            log.info("%s: phone %s is not registered", event.leg, ext)
            self._emit(Release(event.leg, Cause.NO_USER_RESPONDING))
            return
        if len(self._calls) >= self.max_calls or event.leg in self._calls:
            self.refused += 1
            self._emit(Release(event.leg, Cause.NO_CIRCUIT_AVAILABLE))
            return
        call = SipCall(self.local, event.leg, self._emit, self._media_changed, self._ended)
        prm = pj.CallOpParam(True)
        caller = event.caller
        number = (caller.number if caller.presentation == "allowed" else None) or "anonymous"
        name = caller.name if caller.presentation == "allowed" else None
        display = f'"{_quote(name)}" ' if name else ""
        host = "127.0.0.1" if self._bind in ("0.0.0.0", "") else self._bind
        prm.txOption.localUri = f"{display}<sip:{number}@{host}:{self._sip_port}>"
        self._calls[event.leg] = call
        target = bindings[0].target()
        try:
            call.makeCall(target, prm)
        except Exception:
            del self._calls[event.leg]
            del call
            gc.collect()
            raise
        log.info("%s: INVITE phone %s at %s from %s", event.leg, ext, target, number)

    # --- incoming ------------------------------------------------------------------------
    def _incoming(self, account: SipAccount, prm: Any) -> None:
        msg = str(prm.rdata.wholeMsg)
        claimed = self.screen.phone_calls.pop(header(msg, "Call-ID") or "", None)
        if claimed is not None:
            self._incoming_phone(account, prm, msg, claimed[0])
            return
        leg = f"sip{next(self._ids)}"
        call = SipCall(account, leg, self._emit, self._media_changed, self._ended,
                       call_id=prm.callId, outgoing=False)
        address = host_of(str(prm.rdata.srcAddress))
        if self.admission.trunk_for(address) is None:
            # Only when the screen is off does a stranger get this far.
            self.refused += 1
            log.warning("incoming call from %s refused: not a trunk's address", address)
            call.end(FORBIDDEN)
            del call
            return
        if len(self._calls) >= self.max_calls:
            self.refused += 1
            log.warning("incoming call refused: %d SIP calls already", self.max_calls)
            call.end(503)
            del call
            return
        self._calls[leg] = call
        called = request_user(msg) or ""
        info = call.getInfo()
        source = parse_name_addr(header(msg, "P-Asserted-Identity") or "")
        from_ = parse_name_addr(str(info.remoteUri))
        number = source.user or from_.user
        name = source.name or from_.name
        privacy = (header(msg, "Privacy") or "").lower()
        presentation: Presentation = (
            "restricted" if "id" in privacy or "header" in privacy else "allowed")
        if number in (None, "anonymous"):
            presentation = "restricted" if number == "anonymous" else "unavailable"
            number = None
        log.info("%s: INVITE for %s from %s via %s", leg, called, number, account.name)
        trunk = source_trunk(self.trunks.values(), self.admission.sources,
                             str(prm.rdata.srcAddress))
        call.trunk = trunk
        call.note_allow(msg)
        self._emit(Setup(leg, called=called, caller=Party(number, name, presentation),
                         trunk=trunk))

    def _incoming_phone(self, account: SipAccount, prm: Any, msg: str, ext: str) -> None:
        """A call from IP phone ``ext`` (the screen checked its digest): it dials the
        Request-URI's number as the extension, like a handset that dialled it."""
        leg = phone_leg(ext)
        call = SipCall(account, leg, self._emit, self._media_changed, self._ended,
                       call_id=prm.callId, outgoing=False)
        if leg in self._calls or len(self._calls) >= self.max_calls:
            self.refused += 1
            log.info("%s: a second call from phone %s refused (busy)", leg, ext)
            call.end(486 if leg in self._calls else 503)
            del call
            return
        self._calls[leg] = call
        called = request_user(msg) or ""
        phone = self.registrar.accounts.get(ext)
        name = phone.name if phone is not None and phone.name else None
        log.info("%s: phone %s dials %s", leg, ext, called)
        self._emit(Setup(leg, called=called, caller=Party(ext, name)))

    def _refer(self, call_id: str, refer_to: str) -> int | None:
        """A REFER in call ``call_id`` (the screen's hook): a blind transfer to the number
        in Refer-To, done by the exchange (Transfer). 202 when taken; None when the call
        is not one of ours (pjsua then declines it, SipCall.onCallTransferRequest)."""
        leg = next((leg for leg, c in self._calls.items() if _call_id_of(c) == call_id), None)
        if leg is None:
            return None
        call = self._calls[leg]
        number = uri_user(refer_to.strip().lstrip("<").split(">", 1)[0])
        if "replaces" in refer_to.lower():
            log.info("%s: attended transfer (Replaces) is not supported; declined", leg)
            return 501
        if call.state != "connected" or not number:
            log.info("%s: REFER to %r refused (call %s)", leg, refer_to, call.state)
            return 403
        log.info("%s: REFER: transfer the partner to %s", leg, number)
        self._emit(Transfer(leg, number))
        return 202

    # --- bookkeeping ---------------------------------------------------------------------
    def _emit(self, event: CallEvent) -> None:
        self._defer(lambda: self._emit_now(event))

    def _media_changed(self, leg: LegId, media: Any | None) -> None:
        self._switch.set_call_media(leg, media)

    def _ended(self, leg: LegId) -> None:
        self._switch.forget(leg)
        # Drop the Call object on the next loop turn, not inside its own callback; a
        # phone's leg name comes back with its next call, which must not be dropped. Only
        # the object's id is kept: a deferred reference that outlives libDestroy (the
        # loop stopping first) would delete the Call after pjsua is gone, and abort.
        ended = id(self._calls.get(leg))
        self._defer(lambda: self._drop(leg, ended))

    def _drop(self, leg: LegId, ended: int) -> None:
        if id(self._calls.get(leg)) == ended:
            self._calls.pop(leg, None)
        self.rtp_watch.forget(leg)

    def register_now(self, name: str) -> RegistrationState:
        """Send a REGISTER for trunk ``name`` now (the installer's "test registration");
        its RegistrationState tells the answer when it comes."""
        acc, spec = self.accounts.get(name), self.trunks.get(name)
        if acc is None or spec is None:
            known = ", ".join(sorted(self.trunks)) or "none"
            raise LookupError(f"no trunk {name!r}; known: {known}")
        if not spec.register:
            raise ValueError(f"trunk {name} has register = false: there is nothing to test")
        try:
            acc.setRegistration(True)
        except pj.Error as exc:
            # Refused at once (the box's own address is gone: "Network is unreachable");
            # pjsua has reported the failure and its retry to the account already.
            log.warning("trunk %s: REGISTER could not be sent: %s", name,
                        getattr(exc, "reason", exc))
        registration: RegistrationState = acc.registration
        return registration

    def status(self) -> dict[str, object]:
        return {
            "calls": {leg: {"state": c.state, "direction": "out" if c.outgoing else "in",
                            "last_code": c.last_code} for leg, c in self._calls.items()},
            "max_calls": self.max_calls,
            "library": lib.as_dict() if (lib := getattr(self._ep, "library", None)) else None,
            "refused": self.refused,
            "rtp_timeout_s": self.rtp_watch.timeout_s,
            "rtp_timeouts": self.rtp_watch.timeouts,
            "screen": self.screen.status(),
            "phones": self.registrar.status(time.monotonic()),
            "mwi": {**self._mwi_sender.status(), **self.mwi.status()},
            "guard": self.guard.status(),
            "trunks": {name: {"registration": acc.registration.as_dict(),
                              "host": self.trunks[name].host,
                              "port": self.trunks[name].port,
                              "transport": self.trunks[name].transport}
                       for name, acc in self.accounts.items()},
        }

    def close(self) -> None:
        for call in list(self._calls.values()):
            try:
                if call.state != "ended":
                    call.end(503)
            except Exception:
                log.debug("hangup at close failed", exc_info=True)
        self._calls.clear()
        for acc in [*self.accounts.values(), *self._retired]:
            try:
                acc.shutdown()
            except Exception:
                log.debug("account shutdown failed", exc_info=True)
        self.accounts.clear()
        self._retired.clear()
        self.local.shutdown()
        self.screen.close()
        self._mwi_sender.close()
        self.mwi.enabled = False
        gc.collect()

    # --- trunks changed by a commit (firmware/app/live.py) ---------------------------------
    def add_trunk(self, spec: TrunkSpec, bind: str, rtp_port: int) -> None:
        """A new trunk, registering at once; ValueError if its transport is not enabled."""
        transport_id = self._transport_id(spec)
        acc = SipAccount(spec.name, self._incoming)
        acc.create(account_config(spec, bind, rtp_port, transport_id))
        acc.registration.state = "registering" if spec.register else "not registering"
        self.accounts[spec.name] = acc
        self.trunks[spec.name] = spec
        self.refresh_sources()

    def replace_trunk(self, spec: TrunkSpec, bind: str, rtp_port: int) -> None:
        """Changed settings of a trunk, in place: its calls go on, it registers again."""
        transport_id = self._transport_id(spec)
        acc = self.accounts[spec.name]
        if self.trunks[spec.name].register and not spec.register:
            acc.setRegistration(False)
        # pjsua re-registers by itself when the registration or the credentials change.
        acc.modify(account_config(spec, bind, rtp_port, transport_id))
        acc.registration.state = "registering" if spec.register else "not registering"
        self.trunks[spec.name] = spec
        self.refresh_sources()

    def _transport_id(self, spec: TrunkSpec) -> int:
        transport = self._ep.transports.get(spec.transport)
        if transport is None:
            raise ValueError(f"trunk {spec.name}: transport {spec.transport} is not enabled "
                             "in [sip] transports (a restart applies a new transport)")
        return transport.transport_id

    def remove_trunk(self, name: str) -> None:
        """Unregister a trunk and forget it; an account with a call up is shut down once
        its calls end (:meth:`reap_trunks`)."""
        self.trunks.pop(name, None)
        acc = self.accounts.pop(name, None)
        self.refresh_sources()
        if acc is None:
            return
        if self._account_busy(acc):
            if acc.registration.state == "registered":
                acc.setRegistration(False)
            self._retired.append(acc)
            return
        acc.shutdown()

    def reap_trunks(self) -> int:
        """Shut down removed trunks whose last call ended; returns how many still wait."""
        for acc in [a for a in self._retired if not self._account_busy(a)]:
            self._retired.remove(acc)
            acc.shutdown()
        return len(self._retired)

    def _account_busy(self, acc: SipAccount) -> bool:
        acc_id = acc.getId()
        for call in self._calls.values():
            try:
                if call.getInfo().accId == acc_id:
                    return True
            except Exception:  # a call pjsua2 already forgot uses nothing
                continue
        return False



def _call_id_of(call: SipCall) -> str | None:
    try:
        return str(call.getInfo().callIdString)
    except Exception:  # a call pjsua2 is tearing down
        return None


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
