"""Sending a NOTIFY outside any dialog through pjsip's transports (for firmware/sip/mwi.py).

pjsua2 has no way to send a request outside a call or a subscription, but the wheel
exports ``pjsip_endpt_send_raw_to_uri``: pjsip parses the destination URI, picks (or, for
TCP, reuses) its transport to that address and sends our bytes as they are. So the
phone sees the NOTIFY come from the registrar's own address and port, as phones that only
take requests from their registrar require. No ``pjsip_tx_data`` field is touched from
Python (its layout depends on build options): pjsip copies the bytes, and the only
structure passed is a ``pj_str_t``.

Two traps in 2.15.1, both handled here: the send callback is called without a NULL check
when the send completes at once, so one is always given (kept alive on the sender); and a
TCP send may complete later, on a later poll, so the callback says how it went.

At start-up a self-check sends one probe through the same call to a socket of our own on
loopback (over UDP, or TCP if the box has no UDP transport) and reads it back; if it does
not arrive intact the sender stays off, says so in the log and in ``minipbx status``, and
phones get no message-waiting NOTIFY (their mailboxes work all the same).
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import time
from collections.abc import Callable

from firmware.sip.endpoint import SipEndpoint
from firmware.sip.mwi import Local, MwiNotifier
from firmware.sip.pjsipc import PJ_SUCCESS, endpoint_api, library, pj_str
from firmware.sip.registrar import Registrar, Reply
from firmware.sip.screen import SipScreen

log = logging.getLogger(__name__)

PROBE_WAIT_S = 2.0

_SendCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t)


class RawSender:
    """``send(uri, data)``: data to the address of a SIP URI, over pjsip's transport."""

    def __init__(self) -> None:
        self._lib = endpoint_api(library())
        self._endpt: int | None = None
        self.state = "off"
        self.why_off = "not started"
        self.failed = 0
        # Kept for the library's life: pjsip may call it on any later poll (TCP).
        self._callback = _SendCallback(self._sent)
        self._tokens: dict[int, str] = {}  # token -> destination, until its callback
        self._next_token = 1

    def start(self, probe_kind: str, poll: Callable[[int], int]) -> None:
        """Self-check over ``probe_kind`` (udp or tcp) to loopback; on only if it works."""
        endpt = self._lib.pjsua_get_pjsip_endpt()
        if not endpt:
            self.off("pjsua has no SIP endpoint")
            return
        self._endpt = endpt
        try:
            problem = self._probe(probe_kind, poll)
        except OSError as exc:
            problem = f"the probe socket failed: {exc}"
        if problem:
            self._endpt = None
            self.off(problem)
            return
        self.state = "on"
        self.why_off = ""
        log.info("message-waiting NOTIFY to IP phones on (pjsip raw send checked over %s)",
                 probe_kind)

    def _probe(self, kind: str, poll: Callable[[int], int]) -> str | None:
        marker = f"minipbx-mwi-probe-{os.urandom(6).hex()}\r\n".encode()
        stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, stype) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            sock.setblocking(False)
            if stype == socket.SOCK_STREAM:
                sock.listen(1)
            uri = f"sip:probe@127.0.0.1:{port}" + ("" if kind == "udp" else ";transport=tcp")
            if not self.send(uri, marker):
                return "pjsip refused the probe"
            got = b""
            peer: socket.socket | None = None
            deadline = time.monotonic() + PROBE_WAIT_S
            try:
                while time.monotonic() < deadline and marker not in got:
                    poll(20)
                    try:
                        if stype == socket.SOCK_DGRAM:
                            got = sock.recv(2048)
                        else:
                            if peer is None:
                                peer, _ = sock.accept()
                                peer.setblocking(False)
                            got += peer.recv(2048)
                    except (BlockingIOError, InterruptedError):
                        continue
            finally:
                if peer is not None:
                    peer.close()
        if got != marker:
            return "the probe did not arrive intact" if got else "the probe did not arrive"
        return None

    def off(self, why: str) -> None:
        self.state = "off"
        self.why_off = why
        log.error("message-waiting NOTIFY to IP phones off: %s; their mailboxes work, but "
                  "no phone's lamp shows new messages", why)

    def close(self) -> None:
        """Before the library goes: a NOTIFY asked for later (a callback the loop runs
        after shutdown) must not reach a destroyed endpoint."""
        self._endpt = None
        self.state = "off"
        self.why_off = "closed"

    def send(self, uri: str, data: bytes) -> bool:
        """True if pjsip took ``data`` for ``uri`` (a failure later is logged)."""
        if self._endpt is None:
            return False
        token = self._next_token
        self._next_token += 1
        self._tokens[token] = uri
        raw = uri.encode()
        dest = pj_str(raw)
        try:
            status = self._lib.pjsip_endpt_send_raw_to_uri(
                self._endpt, ctypes.byref(dest), None, data, len(data), token,
                ctypes.cast(self._callback, ctypes.c_void_p))
        except Exception:
            log.exception("raw send to %s failed", uri)
            status = -1
        if status != PJ_SUCCESS:
            self._tokens.pop(token, None)
            self.failed += 1
            log.debug("pjsip_endpt_send_raw_to_uri(%s) = %d", uri, status)
            return False
        if len(self._tokens) > 1024:  # callbacks never came (cannot happen; bounded anyway)
            self._tokens.pop(next(iter(self._tokens)))
        return True

    def _sent(self, token: int | None, tdata: int | None, sent: int) -> None:
        try:
            uri = self._tokens.pop(token or 0, "?")
            if sent < 0:
                self.failed += 1
                log.info("a message-waiting NOTIFY to %s could not be sent (pj status %d)",
                         uri, -sent)
        except Exception:  # nothing may escape into pjsip
            log.debug("send callback failed", exc_info=True)

    def status(self) -> dict[str, object]:
        out: dict[str, object] = {"state": self.state, "failed": self.failed}
        if self.state == "off":
            out["why"] = self.why_off
        return out


def start_phone_mwi(endpoint: SipEndpoint, registrar: Registrar, screen: SipScreen,
                    defer: Callable[[Callable[[], None]], None]
                    ) -> tuple[MwiNotifier, RawSender]:
    """Message-waiting NOTIFY for the registrar's phones, checked and wired to the screen
    (fresh contacts in, NOTIFY answers out); off when the self-check fails."""
    sender = RawSender()
    kinds = {t.kind for t in endpoint.transports.values()}
    probe = "udp" if "udp" in kinds else "tcp" if "tcp" in kinds else None
    if probe is None:
        sender.off("no UDP or TCP transport to check it over")
    else:
        sender.start(probe, endpoint.poll)

    def local(kind: str) -> Local | None:
        bound = endpoint.transports.get(kind)
        return Local(kind, bound.host, bound.port) if bound is not None else None

    notifier = MwiNotifier(registrar, sender.send, local, time.monotonic)
    notifier.enabled = sender.state == "on"
    # Without the screen no answer is seen: do not call every phone silent.
    notifier.tracking = screen.state == "on"

    def fresh(extension: str, contacts: tuple[str, ...]) -> None:
        # After the screen's callback returns (its 200 goes first), on the loop.
        def later() -> None:
            notifier.registered(extension, contacts)
        defer(later)

    def subscribe(text: str, source: tuple[str, int], transport: str,
                  now: float) -> Reply | None:
        reply, sub = notifier.subscribe(text, source, transport, now)
        if sub is not None and reply is not None and reply.code == 200:
            def first() -> None:  # after the 200, which the screen sends on return
                notifier.notify_subscription(sub)
            defer(first)
        return reply

    screen.fresh = fresh
    screen.subscribe = subscribe
    screen.notify_answer = notifier.answered
    return notifier, sender
