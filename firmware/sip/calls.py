"""One SIP dialog as a call leg: pjsua2's callbacks become call-control events.

Callbacks run on the loop thread (pjsua2 is polled from it) but inside pjsua2's own stack,
so events are handed out through ``emit``, which the adapter defers to the next loop turn:
the PBX may then call back into pjsua2 without re-entering it. RFC 4733 digits are the
exception: they come on the RTP thread (firmware/sip/endpoint.py), and are handed to the
loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from firmware.core.causes import sip_to_cause
from firmware.core.events import Alerting, Answer, CallEvent, Digit, LegId, Referred, Release
from firmware.sip.message import header_lines

log = logging.getLogger(__name__)

Emit = Callable[[CallEvent], None]
MediaChanged = Callable[[LegId, Any | None], None]
Ended = Callable[[LegId], None]


class SipCall(pj.Call):  # type: ignore[misc]
    def __init__(self, account: Any, leg: LegId, emit: Emit, media_changed: MediaChanged,
                 ended: Ended, call_id: int = pj.PJSUA_INVALID_ID, outgoing: bool = True) -> None:
        if call_id == pj.PJSUA_INVALID_ID:
            super().__init__(account)
        else:
            super().__init__(account, call_id)
        self.leg = leg
        self.outgoing = outgoing
        self.released_by_us = False
        self.answered = False
        self.alerted = False
        self.state = "setup"
        self.last_code = 0
        # For transfers by REFER (firmware/sip/referrals.py): the trunk the call runs
        # through, the URI an outgoing call was sent to, and the methods the peer's
        # messages listed in Allow (its INVITE, or its responses to ours).
        self.trunk: str | None = None
        self.target_uri = ""
        self.peer_allows: frozenset[str] = frozenset()
        self.referring = False
        self._emit = emit
        self._media_changed = media_changed
        self._ended = ended
        # The loop the call lives on, for digits from the RTP thread; None without one (unit
        # tests), where they are emitted on the thread they come on.
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._loop_thread = threading.get_ident()

    def onCallState(self, prm: Any) -> None:
        self._note_event(prm)
        try:
            self._on_state()
        except Exception:
            log.exception("%s: call state callback failed", self.leg)

    def note_allow(self, message: str) -> None:
        """Remember what a message from the peer says it allows (the last one counts)."""
        methods = {m.strip().upper() for line in header_lines(message, "Allow")
                   for m in line.split(",") if m.strip()}
        if methods:
            self.peer_allows = frozenset(methods)

    def _note_event(self, prm: Any) -> None:
        try:
            event = prm.e
            if event.type == pj.PJSIP_EVENT_TSX_STATE \
                    and event.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG:
                self.note_allow(str(event.body.tsxState.src.rdata.wholeMsg))
        except Exception:  # an event with no message: nothing to learn
            log.debug("%s: no message in the state event", self.leg, exc_info=True)

    def _on_state(self) -> None:
        info = self.getInfo()
        self.last_code = int(info.lastStatusCode)
        state = info.state
        if state == pj.PJSIP_INV_STATE_EARLY:
            self.state = "early"
            if self.outgoing and self.last_code in (180, 181, 182, 183):
                early_media = self.last_code == 183
                if not self.alerted or early_media:
                    self.alerted = True
                    self._emit(Alerting(self.leg, early_media=early_media))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.state = "connected"
            if self.outgoing and not self.answered:
                self.answered = True
                self._emit(Answer(self.leg))
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.state = "ended"
            log.info("%s: ended (%d %s)", self.leg, self.last_code, info.lastReason)
            self._media_changed(self.leg, None)
            if not self.released_by_us:
                code = self.last_code if self.state != "connected" else 200
                self._emit(Release(self.leg, sip_to_cause(code if code else 200)))
            self._ended(self.leg)

    def onCallMediaState(self, prm: Any) -> None:
        try:
            info = self.getInfo()
            for media in info.media:
                if media.type != pj.PJMEDIA_TYPE_AUDIO:
                    continue
                # On hold by us (sendonly) the call still takes our audio: music on hold.
                if media.status in (pj.PJSUA_CALL_MEDIA_ACTIVE,
                                    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD):
                    self._media_changed(self.leg, self.getAudioMedia(media.index))
                else:
                    self._media_changed(self.leg, None)
                return
        except Exception:
            log.exception("%s: media state callback failed", self.leg)

    def onCallTransferRequest(self, prm: Any) -> None:
        # pjsua would place the transferred call itself, outside the exchange and its toll
        # guard: decline. The SIP screen hands the REFERs of our calls to the exchange
        # before pjsua sees them, so this answers only when the screen is off.
        log.warning("%s: REFER to %s declined (the SIP screen is off)", self.leg, prm.dstUri)
        prm.statusCode = 603

    def onCallTransferStatus(self, prm: Any) -> None:
        """Progress of a REFER we sent: the NOTIFYs' sipfrag status, or the REFER's own
        refusal. Only the final one goes up (Referred); pjsua stops after it."""
        try:
            code, final = int(prm.statusCode), bool(prm.finalNotify)
            log.info("%s: transfer status %d %s%s", self.leg, code, prm.reason,
                     " (final)" if final else "")
            if not self.referring or (code < 200 and not final):
                return
            self.referring = False
            prm.cont = False
            self._emit(Referred(self.leg, ok=200 <= code < 300, status=code))
        except Exception:
            log.exception("%s: transfer status callback failed", self.leg)

    def onDtmfDigit(self, prm: Any) -> None:
        try:
            digit = str(prm.digit).upper()
            if digit and digit in "0123456789*#ABCD":
                event = Digit(self.leg, digit, source="rfc4733")
                if self._loop is not None and threading.get_ident() != self._loop_thread:
                    self._loop.call_soon_threadsafe(self._emit, event)  # the RTP thread
                else:
                    self._emit(event)
        except RuntimeError:  # the loop is closed: shutting down
            pass
        except Exception:
            log.exception("%s: DTMF callback failed", self.leg)

    def rx_packets(self) -> int | None:
        """RTP packets received so far on the call's audio stream (firmware/sip/rtpwatch.py);
        None while no audio is active or the far end does not send (held)."""
        info = self.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            if media.status != pj.PJSUA_CALL_MEDIA_ACTIVE \
                    or not media.dir & pj.PJMEDIA_DIR_DECODING:
                return None
            return int(self.getStreamStat(media.index).rtcp.rxStat.pkt)
        return None

    # --- actions, from the loop ----------------------------------------------------------
    def ring(self) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = 180
        self.answer(prm)

    def accept(self) -> None:
        prm = pj.CallOpParam()
        prm.statusCode = 200
        self.answer(prm)
        self.answered = True

    def end(self, status: int) -> None:
        """Hang up: reject an unanswered incoming call with ``status``, else CANCEL/BYE."""
        self.released_by_us = True
        prm = pj.CallOpParam()
        if not self.outgoing and not self.answered:
            prm.statusCode = status
        self.hangup(prm)

    def set_hold(self, on: bool) -> None:
        """Hold (re-INVITE, a=sendonly) or resume (re-INVITE, sendrecv)."""
        prm = pj.CallOpParam(True)
        if on:
            self.setHold(prm)
        else:
            prm.opt.flag |= pj.PJSUA_CALL_UNHOLD
            self.reinvite(prm)
        log.info("%s: %s", self.leg, "held (re-INVITE sendonly)" if on else "resumed")

    def send_digit(self, digit: str) -> None:
        prm = pj.CallSendDtmfParam()
        prm.digits = digit
        prm.method = pj.PJSUA_DTMF_METHOD_RFC2833
        prm.duration = 100
        self.sendDtmf(prm)
