"""The pjsua2 endpoint, run the way DESIGN.md asks: no SIP worker threads of its own
(``threadCnt = 0``), polled from the asyncio loop, so every SIP callback runs on the loop
thread. Media callbacks still run on pjmedia's clock thread, whose clock is the null sound
device (the wheel has no sound devices), and RFC 4733 digits on the RTP thread
(firmware/sip/mediapoll.py): ``mainThreadOnly`` is off, so pjsua2 calls those at once
rather than queueing them until the loop's next poll, which had to come every 20 ms while
a call was up (a menu's barge-in waits for the digit); firmware/sip/calls.py hands the
digit to the loop itself. pjsua2's log lines from those threads come at once too (Python's
logging is thread-safe).

pjsua2 aborts the interpreter when Call or AudioMediaPort objects are still alive at
``libDestroy`` (TOOLS.md), so :meth:`SipEndpoint.shutdown` takes the owners' cleanups first.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pjsua2 as pj

from firmware.core.errors import PbxError
from firmware.sip.library import LibraryInfo, read_library
from firmware.sip.mediapoll import MediaPoller, start_media_poller
from firmware.sip.pjsipc import library as _library

log = logging.getLogger(__name__)

# G.711 first: analog lines are narrowband, and every trunk speaks it. Two pjsua2 ends would
# otherwise pick speex (TOOLS.md).
CODEC_PRIORITY = {"PCMU/8000": 255, "PCMA/8000": 254, "G722/16000": 200}
LOWER_CODECS = ("speex", "iLBC", "GSM")

_TRANSPORTS = {
    "udp": pj.PJSIP_TRANSPORT_UDP,
    "tcp": pj.PJSIP_TRANSPORT_TCP,
    "tls": pj.PJSIP_TRANSPORT_TLS,
}

# pjlib levels 1..6 onto Python's: 1 error, 2 warning, 3 info, 4+ debug.
_PJ_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}


class _LogWriter(pj.LogWriter):  # type: ignore[misc]
    def write(self, entry: pj.LogEntry) -> None:
        try:
            level = _PJ_LEVELS.get(entry.level, logging.DEBUG)
            logging.getLogger("pjsip").log(level, "%s", entry.msg.rstrip())
        except Exception:  # an exception escaping a callback can abort pjsua2
            pass


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _TimeVal(ctypes.Structure):
    """pj_time_val: long sec, long msec."""

    _fields_ = (("sec", ctypes.c_long), ("msec", ctypes.c_long))


class TransportError(PbxError, OSError):
    """A SIP transport could not be opened (address in use, bad address, no TLS key)."""


@dataclass(frozen=True)
class TransportSpec:
    kind: str  # udp, tcp, tls
    bind: str
    port: int
    tls_cert: str = ""
    tls_key: str = ""


@dataclass(frozen=True)
class BoundTransport:
    kind: str
    transport_id: int
    host: str
    port: int


class SipEndpoint:
    """Owns the pjsua2 library for the life of the daemon."""

    def __init__(self, user_agent: str, log_level: int = 3) -> None:
        self._cleanups: list[Callable[[], None]] = []
        self.transports: dict[str, BoundTransport] = {}
        self.ep = pj.Endpoint()
        with _quiet_stdout():
            # pjlib prints its start-up banner on stdout before our log writer exists.
            self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        # Off: callbacks from the media threads (RFC 4733 digits, log lines) run at once on
        # their thread instead of waiting for a poll (see above); SIP's run on the loop.
        cfg.uaConfig.mainThreadOnly = False
        cfg.uaConfig.userAgent = user_agent
        # pjsua clamps this to its compiled-in PJSUA_MAX_CALLS: 4 in the PyPI wheel, 64 in the
        # source build (tools/pjsua2/config_site.h); firmware/sip/library.py reads the result.
        cfg.uaConfig.maxCalls = 64
        # The writer must outlive the library; pjsua2 keeps a raw pointer to it.
        self._writer = _LogWriter()
        cfg.logConfig.writer = self._writer
        cfg.logConfig.level = log_level
        cfg.logConfig.consoleLevel = 0
        cfg.logConfig.decor = 0
        med = cfg.medConfig
        med.clockRate = 8000
        med.sndClockRate = 8000
        med.channelCount = 1
        med.audioFramePtime = 20
        med.ptime = 20
        med.noVad = True
        med.ecTailLen = 0  # the line echo canceller belongs to the line side (later issue)
        # Never stop the bridge's clock when the last link goes: line ports play tones and
        # caller ID with no link at all, on the clock's ticks.
        med.sndAutoCloseTime = -1
        self.ep.libInit(cfg)
        # RTP polled by a thread that sleeps until a packet comes (firmware/sip/mediapoll.py),
        # not by pjmedia's, which wakes every 10 ms with no call at all.
        self.media_poller: MediaPoller | None = start_media_poller(_library())
        self._started = False
        self._timers: tuple[ctypes.CDLL, int] | None = None  # next_timer_s's functions
        self.library: LibraryInfo | None = None  # read at start (codecs need libStart)

    def add_transport(self, spec: TransportSpec) -> BoundTransport:
        if spec.kind not in _TRANSPORTS:
            raise ValueError(f"unknown SIP transport {spec.kind!r}; use udp, tcp or tls")
        tc = pj.TransportConfig()
        tc.port = spec.port
        tc.boundAddress = spec.bind
        if spec.kind == "tls":
            tc.tlsConfig.certFile = spec.tls_cert
            tc.tlsConfig.privKeyFile = spec.tls_key
            # TLS 1.2 and 1.3 (1.3 where the library's OpenSSL has it: the source build;
            # the wheel's OpenSSL 1.0.2 stops at 1.2). Nothing older.
            tc.tlsConfig.proto = pj.PJ_SSL_SOCK_PROTO_TLS1_2 | pj.PJ_SSL_SOCK_PROTO_TLS1_3
        try:
            tid = self.ep.transportCreate(_TRANSPORTS[spec.kind], tc)
        except pj.Error as exc:
            reason = str(getattr(exc, "reason", "") or exc).strip()
            raise TransportError(
                f"cannot listen for SIP on {spec.kind} {spec.bind}:{spec.port}: {reason} "
                "(is another minipbx or SIP program using that port? change [sip] port)"
            ) from None
        name = self.ep.transportGetInfo(tid).localName
        host, _, port = name.rpartition(":")
        bound = BoundTransport(spec.kind, tid, host.strip("[]"), int(port))
        self.transports[spec.kind] = bound
        return bound

    def start(self) -> None:
        self.ep.libStart()
        # The null device's clock drives the conference bridge at exactly 50 ticks/s.
        self.ep.audDevManager().setNullDev()
        for info in self.ep.codecEnum2():
            cid = info.codecId
            if cid in CODEC_PRIORITY:
                self.ep.codecSetPriority(cid, CODEC_PRIORITY[cid])
            elif cid.startswith(LOWER_CODECS):
                self.ep.codecSetPriority(cid, 0)
        self.library = read_library(self.ep)
        log.info("pjsua2 %s (%s build): %d calls at most, TLS %s", self.library.version,
                 self.library.build, self.library.max_calls,
                 "/".join(self.library.tls) or "unknown")
        self._started = True

    def null_sink(self) -> Any:
        """The null sound device's playback side: a listener that costs no Python."""
        return self.ep.audDevManager().getPlaybackDevMedia()

    def poll(self, max_ms: int = 0) -> int:
        """Run due SIP work; returns the number of events handled."""
        handled = int(self.ep.libHandleEvents(max_ms))
        if handled > 0 and self.media_poller is not None:
            # A call's RTP sockets are made while pjsua handles its SIP: the media poll
            # thread's select() must look at them now, not at its timeout.
            self.media_poller.wake()
        return handled

    def udp_sockets(self) -> list[int] | None:
        """The file descriptors pjsip reads SIP from, so the loop can wait on them; None if
        they are not all known (a TCP or TLS transport: its connections come and go).
        pjsua2 does not say which they are: they are the process's datagram sockets bound
        to a UDP transport's port (found once, from /proc/self/fd)."""
        if not self.transports or any(t.kind != "udp" for t in self.transports.values()):
            return None
        ports = {t.port for t in self.transports.values()}
        found = []
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    continue
                with socket.socket(fileno=os.dup(fd)) as sock:
                    if sock.type != socket.SOCK_DGRAM:
                        continue
                    addr = sock.getsockname()
            except OSError:
                continue
            if isinstance(addr, tuple) and addr[1] in ports:
                found.append(fd)
        return found if len(found) >= len(ports) else None

    def next_timer_s(self) -> float | None:
        """Seconds until pjsip's next timer (retransmissions, registration refreshes,
        pjsua's own), 0 if one is due; None if none is scheduled."""
        if self._timers is None:
            lib = _library()
            lib.pjsua_get_pjsip_endpt.restype = ctypes.c_void_p
            lib.pjsua_get_pjsip_endpt.argtypes = ()
            lib.pjsip_endpt_get_timer_heap.restype = ctypes.c_void_p
            lib.pjsip_endpt_get_timer_heap.argtypes = (ctypes.c_void_p,)
            lib.pj_timer_heap_earliest_time.restype = ctypes.c_int
            lib.pj_timer_heap_earliest_time.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
            lib.pj_gettickcount.restype = ctypes.c_int
            lib.pj_gettickcount.argtypes = (ctypes.c_void_p,)
            heap = lib.pjsip_endpt_get_timer_heap(lib.pjsua_get_pjsip_endpt())
            self._timers = (lib, heap)
        lib, heap = self._timers
        due, now = _TimeVal(), _TimeVal()
        if not heap or lib.pj_timer_heap_earliest_time(heap, ctypes.byref(due)) != 0:
            return None
        lib.pj_gettickcount(ctypes.byref(now))
        return max(0.0, float(due.sec - now.sec) + float(due.msec - now.msec) / 1000.0)

    def on_shutdown(self, cleanup: Callable[[], None]) -> None:
        """Register a cleanup that drops pjsua2 objects before the library goes."""
        self._cleanups.append(cleanup)

    def shutdown(self) -> None:
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception:
                log.exception("cleanup before SIP shutdown failed")
        self._cleanups.clear()
        gc.collect()
        try:
            self.ep.hangupAllCalls()
            for _ in range(20):
                self.ep.libHandleEvents(10)
        except Exception:
            log.exception("hanging up calls at shutdown failed")
        gc.collect()
        if self.media_poller is not None:
            self.media_poller.stop()
        self.ep.libDestroy()
