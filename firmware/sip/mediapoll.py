"""pjmedia's RTP ioqueue polled by a thread that sleeps until a packet comes.

pjsua's media worker thread polls the RTP sockets with a 10 ms timeout: 100 wake-ups a
second on a box with no call at all (0.2 to 0.3 % of a core here, more on a Pi). pjsua
cannot be told to run without it, so :func:`start_media_poller` stops it
(``pjmedia_endpt_stop_threads``) and starts the native library's poll thread
(``firmware/sip/native/mediapoll.c``) on the same ioqueue, which waits until a socket is
ready (at most :data:`TIMEOUT_MS`). RTP is handled as promptly as before: select() returns
when a packet comes.

A call's RTP sockets join the ioqueue while pjsua handles SIP on the loop thread; the poll
thread's select() sees them at its next poll, so :meth:`MediaPoller.wake` is called after
every SIP poll that handled something (firmware/sip/endpoint.py). The timeout is the
safety net.

``$MINIPBX_MEDIA_POLL=pjmedia`` keeps pjmedia's own thread (for a side-by-side measure); so
does a native library that is missing or older than this file (the log says which).
"""

from __future__ import annotations

import ctypes
import logging
import os

from firmware.sip.nativelib import NativeUnavailable, load

log = logging.getLogger(__name__)

ENV = "MINIPBX_MEDIA_POLL"
TIMEOUT_MS = 500
_PJ_FUNCTIONS = ("pj_ioqueue_poll", "pj_thread_register", "pj_ioqueue_register_sock",
                 "pj_ioqueue_unregister", "pj_ioqueue_recv", "pj_ioqueue_op_key_init",
                 "pjmedia_endpt_stop_threads")


class MediaPoller:
    """The running poll thread; :meth:`stop` before the library is destroyed."""

    def __init__(self, dll: ctypes.CDLL) -> None:
        self._dll = dll
        self._running = True

    def wake(self) -> None:
        """New sockets may be in the ioqueue: the poll thread looks again now."""
        if self._running:
            self._dll.mp_wake()

    def counts(self) -> tuple[int, int]:
        """(polls returned, wake-ups sent) so far."""
        out = (ctypes.c_uint64 * 2)()
        self._dll.mp_counts(out)
        return int(out[0]), int(out[1])

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._dll.mp_stop()


def start_media_poller(pjlib: ctypes.CDLL, env: dict[str, str] | None = None
                       ) -> MediaPoller | None:
    """Replace pjmedia's worker thread with ours; None (pjmedia's stays) if it cannot.
    Call after libInit, on the thread that created the library."""
    env = dict(os.environ if env is None else env)
    if env.get(ENV, "") == "pjmedia":
        log.info("RTP: pjmedia's own media thread (%s=pjmedia)", ENV)
        return None
    try:
        dll = load().dll
        for name in ("mp_start", "mp_wake", "mp_stop", "mp_counts"):
            getattr(dll, name)
        fns = (ctypes.c_void_p * len(_PJ_FUNCTIONS))(
            *(ctypes.cast(getattr(pjlib, name), ctypes.c_void_p).value
              for name in _PJ_FUNCTIONS))
    except (NativeUnavailable, AttributeError) as exc:
        log.info("RTP: pjmedia's own media thread (the native poll thread: %s)", exc)
        return None
    dll.mp_start.restype = ctypes.c_int
    dll.mp_start.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                             ctypes.c_void_p, ctypes.c_int)
    dll.mp_wake.restype = None
    dll.mp_wake.argtypes = ()
    dll.mp_stop.restype = None
    dll.mp_stop.argtypes = ()
    dll.mp_counts.restype = None
    dll.mp_counts.argtypes = (ctypes.POINTER(ctypes.c_uint64),)
    pjlib.pjsua_get_pjmedia_endpt.restype = ctypes.c_void_p
    pjlib.pjsua_get_pjmedia_endpt.argtypes = ()
    pjlib.pjmedia_endpt_get_ioqueue.restype = ctypes.c_void_p
    pjlib.pjmedia_endpt_get_ioqueue.argtypes = (ctypes.c_void_p,)
    pjlib.pjsua_pool_create.restype = ctypes.c_void_p
    pjlib.pjsua_pool_create.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t)
    endpt = pjlib.pjsua_get_pjmedia_endpt()
    ioqueue = pjlib.pjmedia_endpt_get_ioqueue(endpt) if endpt else None
    pool = pjlib.pjsua_pool_create(b"minipbx-mediapoll", 512, 512)
    if not ioqueue or not pool:
        log.warning("RTP: pjmedia's own media thread (no media ioqueue or pool)")
        return None
    # mp_start stops pjmedia's thread once ours is ready to start.
    started = dll.mp_start(endpt, ioqueue, pool, fns, TIMEOUT_MS)
    if started == -1:
        log.warning("RTP: pjmedia's own media thread (the native poll thread could not "
                    "register its wake-up socket)")
        return None
    if started != 0:
        log.error("RTP: the native poll thread did not start after pjmedia's stopped: no "
                  "RTP (set %s=pjmedia)", ENV)
        return None
    log.info("RTP: polled by the native media-poll thread (waits up to %d ms)", TIMEOUT_MS)
    return MediaPoller(dll)
