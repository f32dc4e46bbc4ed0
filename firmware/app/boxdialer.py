"""The box's own :class:`~firmware.app.dialer.Dialer`: the exchange's originate API
(``Exchange.originate``/``hangup``/``join``, ``Originated`` events) driven through the box's
work queue, and the channel count the informer's reserve needs.

Free channels of the way a number leaves (``free_channels``), counted for people:

- an extension, group or menu of the box: PLENTY (calling one takes no shared channel; a
  busy extension answers busy, which is a result);
- an outbound route: its idle FXO lines, plus its SIP trunks' free calls, where a trunk
  has ``max_calls`` minus its calls out (no limit: PLENTY) and all SIP trunks together
  have the SIP stack's free call slots (the pjsua2 wheel caps at MAX_CALLS), whichever is
  fewer; a route's trunks are its failover order, so any of them may carry the call.

Wall time (campaign windows, the call-back's office hours) is ``time.time()`` moved by
``MINIPBX_CLOCK_SHIFT_S`` seconds when set (tests drive the office's clock with it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from firmware.app.dialer import PLENTY, News
from firmware.core.events import Party, Play
from firmware.pbx.calls import Originated
from firmware.pbx.exchange import Exchange
from firmware.pbx.plan import ToTrunk
from firmware.pbx.tollguard import Permission

log = logging.getLogger(__name__)

CLOCK_SHIFT_ENV = "MINIPBX_CLOCK_SHIFT_S"
CACHE_S = 0.25


class QueueBox(Protocol):
    """What the dialer needs of the Box (firmware/app/box.py)."""

    exchange: Exchange
    on_originated: Callable[[Originated], None] | None

    def send_down(self, outs: list[Any]) -> None: ...


def wall_clock() -> float:
    return time.time() + float(os.environ.get(CLOCK_SHIFT_ENV, "0") or 0)


class BoxDialer:
    def __init__(self, box: QueueBox, loop: asyncio.AbstractEventLoop,
                 sip_calls: Callable[[], int], max_sip_calls: int) -> None:
        self._box = box
        self._loop = loop
        self._sip_calls = sip_calls
        self._max_sip_calls = max_sip_calls
        self._subs: list[tuple[str, Callable[[News], None]]] = []
        # (when, SIP calls, calls out per trunk), asked once per CACHE_S; our own calls
        # forget it (they change both at once).
        self._counts: tuple[float, int, dict[str, int]] | None = None
        box.on_originated = self._on_originated

    def originate(self, to: str, tag: str, caller: Party, permission: Permission | None,
                  ring_s: float) -> str:
        self._counts = None
        handle, outs = self._box.exchange.originate(
            to, tag=tag, caller=caller, permission=permission, now=time.monotonic(),
            ring_s=ring_s)
        self._box.send_down(outs)
        return handle

    def hangup(self, handle_or_leg: str) -> None:
        self._counts = None
        self._box.send_down(self._box.exchange.hangup(handle_or_leg, time.monotonic()))

    def play(self, leg: str, prompts: tuple[str, ...], language: str = "",
             loop: bool = False) -> None:
        self._box.send_down([Play(leg, prompts, loop=loop, language=language)])

    def join(self, a: str, b: str) -> None:
        self._box.send_down(self._box.exchange.join(a, b, time.monotonic()))

    def subscribe(self, prefix: str, fn: Callable[[News], None]) -> None:
        self._subs.append((prefix, fn))

    def wall(self) -> float:
        return wall_clock()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        handle = self._loop.call_later(max(0.0, delay), fn)
        return handle.cancel

    def free_channels(self, number: str) -> int:
        exchange = self._box.exchange
        plan = exchange.plan
        target = plan.resolve(number)
        if not isinstance(target, ToTrunk):
            return PLENTY
        sip_calls, calls_out = self._busy()
        lines = 0
        trunks = 0
        for name in target.route.trunks:
            if plan.is_fxo(name):
                lines += exchange.leg_state(name) == "idle"
                continue
            spec = plan.trunk(name)
            limit = spec.max_calls if spec is not None else 0
            trunks += max(0, limit - calls_out.get(name, 0)) if limit else PLENTY
        sip = min(trunks, max(0, self._max_sip_calls - sip_calls)) if trunks else 0
        return lines + sip

    def _busy(self) -> tuple[int, dict[str, int]]:
        now = time.monotonic()
        if self._counts is None or now - self._counts[0] > CACHE_S:
            status = self._box.exchange.outbound_status(now)
            out = status.get("calls_out")
            per_trunk = {str(k): int(v) for k, v in out.items()} if isinstance(out, dict) else {}
            self._counts = (now, self._sip_calls(), per_trunk)
        return self._counts[1], self._counts[2]

    def _on_originated(self, event: Originated) -> None:
        news = News(handle=event.handle, tag=event.tag, state=event.state,
                    leg=event.leg or "", cause=event.cause if event.state == "ended" else None,
                    reason=event.reason, digit=event.digit)
        for prefix, fn in self._subs:
            if event.tag.startswith(prefix):
                try:
                    fn(news)
                except Exception:  # one service's bug must not stop the box's queue
                    log.exception("handling %s failed", news)
                return
        log.debug("no service follows %s", news)
