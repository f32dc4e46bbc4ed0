"""pjsua2's SIP work on the loop thread (DESIGN.md, threads): when it polls and what wakes it.

pjsua2 runs no SIP thread of its own; the loop calls ``libHandleEvents(0)``, so every SIP
callback runs on the loop thread. RTP has its own thread (firmware/sip/mediapoll.py), and
RFC 4733 digits come from it straight to the loop (firmware/sip/calls.py), not as pjsua2
jobs waiting for a poll; an INVITE we send goes out at once, inside makeCall.

- With only UDP transports the loop sleeps until a SIP datagram comes (it watches
  pjsip's UDP sockets), pjsip's next timer is due (retransmissions, registration
  refreshes, session timers) or ``POLL_QUIET_S`` passes (the calls' RTP check): an idle
  box, or one with calls up, wakes about once a second for SIP, not 20 or 50 times. (A
  reply pjsip could not send at once, its socket full, waits for that wake-up; SIP
  retransmits meanwhile.)
- With a TCP or TLS transport (connections come and go, their sockets are not known) it
  polls every ``POLL_BUSY_S`` while a call exists or SIP came in the last second, else
  every ``POLL_IDLE_S``.

Each answers well inside SIP's 500 ms T1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from firmware.sip.adapter import SipAdapter
from firmware.sip.endpoint import SipEndpoint

log = logging.getLogger("minipbx")

POLL_BUSY_S = 0.02
POLL_IDLE_S = 0.05
POLL_QUIET_S = 1.0
BUSY_HOLD_S = 1.0
# One poll takes only a few datagrams (pjlib's events per poll): under a burst, drain for
# up to DRAIN_S, or the socket fills and the kernel drops datagrams, a trunk's among them
# (the screen makes each cheap: tools/bench_flood.py).
DRAIN_S = 0.002
# How often answered SIP calls are asked whether RTP still comes ([sip] rtp_timeout_s).
MEDIA_CHECK_S = 1.0


async def poll_sip(endpoint: SipEndpoint, adapter: SipAdapter, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    sockets = endpoint.udp_sockets()
    waiter: asyncio.Future[None] | None = None

    def readable() -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    if sockets is None:
        log.info("SIP: polled every %.0f ms while idle (a TCP or TLS transport)",
                 POLL_IDLE_S * 1000)
    busy_until = 0.0
    media_check_at = 0.0
    while not stop.is_set():
        handled = _drain(endpoint)
        now = time.monotonic()
        if now >= media_check_at:
            media_check_at = now + MEDIA_CHECK_S
            try:
                adapter.check_media(now)
            except Exception:
                log.exception("checking the calls' RTP failed")
        if sockets is None and (handled or adapter.busy()):
            busy_until = now + BUSY_HOLD_S
        if now < busy_until:
            await asyncio.sleep(POLL_BUSY_S)
            continue
        if sockets is None:
            await asyncio.sleep(POLL_IDLE_S)
            continue
        timer = endpoint.next_timer_s()
        delay = POLL_QUIET_S if timer is None else min(POLL_QUIET_S, timer + 0.001)
        # The sockets are watched only during this wait: pjsip reads them at its own
        # poll, and a datagram waiting for that would make the loop spin meanwhile.
        waiter = loop.create_future()
        wake = loop.call_later(delay, readable)
        for fd in sockets:
            loop.add_reader(fd, readable)
        try:
            await waiter
        finally:
            wake.cancel()
            waiter = None
            for fd in sockets:
                with contextlib.suppress(Exception):  # the loop is closing
                    loop.remove_reader(fd)


def _drain(endpoint: SipEndpoint) -> int:
    try:
        handled = endpoint.poll(0)
        drain_until = time.monotonic() + DRAIN_S
        while handled and time.monotonic() < drain_until:
            more = endpoint.poll(0)
            if not more:
                break
            handled += more
        return handled
    except Exception:
        log.exception("SIP polling failed")
        return 0
