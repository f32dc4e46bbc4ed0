"""Alerting an FXS phone: the ring cadence, and where the caller ID goes in it.

``RingSequencer`` turns "ring this phone for this caller" into timed board actions, as the
port's ``CallerIdPlan`` says.

Placement ``after_first_ring`` (Bell 202, Telcordia GR-30): StartRinging with the cadence
at once. The caller ID goes into the longest pause of the cadence's first cycle (for
2000/4000 that is right after the first burst; for a double ring, after the pair):
SendCallerId ``after_ring_ms`` (500 ms or more) after the burst before that pause ends,
and StopSignal if it still plays 200 ms before the next burst. Burst times come from the
cadence, counted from StartRinging; when the board reports its real RingBurst edges they
move the caller ID to the real burst end.

Placement ``before_ring`` (ETSI EN 300 659-1): alert, caller ID, a pause, then ringing.
Each phase runs its entry action and leaves when its timer fires (or as noted):

==============  =============================  ==========================  ===============
phase           entry action                   leaves after                next phase
==============  =============================  ==========================  ===============
polarity_alert  SetPolarity(True)              polarity_wait_ms (>=100)    cid
ring_pulse      StartRinging(one short burst)  ring_pulse_ms               pulse_gap
pulse_gap       StopRinging                    ring_pulse_wait_ms          cid
cid             SendCallerId                   signal_done, or StopSignal  cid_gap
                                               after signal_timeout_ms
cid_gap         -                              after_cid_ms                ringing
ringing         StartRinging(cadence)          stop()                      idle
==============  =============================  ==========================  ===============

Alert ``polarity`` starts at polarity_alert, ``ring_pulse`` at ring_pulse; ``dtmf_alert``
(the alert tone is part of the caller ID samples) and ``none`` start at cid. Without
caller ID, alerting starts at ringing. A reversed polarity holds until the alerting ends.
``stop()`` undoes whatever is on the line: StopRinging, StopSignal, SetPolarity(False).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from firmware.core.errors import ConfigError
from firmware.core.events import LegId, Party
from firmware.lines.actions import (
    FxsAction,
    SendCallerId,
    SetPolarity,
    StartRinging,
    StopRinging,
    StopSignal,
)
from firmware.lines.timing import Timers, after_ms, require_ms

CidPlacement = Literal["after_first_ring", "before_ring"]
CidAlert = Literal["polarity", "ring_pulse", "dtmf_alert", "none"]
Phase = Literal["idle", "polarity_alert", "ring_pulse", "pulse_gap", "cid", "cid_gap",
                "ringing"]

# Telcordia GR-30: caller ID starts at least 500 ms after the first ring and ends at least
# 200 ms before the second.
GR30_CID_START_MS: Final = 500.0
GR30_CID_CLEAR_MS: Final = 200.0
# The shortest caller ID a pause must hold: 300 seizure + 180 mark bits and a 21-byte SDMF
# message (date and ten digits) at 1200 bit/s.
SHORTEST_CID_MS: Final = (300 + 180 + 21 * 10) / 1200 * 1000
# ETSI EN 300 659-1: data starts at least 100 ms after the polarity reversal.
EN300659_ALERT_MIN_MS: Final = 100.0

_NEXT: Final[dict[Phase, Phase]] = {
    "polarity_alert": "cid",
    "ring_pulse": "pulse_gap",
    "pulse_gap": "cid",
    "cid": "cid_gap",
    "cid_gap": "ringing",
}
_FIRST: Final[dict[CidAlert, Phase]] = {
    "polarity": "polarity_alert",
    "ring_pulse": "ring_pulse",
    "dtmf_alert": "cid",
    "none": "cid",
}


@dataclass(frozen=True)
class CallerIdPlan:
    """Whether and where an FXS port sends caller ID (the samples' standard is the app's)."""

    enabled: bool = True
    placement: CidPlacement = "after_first_ring"
    # How a before_ring caller ID is announced to the phone.
    alert: CidAlert = "polarity"
    # after_first_ring: from the end of the burst to the start of the caller ID.
    after_ring_ms: float = 550.0
    polarity_wait_ms: float = 250.0
    ring_pulse_ms: float = 250.0
    ring_pulse_wait_ms: float = 500.0
    # before_ring: from the end of the caller ID to the first ring.
    after_cid_ms: float = 200.0
    # Give up waiting for signal_done after this long (the app never reported it).
    signal_timeout_ms: float = 3000.0

    def __post_init__(self) -> None:
        owner = "caller ID plan"
        if self.placement not in get_args(CidPlacement):
            raise ConfigError(f"{owner}: placement={self.placement!r} is unknown; use one of "
                              f"{', '.join(get_args(CidPlacement))}")
        if self.alert not in get_args(CidAlert):
            raise ConfigError(f"{owner}: alert={self.alert!r} is unknown; use one of "
                              f"{', '.join(get_args(CidAlert))}")
        require_ms(owner, "after_ring_ms", self.after_ring_ms, GR30_CID_START_MS)
        require_ms(owner, "polarity_wait_ms", self.polarity_wait_ms, EN300659_ALERT_MIN_MS)
        require_ms(owner, "ring_pulse_ms", self.ring_pulse_ms, 1.0)
        require_ms(owner, "ring_pulse_wait_ms", self.ring_pulse_wait_ms, 1.0)
        require_ms(owner, "after_cid_ms", self.after_cid_ms)
        require_ms(owner, "signal_timeout_ms", self.signal_timeout_ms, 1.0)


@dataclass(frozen=True)
class CidPause:
    """Where a cadence leaves room for caller ID: the longest pause of its first cycle."""

    burst: int  # index of the burst before the pause
    start_ms: int  # from the start of the cadence to the start of the pause
    length_ms: int


def cid_pause(cadence: Sequence[int]) -> CidPause:
    offs = range(1, len(cadence), 2)
    longest = max(offs, key=lambda i: (cadence[i], -i))
    return CidPause(longest // 2, sum(cadence[:longest]), cadence[longest])


def check_cadence(name: str, cadence: Sequence[int], plan: CallerIdPlan) -> tuple[int, ...]:
    """``cadence`` as on/off steps in whole ms, or ConfigError naming ``name``."""
    steps = tuple(cadence)
    if (not steps or len(steps) % 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in steps)):
        raise ConfigError(f"{name}={list(steps)}: give on/off pairs of whole milliseconds "
                          f"(e.g. [2000, 4000])")
    if plan.enabled and plan.placement == "after_first_ring":
        pause = cid_pause(steps)
        need = plan.after_ring_ms + SHORTEST_CID_MS + GR30_CID_CLEAR_MS
        if pause.length_ms < need:
            raise ConfigError(
                f"{name}={list(steps)}: its longest pause is {pause.length_ms} ms, but caller "
                f"ID after the first ring needs {need:.0f} ms; use a longer pause or the "
                f"before_ring placement")
    return steps


class RingSequencer:
    """One FXS port's alerting: ringing and caller ID in time. Sans-IO."""

    def __init__(self, leg: LegId, plan: CallerIdPlan, frequency_hz: float) -> None:
        self.leg = leg
        self.plan = plan
        self.frequency_hz = frequency_hz
        self._phase: Phase = "idle"
        self._timers = Timers()
        self._cadence: tuple[int, ...] = ()
        self._caller: Party | None = None
        self._cid_pending = False  # after_first_ring caller ID not yet sent
        self._pause_end: float | None = None  # when the burst after the caller ID starts
        self.ringing = False
        self.signalling = False
        self.polarity_reversed = False
        self.bursts = 0  # burst starts reported by the board

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def active(self) -> bool:
        return self._phase != "idle"

    @property
    def caller(self) -> Party | None:
        return self._caller

    @property
    def next_deadline(self) -> float | None:
        return self._timers.next_deadline

    def start(self, caller: Party, cadence: tuple[int, ...], now: float) -> list[FxsAction]:
        """Begin alerting for ``caller`` with ``cadence`` (checked by check_cadence)."""
        out = self.stop(now)
        self._caller, self._cadence, self.bursts = caller, cadence, 0
        if not self.plan.enabled:
            return out + self._enter("ringing", now)
        if self.plan.placement == "after_first_ring":
            self._cid_pending = True
            out += self._enter("ringing", now)
            self._anchor_first_burst(now)
            return out
        return out + self._enter(_FIRST[self.plan.alert], now)

    def stop(self, now: float) -> list[FxsAction]:
        """End alerting; undo ringing, caller ID and polarity that are on the line."""
        out: list[FxsAction] = []
        if self.ringing:
            out.append(StopRinging(self.leg))
        if self.signalling:
            out.append(StopSignal(self.leg))
        if self.polarity_reversed:
            out.append(SetPolarity(self.leg, False))
        self._phase, self._caller, self._cid_pending, self._pause_end = "idle", None, False, None
        self.ringing = self.signalling = self.polarity_reversed = False
        self._timers.clear()
        return out

    def signal_done(self, now: float) -> list[FxsAction]:
        """The app finished sending the caller ID."""
        if not self.signalling:
            return []
        self.signalling = False
        self._timers.cancel("cid_cut")
        if self._phase == "cid":
            return self._enter("cid_gap", now)
        return []

    def ring_burst(self, on: bool, at: float, now: float) -> list[FxsAction]:
        """The board reports a real ring burst edge: time the caller ID from it."""
        if on and self._phase == "ringing":
            self.bursts += 1
            if self.bursts == 1 and self._cid_pending:
                self._anchor_first_burst(at)
            elif self.signalling:  # ring voltage would ruin the data anyway
                self.signalling = False
                self._timers.cancel("cid_cut")
                return [StopSignal(self.leg)]
        elif not on and self._phase == "ringing" and self._cid_pending:
            pause = cid_pause(self._cadence)
            if self.bursts - 1 == pause.burst:
                self._timers.start("cid_send", after_ms(at, self.plan.after_ring_ms))
                self._pause_end = after_ms(at, pause.length_ms)
        elif not on and self._phase == "ring_pulse":
            self._timers.cancel("phase")
            out = self._enter("pulse_gap", now)
            self._timers.start("phase", after_ms(at, self.plan.ring_pulse_wait_ms))
            return out
        return []

    def poll(self, now: float) -> list[FxsAction]:
        out: list[FxsAction] = []
        while (due := self._timers.pop_due(now)) is not None:
            name, at = due
            if name == "phase":
                if self._phase == "cid":  # signal_done never came
                    self.signalling = False
                    out.append(StopSignal(self.leg))
                out += self._enter(_NEXT[self._phase], at)
            elif name == "cid_send":
                out += self._send_cid()
                if self._pause_end is not None:
                    self._timers.start("cid_cut", after_ms(self._pause_end, -GR30_CID_CLEAR_MS))
            elif name == "cid_cut":
                self.signalling = False
                out.append(StopSignal(self.leg))
        return out

    def describe(self) -> dict[str, object]:
        return {
            "phase": self._phase,
            "ringing": self.ringing,
            "signalling": self.signalling,
            "polarity_reversed": self.polarity_reversed,
            "bursts": self.bursts,
        }

    # -- internals -------------------------------------------------------------------

    def _anchor_first_burst(self, start: float) -> None:
        """Time the after_first_ring caller ID from a cadence started at ``start``."""
        pause = cid_pause(self._cadence)
        self._timers.start("cid_send", after_ms(start, pause.start_ms + self.plan.after_ring_ms))
        self._pause_end = after_ms(start, pause.start_ms + pause.length_ms)

    def _send_cid(self) -> list[FxsAction]:
        assert self._caller is not None
        self._cid_pending = False
        self.signalling = True
        return [SendCallerId(self.leg, self._caller)]

    def _enter(self, phase: Phase, at: float) -> list[FxsAction]:
        """Enter ``phase`` at ``at`` (its scheduled time): entry action and timer."""
        self._phase = phase
        plan = self.plan
        if phase == "polarity_alert":
            self.polarity_reversed = True
            self._timers.start("phase", after_ms(at, plan.polarity_wait_ms))
            return [SetPolarity(self.leg, True)]
        if phase == "ring_pulse":
            self.ringing = True
            self._timers.start("phase", after_ms(at, plan.ring_pulse_ms))
            # The off step lets the board end the burst on time whatever our latency.
            cadence = (int(plan.ring_pulse_ms), int(plan.ring_pulse_wait_ms))
            return [StartRinging(self.leg, cadence, self.frequency_hz)]
        if phase == "pulse_gap":
            self.ringing = False
            self._timers.start("phase", after_ms(at, plan.ring_pulse_wait_ms))
            return [StopRinging(self.leg)]
        if phase == "cid":
            self._timers.start("phase", after_ms(at, plan.signal_timeout_ms))
            return self._send_cid()
        if phase == "cid_gap":
            self._timers.start("phase", after_ms(at, plan.after_cid_ms))
            return []
        if phase == "ringing":
            self.ringing = True
            return [StartRinging(self.leg, self._cadence, self.frequency_hz)]
        return []
