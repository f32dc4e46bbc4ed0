"""What the line machines' actions do, and what plays into each line.

A line action (firmware/lines/actions.py) is either the board's (ringing, polarity, the
PSTN loop: ``routing.board_action``) or the media's: a tone, caller ID or DTMF played into
the line through the media switch, or a detector on the line's audio switched on or off.
What plays into a line is written on its slot (``playing``: "tone:<name>", "cid", "dtmf",
"prompt"...), so that an action stops only what it started and a tone already playing
goes on.

The box owns the slots and the work queue; :class:`LineActions` shares the box's slot
dictionaries and hands back what must go through the queue: the end of a piece of audio
(``signal_done``) and a call the line cannot carry (``release``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from drivers.errors import DriverError
from firmware.app.cwcid import type_two
from firmware.app.cwline import WaitingCallerId
from firmware.app.routing import board_action
from firmware.core.causes import Cause
from firmware.core.events import Party, Release
from firmware.dsp.profiles import CountryProfile
from firmware.dsp.tones import ToneGenerator
from firmware.lines import actions as act
from firmware.media.signals import caller_id_pcm, dtmf_pcm
from firmware.media.sources import GeneratorSource, PcmSource
from firmware.sip.switch import MediaSwitch

if TYPE_CHECKING:  # the box's own types (box.py imports this module)
    from firmware.app.box import FxoSlot, FxsSlot

log = logging.getLogger(__name__)


class LineActions:
    def __init__(self, loop: asyncio.AbstractEventLoop, switch: MediaSwitch,
                 profile: CountryProfile, fxs: Mapping[str, FxsSlot],
                 fxo: Mapping[str, FxoSlot], signal_done: Callable[[str], None],
                 release: Callable[[FxsSlot, Release], None],
                 bridged_again: Callable[[], None]) -> None:
        """``fxs`` and ``fxo`` are the box's slots by leg (the same dictionaries, so lines
        a commit adds or removes are seen). ``signal_done(leg)`` runs on the loop when
        caller ID or DTMF has played out; ``release(slot, release)`` ends the call of a
        line that cannot carry it; ``bridged_again()`` follows a line's return to its
        partners after type II caller ID."""
        self._loop = loop
        self._switch = switch
        self.profile = profile
        self._fxs = fxs
        self._fxo = fxo
        self._signal_done = signal_done
        self._release = release
        # Type II caller ID on a line in a call (firmware/app/cwline.py).
        self.waiting_cid = WaitingCallerId(loop, switch, self.play, self._stop_cid,
                                           bridged_again)

    def carry_out(self, a: Any) -> None:
        """Carry out line action ``a`` on the port of its leg and the media switch."""
        leg = a.leg
        slot = self._fxs.get(leg)
        oslot = self._fxo.get(leg)
        if isinstance(a, act.PlayTone):
            if a.tone is None:
                # Ends a tone or caller ID, not a prompt to a handset still off-hook: the
                # end of ringback at an answer must not cut the prompt (a consent notice)
                # the exchange started in the same step; an empty Play stops prompts.
                keep = (slot is not None and slot.playing == "prompt"
                        and slot.line.state == "offhook")
                if not keep:
                    self.stop_playing(leg)
            elif self._slot(leg).playing != f"tone:{a.tone}":  # an early tone goes on
                gen = ToneGenerator(self.profile.tone(a.tone))
                self.play(leg, GeneratorSource(gen), f"tone:{a.tone}")
        elif isinstance(a, act.SendCallerId) and a.call_waiting and slot is not None:
            self._send_waiting_cid(slot, a.caller)
        elif isinstance(a, act.SendCallerId) and slot is not None:
            if slot.cid_standard is None:
                self._loop.call_soon(self._signal_done, leg)
                return
            pcm = caller_id_pcm(a.caller, slot.cid_standard)
            self.play(leg, PcmSource(pcm, self._signal_done_cb(leg)), "cid")
        elif isinstance(a, act.StopSignal):
            if (slot and slot.playing == "cid") or (oslot and oslot.playing == "dtmf"):
                self.stop_playing(leg)
        elif self._board_action(a, slot, oslot):
            if isinstance(a, act.ReleaseLine):
                self.stop_playing(leg)
        elif isinstance(a, act.DialDigits) and oslot is not None:
            self.play(leg, PcmSource(dtmf_pcm(a.digits), self._signal_done_cb(leg)), "dtmf")
        elif isinstance(a, act.ListenCallerId) and oslot is not None:
            oslot.listener.listen_caller_id(a.on)
        elif isinstance(a, act.WatchDisconnectTone) and oslot is not None:
            oslot.listener.listen_disconnect(a.on)
        else:
            log.warning("%s: action %s has no port to act on", leg, type(a).__name__)

    def _board_action(self, a: Any, slot: FxsSlot | None, oslot: FxoSlot | None) -> bool:
        """``board_action``, with a port that cannot carry it out reported; a phone that
        cannot ring fails its call (the caller hears congestion) rather than ring silently."""
        try:
            return board_action(a, slot.port if slot else None, oslot.port if oslot else None)
        except DriverError as exc:
            log.error("%s: %s failed: %s", a.leg, type(a).__name__, exc)
            if isinstance(a, act.StartRinging) and slot is not None \
                    and slot.line.state == "ringing":
                self._release(slot, Release(a.leg, Cause.NETWORK_OUT_OF_ORDER))
            return True

    def _signal_done_cb(self, leg: str) -> Callable[[], None]:
        def done() -> None:  # from the clock thread
            self._loop.call_soon_threadsafe(self._signal_done, leg)
        return done

    # --- what plays into a line -------------------------------------------------------------
    def play(self, leg: str, source: Callable[[], bytes | None], what: str) -> None:
        self._switch.play(leg, source)
        self._slot(leg).playing = what

    def _send_waiting_cid(self, slot: FxsSlot, caller: Party) -> None:
        """Call waiting: the tone and CAS, then FSK once the phone acknowledges
        (firmware/app/cwcid.py); the tone alone for a port without FSK caller ID."""
        leg = slot.leg
        signal = type_two(caller, slot.cid_standard or "")
        if signal is None:
            gen = ToneGenerator(self.profile.tone("callwaiting"))
            self.play(leg, GeneratorSource(gen), "tone:callwaiting")
            return
        self.waiting_cid.start(leg, signal)

    def _stop_cid(self, leg: str) -> None:
        if self._slot(leg).playing == "cid":
            self.stop_playing(leg)

    def stop_playing(self, leg: str) -> None:
        slot = self._slot(leg)
        if slot.playing is not None:
            self._switch.play(leg, None)
            slot.playing = None

    def _slot(self, leg: str) -> FxsSlot | FxoSlot:
        return self._fxs[leg] if leg in self._fxs else self._fxo[leg]
