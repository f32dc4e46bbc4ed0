"""Type II caller ID on a line in a call: the sequence around firmware/app/cwcid.py.

The call-waiting tone and CAS play; the line's voice path is muted meanwhile (a phone
cannot decode the signals over the far end's voice); the phone's ACK digit (A or D,
within the signal's window) brings the FSK, whose end bridges the line again. No ACK in
the window: the tone alone it was, and the line is bridged again. A bridge the exchange
asks for while the line is muted waits for the end; an unbridge cancels one that waits.

The clock thread only reports the end of a piece of audio; everything else runs on the
loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from firmware.app.cwcid import AwaitingAck, TypeTwo
from firmware.media.sources import PcmSource
from firmware.sip.switch import MediaSwitch

log = logging.getLogger(__name__)

Play = Callable[[str, Callable[[], bytes | None], str], None]


class WaitingCallerId:
    def __init__(self, loop: asyncio.AbstractEventLoop, switch: MediaSwitch, play: Play,
                 stop_cid: Callable[[str], None], bridged_again: Callable[[], None]) -> None:
        """``play(leg, source, what)`` plays into a line; ``stop_cid(leg)`` stops caller ID
        playing there; ``bridged_again()`` follows a line's return to its partners."""
        self._loop = loop
        self._switch = switch
        self._play = play
        self._stop_cid = stop_cid
        self._bridged_again = bridged_again
        self._acks: dict[str, AwaitingAck] = {}  # CAS sent, ACK awaited
        self._muted: dict[str, set[str]] = {}  # muted line -> the partners to bridge again

    def start(self, leg: str, signal: TypeTwo) -> None:
        pending = AwaitingAck(signal)
        self._acks[leg] = pending
        partners = self._switch.partners(leg)
        self._muted.setdefault(leg, set()).update(partners)
        for other in partners:
            self._switch.unbridge(leg, other)

        def alert_done() -> None:  # from the clock thread
            self._loop.call_soon_threadsafe(self._alert_done, leg, pending)

        self._play(leg, PcmSource(signal.alert, alert_done), "cid")

    def _alert_done(self, leg: str, pending: AwaitingAck) -> None:
        if self._acks.get(leg) is pending:
            pending.alert_done()
            self._stop_cid(leg)
            self._loop.call_later(pending.signal.ack_window_s, self._no_ack, leg, pending)

    def _no_ack(self, leg: str, pending: AwaitingAck) -> None:
        if self._acks.get(leg) is pending:  # no ACK: the tone alone it was
            del self._acks[leg]
            self._unmute(leg)

    def acknowledged(self, leg: str, digit: str) -> bool:
        """Whether ``digit`` acknowledges a CAS on ``leg`` (then the FSK follows)."""
        pending = self._acks.get(leg)
        if pending is None or not pending.acknowledges(digit, time.monotonic()):
            return False
        del self._acks[leg]
        log.info("%s: type II caller ID acknowledged (%s): FSK follows", leg, digit)

        def data_done() -> None:  # from the clock thread
            self._loop.call_soon_threadsafe(self._data_done, leg)

        self._play(leg, PcmSource(pending.signal.data, data_done), "cid")
        return True

    def _data_done(self, leg: str) -> None:
        self._stop_cid(leg)
        self._unmute(leg)

    def defer(self, a: str, b: str, bridge: bool) -> bool:
        """While ``a`` or ``b`` is muted, a bridge between them waits for the end (True);
        an unbridge cancels one that waits."""
        deferred = False
        for leg, other in ((a, b), (b, a)):
            if leg in self._muted:
                if bridge:
                    self._muted[leg].add(other)
                    deferred = True
                else:
                    self._muted[leg].discard(other)
        return deferred

    def _unmute(self, leg: str) -> None:
        partners = self._muted.pop(leg, None)
        if partners is None:
            return
        for other in partners:
            self._switch.bridge(leg, other)
        self._bridged_again()
