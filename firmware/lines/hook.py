"""Hook signal classifier: hook-switch edges in; OffHook, OnHook, pulse digits, flashes out.

Rules (windows from ``HookTiming``; every duration is measured between the edges' own
``at`` stamps, never from the time they were delivered):

1. Debounce. A raw change counts once the new level has held for ``debounce_ms``; it is
   then dated from its raw edge, so debouncing delays a report but never skews a duration.
   A bounce shorter than ``debounce_ms`` leaves no trace. Edges marked ``debounced`` (the
   board filtered them) skip this rule only; they are still timed and classified, so a
   board that classifies in hardware and sends only real hook changes gets its on-hook
   reported once ``flash_max_ms`` has passed since the break (at once if it reports late).
2. A make while on-hook is ``OffHook`` at that make.
3. A break while off-hook is timed up to the next make:

   ==============================  ================================================
   break (ms)                      meaning
   ==============================  ================================================
   below pulse_break_min           glitch: ignored (spoils a digit being dialled)
   pulse_break_min..max            one dial pulse
   pulse_break_max..flash_min      glitch: ignored (spoils a digit being dialled)
   flash_min..flash_max            ``FlashOut`` at the make
   longer than flash_max           ``OnHook``, dated from the break, reported as soon
                                   as flash_max has passed (timer 1 ms later)
   ==============================  ================================================

   So a dropped call or a parallel handset's glitch (a short break) is never a flash.
4. After a pulse the make is timed: a make in the make window followed by a break carries
   on counting; a make of ``interdigit_ms`` or more ends the digit (``PulseDigitOut``,
   dated from that make, mapped by ``pulse_mapping``). A make outside the window followed
   by a break, a glitch, a flash or a hang-up spoils the digit being dialled: it is dropped
   and counted in ``rejected``, as is a train of more than ten pulses.
5. Time. ``edge`` moves the classifier to the edge's ``at``; ``poll(now)`` moves it to
   ``now``. Edges come in order; one older than the latest poll is taken as happening at
   that poll (what was already reported stands). While a raw change waits out its
   debounce the other rules wait too, since the change will be dated back to its edge.

States and what moves them (stable, debounced levels):

=========  ==========================================  ===============================
state      make                                         break / timer
=========  ==========================================  ===============================
onhook     offhook: OffHook                             -
offhook    -                                            break starts: break
break      by table 3: make (pulse), offhook (flash,    > flash_max: onhook, OnHook
           glitch), make (glitch inside a digit)
make       -                                            break: break; interdigit_ms:
                                                        offhook, PulseDigitOut
=========  ==========================================  ===============================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from firmware.lines.timing import HookTiming, after_ms, elapsed_ms

HookState = Literal["onhook", "offhook", "break", "make"]
BreakKind = Literal["glitch", "pulse", "flash", "hangup"]

# "Longer than flash_max" is judged 1 ms after the limit (board edge stamps are no finer),
# so a break of exactly flash_max is a flash whichever the classifier hears of first.
ONHOOK_MARGIN_MS = 1.0


@dataclass(frozen=True)
class OffHook:
    at: float


@dataclass(frozen=True)
class OnHook:
    """The handset hung up; ``at`` is when the loop opened, not when it was decided."""

    at: float


@dataclass(frozen=True)
class PulseDigitOut:
    """A rotary digit; ``at`` is the make that ended its last pulse."""

    digit: str
    at: float


@dataclass(frozen=True)
class FlashOut:
    """A hook flash; ``at`` is the make that ended it."""

    at: float


HookSignal = OffHook | OnHook | PulseDigitOut | FlashOut


def classify_break(timing: HookTiming, ms: float) -> BreakKind:
    """What a break of ``ms`` milliseconds while off-hook means (rule 3)."""
    if ms > timing.flash_max_ms:
        return "hangup"
    if ms >= timing.flash_min_ms:
        return "flash"
    if timing.pulse_break_min_ms <= ms <= timing.pulse_break_max_ms:
        return "pulse"
    return "glitch"


class HookClassifier:
    """Classifies one FXS port's hook edges. Sans-IO: edges and time in, signals out."""

    def __init__(self, timing: HookTiming, *, offhook: bool = False) -> None:
        self.timing = timing
        self._state: HookState = "offhook" if offhook else "onhook"
        self._stable = offhook  # the debounced level
        self._raw = offhook  # the latest raw level
        self._raw_at = -math.inf  # when the raw level last changed
        self._time = -math.inf  # the latest time we were moved to
        self._since = -math.inf  # start of the current break or make
        self._pulses = 0
        self._spoilt = False
        self.rejected = 0  # digits dropped as spoilt

    @property
    def state(self) -> HookState:
        return self._state

    @property
    def offhook(self) -> bool:
        """Off-hook as the user sees it: a flash or a dial pulse does not end it."""
        return self._state != "onhook"

    @property
    def settled(self) -> bool:
        """No raw edge waits for its debounce."""
        return self._raw == self._stable

    @property
    def next_deadline(self) -> float | None:
        if self._raw != self._stable:
            return after_ms(self._raw_at, self.timing.debounce_ms)
        if self._state == "break":
            return after_ms(self._since, self.timing.flash_max_ms + ONHOOK_MARGIN_MS)
        if self._state == "make":
            return after_ms(self._since, self.timing.interdigit_ms)
        return None

    def edge(self, offhook: bool, at: float, *, debounced: bool = False) -> list[HookSignal]:
        """A hook-switch edge stamped ``at``; raw unless the board ``debounced`` it."""
        at = max(at, self._time)
        out = self._advance(at)
        self._time = at
        if debounced:
            self._raw, self._raw_at = offhook, at
            if offhook != self._stable:
                out += self._settle(offhook, at)
        elif offhook != self._raw:
            self._raw, self._raw_at = offhook, at
        return out

    def poll(self, now: float) -> list[HookSignal]:
        """Apply every rule whose time has come by ``now``."""
        now = max(now, self._time)
        out = self._advance(now)
        self._time = now
        return out

    def describe(self) -> dict[str, object]:
        return {
            "state": self._state,
            "offhook": self.offhook,
            "pulses": self._pulses if self._state in ("break", "make") else 0,
            "rejected": self.rejected,
        }

    # -- internals -------------------------------------------------------------------

    def _advance(self, t: float) -> list[HookSignal]:
        out: list[HookSignal] = []
        if self._raw != self._stable:
            out += self._expire(self._raw_at)
            if elapsed_ms(self._raw_at, t) < self.timing.debounce_ms:
                return out
            out += self._settle(self._raw, self._raw_at)
        out += self._expire(t)
        return out

    def _expire(self, t: float) -> list[HookSignal]:
        """Fire the timer of the current state if ``t`` has reached it."""
        if self._state == "break" and elapsed_ms(self._since, t) > self.timing.flash_max_ms:
            return self._hang_up()
        if self._state == "make" and elapsed_ms(self._since, t) >= self.timing.interdigit_ms:
            self._state = "offhook"
            digit = None if self._spoilt else self.timing.digit_for(self._pulses)
            if digit is None:
                self.rejected += 1
                return []
            return [PulseDigitOut(digit, self._since)]
        return []

    def _settle(self, offhook: bool, at: float) -> list[HookSignal]:
        """A debounced level change at ``at``."""
        self._stable = offhook
        if not offhook:
            if self._state == "offhook":
                self._pulses, self._spoilt = 0, False
            elif self._state == "make":
                make = elapsed_ms(self._since, at)
                if not self.timing.pulse_make_min_ms <= make <= self.timing.pulse_make_max_ms:
                    self._spoilt = True
            self._state, self._since = "break", at
            return []
        if self._state == "onhook":
            self._state = "offhook"
            return [OffHook(at)]
        kind = classify_break(self.timing, elapsed_ms(self._since, at))
        if kind == "pulse":
            self._pulses += 1
            self._state, self._since = "make", at
            return []
        if kind == "glitch" and self._pulses:
            self._spoilt = True
            self._state, self._since = "make", at
            return []
        # ("hangup" cannot come here: _expire reports a break past flash_max first.)
        self._drop_digit()
        self._state = "offhook"
        return [FlashOut(at)] if kind == "flash" else []

    def _hang_up(self) -> list[HookSignal]:
        self._drop_digit()
        self._state = "onhook"
        return [OnHook(self._since)]

    def _drop_digit(self) -> None:
        if self._pulses:
            self.rejected += 1
        self._pulses, self._spoilt = 0, False
