"""The SIP screen: a pjsip module that sees each new INVITE before pjsua does.

pjsua gives an incoming INVITE its call slot and its RTP/RTCP sockets before it tells the
application (``onIncomingCall``), so refusing there is too late: a burst of INVITEs fills
pjmedia's ioqueue and pjlib aborts the process (the defect this module closes). pjsua2 has
no hook before that point, but the wheel exports pjsip's C API, so the screen registers a
module of its own through ctypes, between the transaction layer (retransmissions of an
INVITE already taken never reach us) and the dialog layer, and answers the INVITEs that
:class:`~firmware.sip.admission.Admission` refuses with a stateless response.

What reaches the screen: every request pjsip has parsed, except retransmissions of a
request whose transaction exists (the transaction layer, priority 16, answers those).
What does not: datagrams pjsip cannot parse, or that lack a mandatory header (Via, From,
To, Call-ID, CSeq), are dropped by pjsip's transport layer before any module sees them
(their cost is pjsip's parser and nothing more; only a firewall could spare that), and
responses. Each request goes through :class:`~firmware.sip.guard.Guard` first, cheapest
check first: a banned source is swallowed having read only its address; then a scanner's
User-Agent, then the per-address rate of all requests; then, for INVITEs and REGISTERs
only, the start line and the To header are parsed for the admission rules. A stranger's
refused INVITE or REGISTER counts as a failed authentication, and enough of them ban it.

pjsip hands the module a ``pjsip_rx_data`` pointer. Its layout depends on build options
(``PJSIP_MAX_PKT_LEN``, the ioqueue key size), so the screen does not trust a header: at
start-up it sends itself a probe request from a known address and finds, in the probe's
``rx_data``, where the packet text, its length, the source address and the source port
lie. If the probe cannot be found the screen stays off, says so in the log and in
``minipbx status``, and the adapter still refuses strangers in ``onIncomingCall`` (later,
but no ghost call rings).

Responses that no transaction took reach the module too (``on_rx_response``): the
answers to the message-waiting NOTIFYs the box sends outside pjsua (firmware/sip/mwi.py)
go to ``notify_answer`` and stop there; every other response goes on to pjsua.

The module's callbacks run on the thread that polls pjsua2 (the loop thread); they never
raise (ctypes would print and carry on, but a half-read request must not pass).
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from firmware.sip.admission import FORBIDDEN, UNAVAILABLE, Admission
from firmware.sip.guard import Guard
from firmware.sip.message import header
from firmware.sip.pjsipc import (
    PJ_FALSE,
    PJ_TRUE,
    HdrListHead,
    PjsipModule,
    PjStr,
    RxCallback,
    endpoint_api,
    library,
)
from firmware.sip.registrar import Registrar, Reply
from firmware.sip.scanners import scanner_in

log = logging.getLogger(__name__)

# pjsip/sip_module.h: the transaction layer is 16, the dialog (UA) layer 32.
PRIORITY = 17

# Candidates for PJSIP_MAX_PKT_LEN, smallest first (4000 is pjsip's default): the probe
# must match at exactly one of them, and larger ones are only read if smaller ones failed.
_PKT_LENS = (4000, 8000, 16000, 32000, 65536)
_HEAD_SCAN = 1024  # the packet starts within the first KB (after tp_info)
_READ_MAX = 2048  # a request's start line and headers we look at
_READ_MAX_AUTH = 8192  # a REGISTER's or INVITE's, for the registrar's digest headers
PHONE_CALL_MEMORY_S = 30.0  # how long an authenticated INVITE waits for onIncomingCall


@dataclass(frozen=True)
class RxLayout:
    """Where the fields the screen reads lie in a ``pjsip_rx_data``."""

    packet: int
    length: int
    src_name: int
    src_port: int


@dataclass(frozen=True)
class Request:
    method: str
    new_dialog: bool  # no To tag: a new call, not a re-INVITE


def layout_from_probe(memory: bytes, marker: bytes, size: int, source: str,
                      port: int, read: Callable[[int, int], bytes]) -> RxLayout | None:
    """Find the fields in an ``rx_data``: ``memory`` is its first bytes, ``read(offset, n)``
    reads more. Pure except for ``read``; exported for the unit test."""
    packet = memory.find(marker)
    if packet < 0:
        return None
    for pkt_len in _PKT_LENS:
        zero = packet + pkt_len
        length = _align(zero + 4, 8)  # pj_uint32_t zero; pj_ssize_t len
        src_addr = length + 8  # pj_sockaddr, 28 bytes (sockaddr_in6), 4-aligned
        src_name = src_addr + 28 + 4  # then int src_addr_len
        src_port = _align(src_name + 46, 4)  # char src_name[PJ_INET6_ADDRSTRLEN]
        block = read(zero, src_port + 4 - zero)
        got_len = int.from_bytes(block[length - zero:length - zero + 8], "little", signed=True)
        name = block[src_name - zero:src_name - zero + 46].split(b"\0", 1)[0]
        got_port = int.from_bytes(block[src_port - zero:src_port - zero + 4], "little")
        if got_len == size and name == source.encode() and got_port == port:
            return RxLayout(packet, length, src_name, src_port)
    return None


def _align(offset: int, to: int) -> int:
    return (offset + to - 1) // to * to


def _transport(text: str) -> str:
    """udp, tcp or tls, from the top Via (``SIP/2.0/UDP host``)."""
    via = header(text, "Via") or ""
    kind = via.split(None, 1)[0].rsplit("/", 1)[-1].lower() if via else "udp"
    return kind if kind in ("udp", "tcp", "tls") else "udp"


def parse_request(text: str) -> Request | None:
    first = text.split("\n", 1)[0].split()
    if len(first) != 3 or not first[2].upper().startswith("SIP/"):
        return None
    to = header(text, "To") or ""
    return Request(first[0].upper(), ";tag=" not in to.replace(" ", "").lower())


class SipScreen:
    """Registers the module, calibrates it, and refuses what Admission refuses."""

    def __init__(self, admission: Admission, guard: Guard, calls: Callable[[], int],
                 max_calls: int) -> None:
        self.admission = admission
        self.guard = guard
        self._calls = calls
        self.max_calls = max_calls
        self.state = "off"
        self.why_off = "not started"
        self._layout: RxLayout | None = None
        self._probe: tuple[bytes, int, str, int] | None = None  # marker, size, ip, port
        self._lib = endpoint_api(library())
        self._lib.pjsip_endpt_respond_stateless.argtypes = (
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
            ctypes.c_void_p)
        self._lib.pjsip_endpt_create_pool.restype = ctypes.c_void_p
        self._lib.pjsip_endpt_create_pool.argtypes = (
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t)
        self._lib.pjsip_endpt_release_pool.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
        self._lib.pjsip_generic_string_hdr_create.restype = ctypes.c_void_p
        self._lib.pjsip_generic_string_hdr_create.argtypes = (
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
        # The box's IP phones (issue 13): REGISTERs and their INVITEs' digests.
        self.registrar: Registrar | None = None
        # Call-ID -> (extension, when): INVITEs that proved they come from a phone, for
        # the adapter's onIncomingCall (it pops them).
        self.phone_calls: dict[str, tuple[str, float]] = {}
        # REFER inside a call: (Call-ID, Refer-To) -> the status to answer (202 when the
        # exchange takes the transfer), or None when the call is not ours.
        self.refer: Callable[[str, str], int | None] | None = None
        # A REGISTER that bound fresh contacts: (extension, their URIs), called after the
        # 200 is sent (firmware/sip/mwi.py tells them the mailbox's state).
        self.fresh: Callable[[str, tuple[str, ...]], None] | None = None
        # A response to a NOTIFY the box sent outside pjsua (message-waiting): (Call-ID,
        # status) -> True when it was one of ours, which pjsip then need not look at.
        self.notify_answer: Callable[[str, int], bool] | None = None
        # A SUBSCRIBE: (text, source, transport, now) -> the answer, or None to leave it to
        # pjsua (firmware/sip/mwi.py takes a phone's message-summary subscriptions).
        self.subscribe: Callable[[str, tuple[str, int], str, float], Reply | None] | None = None
        self._endpt: int | None = None
        # All must live as long as pjsip may call them: they are kept on self.
        self._callback = RxCallback(self._on_rx_request)
        self._response_callback = RxCallback(self._on_rx_response)
        self._name = b"mod-minipbx-screen"
        self._module = PjsipModule()
        self._module.name = PjStr(self._name, len(self._name))
        self._module.id = -1
        self._module.priority = PRIORITY
        self._module.on_rx_request = self._callback
        self._module.on_rx_response = self._response_callback

    def start(self, probe_to: tuple[str, str, int], poll: Callable[[int], int]) -> None:
        """Register, then calibrate with one probe to (kind, host, port) of a transport."""
        endpt = self._lib.pjsua_get_pjsip_endpt()
        status = self._lib.pjsip_endpt_register_module(endpt, ctypes.byref(self._module))
        if status != 0:
            self._off(f"pjsip refused the module (status {status})")
            return
        self._endpt = endpt
        self.state = "calibrating"
        try:
            self._calibrate(probe_to, poll)
        except OSError as exc:
            self._off(f"the probe could not be sent: {exc}")
        if self._layout is None and self.state == "calibrating":
            self._off("the probe request was not seen in pjsip's rx_data")

    def _calibrate(self, probe_to: tuple[str, str, int], poll: Callable[[int], int]) -> None:
        kind, host, port = probe_to
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        with socket.socket(family, stype) as sock:
            sock.bind((host, 0))
            me, my_port = sock.getsockname()[:2]
            tag = os.urandom(6).hex()
            marker = f"OPTIONS sip:minipbx-probe-{tag}@".encode()
            text = (f"OPTIONS sip:minipbx-probe-{tag}@{host}:{port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/{kind.upper()} {me}:{my_port};branch=z9hG4bK{tag}\r\n"
                    f"From: <sip:probe@{me}>;tag={tag}\r\nTo: <sip:probe@{host}>\r\n"
                    f"Call-ID: probe-{tag}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n").encode()
            self._probe = (marker, len(text), me, my_port)
            if stype == socket.SOCK_STREAM:
                sock.connect((host, port))
                sock.sendall(text)
            else:
                sock.sendto(text, (host, port))
            deadline = time.monotonic() + 2.0
            while self._layout is None and self.state == "calibrating" \
                    and time.monotonic() < deadline:
                poll(20)
        self._probe = None

    def _off(self, why: str) -> None:
        self.state = "off"
        self.why_off = why
        log.error("SIP screen off: %s; strangers' INVITEs are still refused, but only after "
                  "pjsua has given them media, so an INVITE flood can exhaust it", why)

    def close(self) -> None:
        if self._endpt is not None:
            self._lib.pjsip_endpt_unregister_module(self._endpt, ctypes.byref(self._module))
            self._endpt = None
        self.state = "off"
        self.why_off = "closed"

    # --- the callback, from pjsip -----------------------------------------------------------
    def _on_rx_request(self, rdata: int | None) -> int:
        try:
            if not rdata:
                return PJ_FALSE
            if self._probe is not None:
                return self._calibrating(rdata)
            if self._layout is None:
                return PJ_FALSE
            return self._screen(rdata, self._layout)
        except Exception:
            log.exception("SIP screen failed on a request; letting it through")
            return PJ_FALSE

    def _on_rx_response(self, rdata: int | None) -> int:
        """Responses no transaction took; only NOTIFY answers are looked at."""
        try:
            at = self._layout
            if not rdata or at is None or self.notify_answer is None:
                return PJ_FALSE
            size = ctypes.c_ssize_t.from_address(rdata + at.length).value
            head = ctypes.string_at(rdata + at.packet, max(0, min(size, _READ_MAX)))
            if b"NOTIFY" not in head:  # cheap: most responses are pjsua's own business
                return PJ_FALSE
            text = head.decode("utf-8", "replace")
            first = text.split("\n", 1)[0].split()
            if len(first) < 2 or not first[0].upper().startswith("SIP/") \
                    or not first[1].isdigit():
                return PJ_FALSE
            if not (header(text, "CSeq") or "").upper().endswith("NOTIFY"):
                return PJ_FALSE
            ours = self.notify_answer(header(text, "Call-ID") or "", int(first[1]))
            return PJ_TRUE if ours else PJ_FALSE
        except Exception:
            log.exception("SIP screen failed on a response")
            return PJ_FALSE

    def _calibrating(self, rdata: int) -> int:
        assert self._probe is not None
        marker, size, ip, port = self._probe
        head = ctypes.string_at(rdata, _HEAD_SCAN)
        if marker not in head:
            return PJ_FALSE
        layout = layout_from_probe(head, marker, size, ip, port,
                                   lambda off, n: ctypes.string_at(rdata + off, n))
        if layout is None:
            self._off("the probe's source address was not where pjsip keeps it")
        else:
            self._layout = layout
            self.state = "on"
            self.why_off = ""
            log.info("SIP screen on: every request is screened (bans, scanners, rates) and "
                     "new INVITEs are checked before they get media")
        return PJ_TRUE  # the probe is ours; pjsip need not answer it

    def _screen(self, rdata: int, at: RxLayout) -> int:
        source = ctypes.string_at(rdata + at.src_name, 46).split(b"\0", 1)[0].decode()
        now = time.monotonic()
        guard = self.guard
        if guard.banned(source, now):
            return PJ_TRUE  # silence: not even the packet is read
        size = ctypes.c_ssize_t.from_address(rdata + at.length).value
        head = ctypes.string_at(rdata + at.packet, max(0, min(size, _READ_MAX)))
        agent = scanner_in(head)
        if agent is not None:
            guard.scanner(source, agent, now)
            return PJ_TRUE
        verdict = guard.request(source, now)
        if verdict == "drop":
            return PJ_TRUE
        method = head[:head.find(b" ")]
        if verdict == "busy" and method != b"INVITE":
            # A trunk over its rate: refuse what starts something, let its dialogs go on
            # (its new INVITEs meet the admission's own, lower, rate below).
            if method in (b"ACK", b"CANCEL"):
                return PJ_FALSE
            request = parse_request(head.decode("utf-8", "replace"))
            if request is None or not request.new_dialog:
                return PJ_FALSE
            return self._respond(rdata, UNAVAILABLE)
        registrar = self.registrar if self.registrar and self.registrar.accounts else None
        if method == b"REGISTER":
            if registrar is not None:
                text = self._text(rdata, at, size, head)
                port = ctypes.c_int.from_address(rdata + at.src_port).value
                reply = registrar.register(text, (source, port), _transport(text), now)
                done = self._reply(rdata, source, reply, now)
                if reply.fresh is not None and self.fresh is not None:
                    self.fresh(*reply.fresh)
                return done
            # No phones configured: a stranger's REGISTER is a guess at an account,
            # refused and counted as a failed login.
            if self.admission.trunk_for(source) is not None:
                return PJ_FALSE
            return PJ_TRUE if guard.auth_failed(source, now) else self._respond(rdata,
                                                                                 FORBIDDEN)
        if method == b"REFER" and self.refer is not None:
            # A transfer asked inside one of our calls: the exchange does it (with the
            # transferrer's permission), never pjsua on its own.
            text = self._text(rdata, at, size, head)
            code = self.refer(header(text, "Call-ID") or "", header(text, "Refer-To") or "")
            return PJ_FALSE if code is None else self._respond(rdata, code)
        if method == b"SUBSCRIBE" and self.subscribe is not None:
            text = self._text(rdata, at, size, head)
            port = ctypes.c_int.from_address(rdata + at.src_port).value
            answer = self.subscribe(text, (source, port), _transport(text), now)
            return PJ_FALSE if answer is None else self._reply(rdata, source, answer, now)
        if method != b"INVITE":
            return PJ_FALSE
        request = parse_request(head.decode("utf-8", "replace"))
        if request is None or not request.new_dialog:
            return PJ_FALSE
        if registrar is not None:
            text = self._text(rdata, at, size, head)
            port = ctypes.c_int.from_address(rdata + at.src_port).value
            ext = registrar.caller_of(text, (source, port),
                                      trunk_source=self.admission.trunk_for(source) is not None)
            if ext is not None:
                return self._phone_invite(rdata, registrar, ext, text, (source, port), now)
        refusal = self.admission.decide(source, self._calls(), self.max_calls, now)
        if refusal is None:
            return PJ_FALSE
        if refusal.reason == "source" and guard.auth_failed(source, now):
            return PJ_TRUE  # banned from now on: this one goes unanswered too
        return self._respond(rdata, refusal.code)

    def _phone_invite(self, rdata: int, registrar: Registrar, ext: str, text: str,
                      source: tuple[str, int], now: float) -> int:
        reply = registrar.authorize_invite(ext, text, source, now)
        if reply is not None:
            return self._reply(rdata, source[0], reply, now)
        refusal = self.admission.decide(source[0], self._calls(), self.max_calls, now,
                                        phone=True)
        if refusal is not None:
            return self._respond(rdata, refusal.code)
        for call_id in [c for c, (_, at) in self.phone_calls.items()
                        if now - at > PHONE_CALL_MEMORY_S]:
            del self.phone_calls[call_id]
        self.phone_calls[header(text, "Call-ID") or ""] = (ext, now)
        return PJ_FALSE

    def _text(self, rdata: int, at: RxLayout, size: int, head: bytes) -> str:
        if size > len(head):
            head = ctypes.string_at(rdata + at.packet, min(size, _READ_MAX_AUTH))
        return head.decode("utf-8", "replace")

    def _reply(self, rdata: int, source: str, reply: Reply, now: float) -> int:
        if reply.note:
            log.info("SIP %d to %s: %s", reply.code, source, reply.note)
        if reply.failed_login and self.guard.auth_failed(source, now):
            return PJ_TRUE  # banned from now on: unanswered
        return self._respond(rdata, reply.code, reply.headers)

    def _respond(self, rdata: int, code: int,
                 headers: tuple[tuple[str, str], ...] = ()) -> int:
        """A stateless response, with ``headers`` (built in a pool of our own that pjsip
        copies them from, released at once)."""
        lib = self._lib
        pool = None
        try:
            head = HdrListHead()
            if headers:
                pool = lib.pjsip_endpt_create_pool(self._endpt, b"screen", 1024, 1024)
                if not pool:
                    return PJ_TRUE
                address = ctypes.addressof(head)
                head.prev = head.next = address
                for name, value in headers:
                    n, v = name.encode(), value.encode()
                    hdr = lib.pjsip_generic_string_hdr_create(
                        pool, ctypes.byref(PjStr(n, len(n))), ctypes.byref(PjStr(v, len(v))))
                    if not hdr:
                        continue
                    # pj_list_push_back(head, hdr): hdr's first two fields are prev, next.
                    links = (ctypes.c_void_p * 2).from_address(hdr)
                    links[0], links[1] = head.prev, address
                    (ctypes.c_void_p * 2).from_address(head.prev)[1] = hdr
                    head.prev = hdr
            lib.pjsip_endpt_respond_stateless(self._endpt, rdata, code, None,
                                              ctypes.byref(head) if headers else None, None)
        except Exception:
            log.debug("stateless %d not sent", code, exc_info=True)
        finally:
            if pool:
                lib.pjsip_endpt_release_pool(self._endpt, pool)
        return PJ_TRUE

    def status(self) -> dict[str, object]:
        out: dict[str, object] = {"state": self.state, **self.admission.status()}
        if self.state == "off":
            out["why"] = self.why_off
        return out
