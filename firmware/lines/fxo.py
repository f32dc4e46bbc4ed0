"""One FXO port: a PSTN line's ringing and caller ID up to the PBX; the PBX's calls out.

Rules:

* Ring validation. A burst is a ring once it has lasted ``ring_min_ms`` (150 ms; dated
  from its start): a polarity reversal or a click is a blip well under the 40 ms the
  standards ask to wait, and no real burst is that short. Shorter bursts are ignored.
* Inbound call. With caller ID (``cid_standard`` set) the receiver listens from the end of
  the first ring (ListenCallerId on); Setup(called="", caller) goes up when the caller ID
  arrives or when the second ring is validated, whichever is first (then with Party()).
  Without caller ID, Setup goes up at the first valid ring. The app maps the line to its
  route, hence the empty ``called``. A polarity reversal on an idle line opens the
  receiver too (caller ID before the first ring, ETSI style) for ``PRE_RING_CID_S``.
* The caller gave up: an analog line has no signal for it, the rings just stop. The ring
  timeout follows the exchange's ring cadence (``ring_cadence_ms``, the country's, given
  by the app), not a fixed figure: no new burst for the cadence's longest silence plus
  ``ring_margin_ms`` after a burst ended (US 2 s on / 4 s off: 6 s), and, in case the end
  of a burst never arrives (a detector that lost the edge, a line cut mid-burst), no more
  than the longest burst plus that silence and margin after a valid burst began (US: 8 s).
  So the call ends within about one cadence plus the margin of the last ring. The margin
  is at least ``ring_min_ms``: the next ring counts once validated, not when it begins.
  Release goes up if Setup did (the exchange records the call ABANDONED). An inbound
  call the PBX releases before answering cannot be refused on an analog line: its rings
  are ignored until they stop.
* Answer from the PBX seizes the line (SeizeLine, ListenCallerId off, WatchDisconnectTone
  on), but not sooner than ``answer_delay_ms`` after the first ring began.
* Outbound call. Setup(called) or Seize from the PBX seizes the line, waits
  ``dial_tone_wait_ms`` for dial tone, then DialDigits(called plus any Digit the PBX sent
  meanwhile). An analog line gives no answer signal, so Answer goes up as soon as the
  digits are out (``signal_done`` from the app, or ``dtmf_digit_ms`` per digit if it
  never says): the caller then hears the PSTN's own ringback or busy. With
  ``answer_on_polarity`` Alerting(early_media=True) goes up instead and Answer waits for
  the line's polarity reversal. A Seize with no digits answers at once after the dial
  tone wait: the caller dials through. Digits sent down later are dialled at once.
* Disconnect supervision while seized: a loop current drop lasting ``cpc_min_ms``, a
  polarity reversal after answer (when ``disconnect_on_polarity``), or the app's disconnect
  tone detector. Each sends ReleaseLine and Release(NORMAL_CLEARING) up; a busy tone
  before an ``answer_on_polarity`` answer sends Release(USER_BUSY).
* Setup or Seize on a busy line: Release(NO_CIRCUIT_AVAILABLE) up, so a hunt group tries
  its next line. Alerting and Tone are not for an FXO line: ignored.
* Inputs first run every timer due by their ``at`` (or ``now``); ``poll(now)`` the rest.

Transitions (what is not listed is ignored; "seized" states are dialtone to connected):

=========  =====================================  =========================================
state      input                                  next state (outputs)
=========  =====================================  =========================================
idle       valid ring                             ringing (Setup if no caller ID wait)
idle       Setup, Seize                           dialtone (SeizeLine)
ringing    caller ID, 2nd ring                    ringing (Setup once)
ringing    Answer (Setup sent)                    connected, or answering until the delay
ringing    Release                                rejected
ringing    ring timeout                           idle (Release if Setup went up)
answering  delay over / Release / ring timeout     connected / rejected / idle (Release)
rejected   ring timeout                           idle
dialtone   dial tone wait over                    dialing (DialDigits), or connected
dialing    digits out                             connected (Answer) or alerting (Alerting)
alerting   polarity reversal                      connected (Answer)
seized     Release                                idle (ReleaseLine)
seized     CPC drop, disconnect tone, polarity    idle (ReleaseLine, Release up)
=========  =====================================  =========================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Literal

from firmware.core.causes import Cause
from firmware.core.errors import ConfigError
from firmware.core.events import (
    Alerting,
    Answer,
    CallEvent,
    Digit,
    LegId,
    Party,
    Release,
    Seize,
    Setup,
)
from firmware.lines.actions import (
    DialDigits,
    LineOutput,
    ListenCallerId,
    ReleaseLine,
    SeizeLine,
    WatchDisconnectTone,
    check_leg,
    describe_party,
)
from firmware.lines.ringing import CallerIdPlan, check_cadence
from firmware.lines.timing import Timers, after_ms, elapsed_ms, require_ms

FxoState = Literal["idle", "ringing", "answering", "rejected", "dialtone", "dialing",
                   "alerting", "connected"]

SEIZED: Final[frozenset[FxoState]] = frozenset({"dialtone", "dialing", "alerting", "connected"})
RINGING: Final[frozenset[FxoState]] = frozenset({"idle", "ringing", "answering", "rejected"})
# How long the receiver stays open after a polarity reversal on an idle line.
PRE_RING_CID_S: Final = 5.0
# TELEPHONY.md: wait 40 ms or more before deciding that a burst is a ring.
RING_MIN_FLOOR_MS: Final = 40.0
# The US cadence (2 s on, 4 s off) when the app names none.
DEFAULT_RING_CADENCE_MS: Final = (2000, 4000)
# Exchanges keep their cadence only roughly and a detector dates edges a little late:
# 2 s on top of the longest silence covers both, as the old fixed 6 s did for the US.
RING_MARGIN_MS: Final = 2000.0


class FxoLine:
    """The call-control state machine of one FXO port. Sans-IO."""

    def __init__(
        self,
        leg: LegId,
        *,
        ring_cadence_ms: Sequence[int] = DEFAULT_RING_CADENCE_MS,
        ring_margin_ms: float = RING_MARGIN_MS,
        cid_standard: str | None = None,
        answer_delay_ms: float = 0.0,
        ring_min_ms: float = 150.0,
        dial_tone_wait_ms: float = 1000.0,
        dtmf_digit_ms: float = 200.0,
        cpc_min_ms: float = 300.0,
        answer_on_polarity: bool = False,
        disconnect_on_polarity: bool = False,
    ) -> None:
        owner = leg
        self.leg = leg
        # The FXS side's check of a cadence; no caller ID of ours to fit into its pauses.
        steps = check_cadence(f"{owner}: ring_cadence_ms", ring_cadence_ms,
                              CallerIdPlan(enabled=False))
        self.ring_cadence_ms = steps
        self.ring_min_ms = require_ms(owner, "ring_min_ms", ring_min_ms, RING_MIN_FLOOR_MS)
        margin = require_ms(owner, "ring_margin_ms", ring_margin_ms, self.ring_min_ms)
        # After a burst ends: the longest silence of the cadence plus the margin.
        self.ring_gap_ms = max(steps[1::2]) + margin
        # After a valid burst begins, if its end never comes: the longest burst on top.
        self.ring_burst_gap_ms = max(steps[0::2]) + self.ring_gap_ms
        if cid_standard is not None and (not isinstance(cid_standard, str) or not cid_standard):
            raise ConfigError(f"{owner}: cid_standard={cid_standard!r}: name a caller ID "
                              f"standard or leave it out")
        self.cid_standard = cid_standard
        self.answer_delay_ms = require_ms(owner, "answer_delay_ms", answer_delay_ms)
        self.dial_tone_wait_ms = require_ms(owner, "dial_tone_wait_ms", dial_tone_wait_ms)
        self.dtmf_digit_ms = require_ms(owner, "dtmf_digit_ms", dtmf_digit_ms, 1.0)
        self.cpc_min_ms = require_ms(owner, "cpc_min_ms", cpc_min_ms, 1.0)
        self.answer_on_polarity = answer_on_polarity
        self.disconnect_on_polarity = disconnect_on_polarity
        self._state: FxoState = "idle"
        self._timers = Timers()
        # Timer name -> what it does; each is given the time the machine is moving to.
        self._on_timer: dict[str, Callable[[float], list[LineOutput]]] = {
            "ring_valid": self._ring_valid,
            "ring_timeout": self._ring_timeout,
            "answer_delay": lambda now: self._seize_for_answer(),
            "dial_tone_wait": self._dial,
            "dial_done": self._digits_out,
            "cpc": lambda now: self._disconnect(Cause.NORMAL_CLEARING),
            "cid_window": self._cid_window_over,
        }
        self._reset()

    def _reset(self) -> None:
        self._timers.clear()
        self._burst_at: float | None = None  # start of the burst in progress
        self._burst_valid = False
        self._rings = 0
        self._first_ring_at: float | None = None
        self._caller: Party | None = None
        self._setup_sent = False
        self._listening = False
        self._watching = False
        self._number = ""  # digits still to dial
        self._drop_at: float | None = None  # loop current lost since

    @property
    def state(self) -> FxoState:
        return self._state

    @property
    def seized(self) -> bool:
        return self._state in SEIZED

    @property
    def next_deadline(self) -> float | None:
        return self._timers.next_deadline

    # -- inputs from the board and the line audio -------------------------------------

    def ring_burst(self, on: bool, at: float, now: float) -> list[LineOutput]:
        """The ring detector's signal started (on) or stopped at ``at``."""
        out = self._run_timers(at)
        if self._state not in RINGING:
            return out
        if on:
            if self._burst_at is None:
                self._burst_at, self._burst_valid = at, False
                self._timers.start("ring_valid", after_ms(at, self.ring_min_ms))
            return out
        if self._burst_at is None:
            return out
        self._timers.cancel("ring_valid")  # (it has fired already if the burst was long)
        valid, self._burst_at = self._burst_valid, None
        if self._state == "idle" or not valid:
            return out
        self._timers.start("ring_timeout", after_ms(at, self.ring_gap_ms))
        if (self._rings == 1 and self.cid_standard and not self._setup_sent
                and self._state == "ringing"):
            out += self._listen(True)
        return out

    def caller_id(self, caller: Party, now: float) -> list[LineOutput]:
        """The caller ID receiver decoded ``caller``."""
        out = self._run_timers(now)
        if self._state == "idle" and self._listening:
            self._caller = caller  # before the first ring: goes up with it
            return out + self._listen(False)
        if self._state == "ringing" and not self._setup_sent:
            return out + self._send_setup(caller)
        return out + self._listen(False)

    def polarity_reversal(self, at: float, now: float) -> list[LineOutput]:
        out = self._run_timers(at)
        if self._state == "idle" and self.cid_standard:
            self._timers.start("cid_window", at + PRE_RING_CID_S)
            return out + self._listen(True)
        if self.answer_on_polarity and self._state in ("dialing", "alerting"):
            return out + self._connect()
        if self.disconnect_on_polarity and self._state == "connected":
            return out + self._disconnect(Cause.NORMAL_CLEARING)
        return out

    def loop_current(self, present: bool, at: float, now: float) -> list[LineOutput]:
        """Loop current appeared or dropped at ``at`` (CPC disconnect supervision)."""
        out = self._run_timers(at)
        if not self.seized:
            return out
        if present:
            self._drop_at = None
            self._timers.cancel("cpc")
        elif self._drop_at is None:
            self._drop_at = at
            self._timers.start("cpc", after_ms(at, self.cpc_min_ms))
        return out

    def disconnect_tone(self, now: float) -> list[LineOutput]:
        """The app's busy/disconnect tone detector heard the tone."""
        out = self._run_timers(now)
        if self._state == "alerting":
            return out + self._disconnect(Cause.USER_BUSY)
        if self._state == "connected":
            return out + self._disconnect(Cause.NORMAL_CLEARING)
        return out

    def dtmf_digit(self, digit: str, now: float) -> list[LineOutput]:
        """A key the far end pressed, heard on the line by the app's DTMF detector: while
        the line is connected it goes up as a Digit (a voice menu, a confirmation)."""
        out = self._run_timers(now)
        if self._state == "connected":
            out.append(Digit(self.leg, digit, "dtmf"))
        return out

    def signal_done(self, now: float) -> list[LineOutput]:
        """The app finished generating the digits of the last DialDigits."""
        out = self._run_timers(now)
        if self._state != "dialing":
            return out
        self._timers.cancel("dial_done")
        return out + self._digits_out(now)

    def poll(self, now: float) -> list[LineOutput]:
        """Run every timer due by ``now``; call it when ``next_deadline`` comes."""
        return self._run_timers(now)

    # -- commands from the PBX -------------------------------------------------------

    def command(self, event: CallEvent, now: float) -> list[LineOutput]:
        check_leg(self.leg, event)
        out = self._run_timers(now)
        if isinstance(event, Setup | Seize):
            if self._state != "idle":
                return [*out, Release(self.leg, Cause.NO_CIRCUIT_AVAILABLE)]
            out += self._listen(False)
            self._reset()
            self._number = event.called if isinstance(event, Setup) else ""
            self._state = "dialtone"
            self._timers.start("dial_tone_wait", after_ms(now, self.dial_tone_wait_ms))
            return [*out, SeizeLine(self.leg)]
        if isinstance(event, Answer):
            if self._state != "ringing" or not self._setup_sent:
                return out
            assert self._first_ring_at is not None
            ready = after_ms(self._first_ring_at, self.answer_delay_ms)
            if elapsed_ms(ready, now) >= 0:
                return out + self._seize_for_answer()
            self._state = "answering"
            self._timers.start("answer_delay", ready)
            return out
        if isinstance(event, Digit):
            if self._state in ("dialtone", "dialing"):
                self._number += event.digit
            elif self._state in ("alerting", "connected"):
                out.append(DialDigits(self.leg, event.digit))
            return out
        if isinstance(event, Release):
            if self.seized:
                return out + self._release_line()
            if self._state in ("ringing", "answering"):
                out += self._listen(False)
                self._state = "rejected"
                self._timers.cancel("answer_delay")
            return out
        return out

    def describe(self) -> dict[str, object]:
        return {
            "leg": self.leg,
            "state": self._state,
            "seized": self.seized,
            "rings": self._rings,
            "caller": describe_party(self._caller),
            "cid_standard": self.cid_standard,
            "listening_caller_id": self._listening,
            "watching_disconnect_tone": self._watching,
            "loop_current": self._drop_at is None if self.seized else None,
            "to_dial": self._number,
        }

    # -- internals -------------------------------------------------------------------

    def _run_timers(self, now: float) -> list[LineOutput]:
        out: list[LineOutput] = []
        while (due := self._timers.pop_due(now)) is not None:
            out += self._on_timer[due[0]](now)
        return out

    def _ring_valid(self, now: float) -> list[LineOutput]:
        """The burst in progress has lasted ring_min_ms: it is a ring."""
        start = self._burst_at
        assert start is not None
        self._burst_valid = True
        self._rings += 1
        self._timers.start("ring_timeout", after_ms(start, self.ring_burst_gap_ms))
        if self._state == "idle":
            self._state = "ringing"
            self._first_ring_at = start
            self._timers.cancel("cid_window")
            if not self.cid_standard or self._caller is not None:
                return self._send_setup(self._caller or Party())
            return []
        if self._state == "ringing" and self._rings >= 2 and not self._setup_sent:
            return self._send_setup(Party())
        return []

    def _send_setup(self, caller: Party) -> list[LineOutput]:
        self._setup_sent = True
        self._caller = caller
        return [*self._listen(False), Setup(self.leg, called="", caller=caller)]

    def _ring_timeout(self, now: float) -> list[LineOutput]:
        gone = self._setup_sent and self._state in ("ringing", "answering")
        out = self._listen(False)
        self._state = "idle"
        self._reset()
        return out + ([Release(self.leg, Cause.NORMAL_CLEARING)] if gone else [])

    def _cid_window_over(self, now: float) -> list[LineOutput]:
        if self._state != "idle":
            return []
        self._caller = None
        return self._listen(False)

    def _listen(self, on: bool) -> list[LineOutput]:
        if self._listening == on:
            return []
        self._listening = on
        return [ListenCallerId(self.leg, on)]

    def _watch(self, on: bool) -> list[LineOutput]:
        if self._watching == on:
            return []
        self._watching = on
        return [WatchDisconnectTone(self.leg, on)]

    def _seize_for_answer(self) -> list[LineOutput]:
        self._timers.cancel("ring_valid", "ring_timeout")
        self._burst_at = None
        self._state = "connected"
        return [SeizeLine(self.leg), *self._listen(False), *self._watch(True)]

    def _dial(self, now: float) -> list[LineOutput]:
        if not self._number:
            return self._connect()
        digits, self._number = self._number, ""
        self._state = "dialing"
        # If the app never reports signal_done, assume the usual DTMF pace.
        self._timers.start("dial_done", after_ms(now, len(digits) * self.dtmf_digit_ms))
        return [DialDigits(self.leg, digits)]

    def _digits_out(self, now: float) -> list[LineOutput]:
        if self._number:  # the PBX sent more digits while these went out
            return self._dial(now)
        if self.answer_on_polarity:
            self._state = "alerting"
            return [*self._watch(True), Alerting(self.leg, early_media=True)]
        return self._connect()

    def _connect(self) -> list[LineOutput]:
        """The call is through: dial what is left, watch for disconnect, Answer up."""
        self._timers.cancel("dial_done")
        out: list[LineOutput] = []
        if self._number:
            out.append(DialDigits(self.leg, self._number))
            self._number = ""
        self._state = "connected"
        return [*out, *self._watch(True), Answer(self.leg)]

    def _release_line(self) -> list[LineOutput]:
        out: list[LineOutput] = [ReleaseLine(self.leg), *self._watch(False)]
        self._state = "idle"
        self._reset()
        return out

    def _disconnect(self, cause: Cause) -> list[LineOutput]:
        if not self.seized:
            return []
        return [*self._release_line(), Release(self.leg, cause)]
