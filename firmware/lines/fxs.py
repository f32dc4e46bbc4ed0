"""One FXS port: a handset's hook and dial up to the PBX; the PBX's commands down to ringing,
caller ID and tones.

Rules:

* Hook edges go through ``HookClassifier`` (debounce, pulses, flash, on-hook). A board that
  classifies in hardware calls ``pulse_digit`` and ``flash`` instead and sends debounced
  edges. ``hook_edge`` judges each edge by its own ``at`` and does not run the hook timers
  up to ``now`` (a board may hand over a run of old edges one by one): ``poll(now)`` does,
  when ``next_deadline`` comes.
* Digits (DTMF from the line audio detector, or pulses) and flashes count only off-hook.
* A Setup from the PBX rings the phone with the caller ID per ``CallerIdPlan`` (see
  ``ringing.py``) and the cadence ``Setup.ring_pattern`` names (the default cadence when it
  names none we know). A phone that is off-hook, or already ringing, refuses it:
  Release(USER_BUSY) goes up.
* Ring trip: off-hook while ringing stops what alerting left on the line (StopRinging,
  StopSignal while caller ID plays, SetPolarity(False) after a polarity alert) and sends
  Answer up. The board also stops the ring by itself; this keeps our state true.
* Ringing that nobody answers is ended by the PBX (Release down), not by the line. Release
  down while off-hook changes nothing physical: the PBX sends the tones.
* Every on-hook from off-hook sends Release(NORMAL_CLEARING) up, even when the PBX has
  cleared the call already (it ignores a Release for a leg it has cleared), and stops a
  tone the PBX left playing.
* Tones are played only off-hook: on-hook there is nobody to hear them, and they would
  spoil a caller ID. Answer, Alerting, Digit and Seize are not for an FXS port: ignored.
* Early dial tone: an idle line's first raw off-hook edge starts ``early_tone`` at once,
  before the debounce has confirmed the lift (call control still waits for it: Seize
  comes only after the debounce). A handset hears dial tone within one media frame of
  lifting; if the edge was a bounce, the tone stops when the classifier rejects it.

Transitions (what is not listed is ignored):

=========  ======================  ==================================================
state      input                   outputs, next state
=========  ======================  ==================================================
idle       off-hook                Seize; offhook
idle       Setup                   ringing and caller ID per plan; ringing
ringing    off-hook (ring trip)    stop alerting, Answer; offhook
ringing    Release                 stop alerting; idle
ringing    Setup                   Release(USER_BUSY); ringing
offhook    digit, pulse digit      Digit(source "dtmf" or "pulse"); offhook
offhook    flash                   Flash; offhook
offhook    Tone                    PlayTone (callwaiting with a caller: SendCallerId
                                   call_waiting, the app's type II); offhook
offhook    Setup                   Release(USER_BUSY); offhook
offhook    on-hook                 PlayTone(None) if a tone plays, Release; idle
=========  ======================  ==================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from firmware.core.causes import Cause
from firmware.core.clock import earliest
from firmware.core.errors import ConfigError
from firmware.core.events import (
    Answer,
    CallEvent,
    Digit,
    Flash,
    LegId,
    Release,
    Seize,
    Setup,
    Tone,
    ToneName,
)
from firmware.lines.actions import (
    LineOutput,
    PlayTone,
    SendCallerId,
    check_leg,
    describe_party,
)
from firmware.lines.hook import FlashOut, HookClassifier, HookSignal, OffHook, OnHook
from firmware.lines.ringing import CallerIdPlan, RingSequencer, check_cadence
from firmware.lines.timing import HookTiming

FxsState = Literal["idle", "ringing", "offhook"]
FxsInput = Literal["offhook", "onhook", "digit", "flash", "setup", "release", "tone"]

_TRANSITIONS: Final[dict[tuple[FxsState, FxsInput], FxsState]] = {
    ("idle", "offhook"): "offhook",
    ("idle", "setup"): "ringing",
    ("ringing", "offhook"): "offhook",
    ("ringing", "release"): "idle",
    ("offhook", "digit"): "offhook",
    ("offhook", "flash"): "offhook",
    ("offhook", "tone"): "offhook",
    ("offhook", "onhook"): "idle",
}

DTMF_DIGITS: Final = frozenset("0123456789*#ABCD")
# Ring signal frequencies met in practice (TELEPHONY.md: 16 to 50 Hz).
RING_HZ_MIN: Final = 16.0
RING_HZ_MAX: Final = 50.0


class FxsLine:
    """The call-control state machine of one FXS port. Sans-IO."""

    def __init__(
        self,
        leg: LegId,
        timing: HookTiming,
        ring_cadence_ms: tuple[int, ...],
        ring_hz: float,
        cid: CallerIdPlan,
        *,
        ring_patterns: Mapping[str, tuple[int, ...]] | None = None,
        offhook: bool = False,
        early_tone: ToneName | None = None,
    ) -> None:
        if isinstance(ring_hz, bool) or not RING_HZ_MIN <= ring_hz <= RING_HZ_MAX:
            raise ConfigError(f"{leg}: ring_hz={ring_hz!r} is out of range; set it between "
                              f"{RING_HZ_MIN:g} and {RING_HZ_MAX:g} Hz")
        self.leg = leg
        self._cadence = check_cadence(f"{leg}: ring_cadence_ms", ring_cadence_ms, cid)
        self._patterns = {
            name: check_cadence(f"{leg}: ring_patterns.{name}", steps, cid)
            for name, steps in (ring_patterns or {}).items()
        }
        self._hook = HookClassifier(timing, offhook=offhook)
        self._ring = RingSequencer(leg, cid, ring_hz)
        self._state: FxsState = "offhook" if offhook else "idle"
        self._tone: ToneName | None = None
        self._early_tone = early_tone
        self._early = False  # the early tone plays and the lift is not confirmed yet

    @property
    def state(self) -> FxsState:
        return self._state

    @property
    def next_deadline(self) -> float | None:
        return earliest(self._hook.next_deadline, self._ring.next_deadline)

    # -- inputs from the board and the line audio -------------------------------------

    def hook_edge(self, offhook: bool, at: float, now: float,
                  debounced: bool = False) -> list[LineOutput]:
        """A hook-switch edge stamped ``at`` (raw unless the board ``debounced`` it)."""
        out = self._hook_signals(self._hook.edge(offhook, at, debounced=debounced), now)
        if (offhook and not debounced and self._early_tone is not None
                and self._state == "idle" and self._tone is None):
            self._early = True
            self._tone = self._early_tone
            out.append(PlayTone(self.leg, self._early_tone))
        return out + self._early_tone_check()

    def pulse_digit(self, digit: str, now: float) -> list[LineOutput]:
        """A rotary digit the board counted in hardware."""
        return self._dialled(digit, "pulse")

    def flash(self, now: float) -> list[LineOutput]:
        """A hook flash the board classified in hardware."""
        return self._flashed()

    def dtmf_digit(self, digit: str, now: float) -> list[LineOutput]:
        """A digit the DTMF detector heard on the line audio."""
        if digit not in DTMF_DIGITS:
            return []
        return self._dialled(digit, "dtmf")

    def signal_done(self, now: float) -> list[LineOutput]:
        """The app finished sending the caller ID it was asked for."""
        return list(self._ring.signal_done(now))

    def ring_burst(self, on: bool, at: float, now: float) -> list[LineOutput]:
        """The board reports a real ring burst edge (optional; else the cadence is used)."""
        return list(self._ring.ring_burst(on, at, now))

    def poll(self, now: float) -> list[LineOutput]:
        """Run every timer due by ``now``; call it when ``next_deadline`` comes."""
        out = self._hook_signals(self._hook.poll(now), now)
        out += self._ring.poll(now)
        return out + self._early_tone_check()

    # -- commands from the PBX -------------------------------------------------------

    def command(self, event: CallEvent, now: float) -> list[LineOutput]:
        check_leg(self.leg, event)
        if isinstance(event, Setup):
            return self._setup(event, now)
        if isinstance(event, Release):
            if not self._move("release"):
                return []
            return list(self._ring.stop(now))
        if isinstance(event, Tone):
            if not self._move("tone"):
                return []
            self._tone = event.tone
            if event.tone == "callwaiting" and event.caller is not None:
                # The tone, then type II caller ID if the phone acknowledges (the app).
                return [SendCallerId(self.leg, event.caller, call_waiting=True)]
            return [PlayTone(self.leg, event.tone)]
        return []

    def describe(self) -> dict[str, object]:
        return {
            "leg": self.leg,
            "state": self._state,
            "hook": "offhook" if self._hook.offhook else "onhook",
            "ringing": self._ring.ringing,
            "polarity": "reversed" if self._ring.polarity_reversed else "normal",
            "pending_caller": describe_party(self._ring.caller),
            "alert_phase": self._ring.phase,
            "caller_id_playing": self._ring.signalling,
            "tone": self._tone,
            "pulse_digits_rejected": self._hook.rejected,
        }

    # -- internals -------------------------------------------------------------------

    def _move(self, event: FxsInput) -> bool:
        """Take the transition for ``event``; False when the state does not accept it."""
        nxt = _TRANSITIONS.get((self._state, event))
        if nxt is None:
            return False
        self._state = nxt
        return True

    def _setup(self, event: Setup, now: float) -> list[LineOutput]:
        if self._state != "idle":
            return [Release(self.leg, Cause.USER_BUSY)]
        self._move("setup")
        pattern = event.ring_pattern
        cadence = self._patterns.get(pattern, self._cadence) if pattern else self._cadence
        return list(self._ring.start(event.caller, cadence, now))

    def _hook_signals(self, signals: list[HookSignal], now: float) -> list[LineOutput]:
        out: list[LineOutput] = []
        for signal in signals:
            if isinstance(signal, OffHook):
                was = self._state
                if not self._move("offhook"):
                    continue
                if was == "ringing":
                    out += self._ring.stop(now)
                    out.append(Answer(self.leg))
                else:
                    out.append(Seize(self.leg))
            elif isinstance(signal, OnHook):
                if not self._move("onhook"):
                    continue
                if self._tone is not None:
                    out.append(PlayTone(self.leg, None))
                    self._tone = None
                out.append(Release(self.leg, Cause.NORMAL_CLEARING))
            elif isinstance(signal, FlashOut):
                out += self._flashed()
            else:
                out += self._dialled(signal.digit, "pulse")
        return out

    def _early_tone_check(self) -> list[LineOutput]:
        """Stop an early tone whose lift the classifier rejected (a bounce, a glitch)."""
        if not self._early:
            return []
        if self._state != "idle":
            self._early = False  # confirmed: the tone is the line's now
            return []
        if self._hook.settled and not self._hook.offhook:
            self._early = False
            self._tone = None
            return [PlayTone(self.leg, None)]
        return []

    def _dialled(self, digit: str, source: str) -> list[LineOutput]:
        if not self._move("digit"):
            return []
        return [Digit(self.leg, digit, source=source)]

    def _flashed(self) -> list[LineOutput]:
        if not self._move("flash"):
            return []
        return [Flash(self.leg)]
