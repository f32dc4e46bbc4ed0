"""The exchange's record of one call: its two legs, its phase, its one running timer.

A call joins a caller leg (``a``) to a callee leg (``b``, None while the caller dials).
Each leg stays part of the call until it is *gone*: it released, or the exchange released
it. A call whose partner has gone but whose analog handset is still off-hook stays in the
ENDED phase, because the exchange still plays that handset its busy tone and howler; the
call is forgotten when its last leg is gone.

Phases and the state shown by ``minipbx status``:

===========  ==================================================  =====================
phase        meaning                                             timer
===========  ==================================================  =====================
DIALLING     an FXS caller collects digits against the map       first digit, interdigit
PROCEEDING   a call was placed out; no alerting yet              no answer
RINGING      the callee rings (ringback or early media)          no answer
CONNECTED    both legs talk                                      none
ENDED        the conversation is over; a handset still off-hook  howler, silence
===========  ==================================================  =====================
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from firmware.core.causes import Cause
from firmware.core.events import CallEvent, LegId, MediaEvent, Party
from firmware.pbx.tollguard import Origin, Permission

if TYPE_CHECKING:  # the office's runs (their modules import this one)
    from firmware.pbx.hunt import HuntRun
    from firmware.pbx.ivr import MenuRun
    from firmware.pbx.originate import Job
    from firmware.pbx.recording import CallRecording
    from firmware.pbx.voicemail import MailRun


@dataclass(frozen=True)
class Originated:
    """What happened to a call the box placed itself (``Exchange.originate``), for the
    app (the auto-informer, the call-back): ``state`` is ringing, answered, digit,
    played or ended. ``handle`` is the box's own (virtual) caller leg, ``leg`` the far
    end's (for a group: the member who rang first, then the one who answered)."""

    handle: LegId
    tag: str
    leg: LegId | None
    state: Literal["ringing", "answered", "digit", "played", "ended"]
    cause: Cause = Cause.NORMAL_CLEARING
    reason: str = ""
    digit: str = ""


PbxOutput = CallEvent | MediaEvent | Originated

LegState = Literal["idle", "dialling", "calling", "ringing", "connected", "off-hook", "unknown"]


class Phase(enum.Enum):
    DIALLING = "dialling"
    PROCEEDING = "proceeding"
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"
    # The office (firmware/pbx/hunt.py, ivr.py, originate.py):
    MENU = "menu"  # the box answered; the caller hears a menu and keys a choice
    HUNTING = "hunting"  # a group's members ring (several at once for ringall)
    QUEUED = "queued"  # every member busy: the caller waits with music
    ANNOUNCING = "announcing"  # the box plays a prompt, then hangs up
    HELD = "held"  # an originated call answered: its one leg waits for the app
    # Hook-flash services (firmware/pbx/flashcalls.py): a second call on a handset.
    WAITING = "waiting"  # a call to a handset in a call: call-waiting tone, ringback
    ON_HOLD = "on hold"  # the handset put this call aside: its partner hears music
    RECALL = "recall"  # the handset hung up with this call on hold: it rings again
    VOICEMAIL = "voicemail"  # the box answered: greeting, then the caller's message
    MAILBOX = "mailbox"  # the owner listens to its mailbox (*98)
    # A transfer handed to a SIP peer (firmware/pbx/referral.py): the held party's peer
    # was asked (REFER) to call the transfer target itself; the box waits for its answer.
    REFERRING = "referring"


class Timer(enum.Enum):
    FIRST_DIGIT = "first digit"
    INTERDIGIT = "interdigit"
    NO_ANSWER = "no answer"
    HOWLER = "howler"  # the final progress tone gives way to the howler
    SILENCE = "silence"  # the howler gives way to silence
    MENU = "menu"  # a menu's interdigit, timeout or prompt guard
    HUNT = "hunt"  # a member's ring time, the group's total or queue wait
    POSITION = "position"  # a queued caller hears their place in line again (hunt.py)
    VOICEMAIL = "voicemail"  # a message's longest length, a mailbox menu's wait


@dataclass(frozen=True)
class CallInfo:
    """A snapshot of one call for status displays."""

    call_id: int
    caller: LegId
    callee: LegId | None
    state: str  # a Phase value: dialling, proceeding, ringing, connected, ended
    digits: str  # dialled so far, or the called number once placed
    since: float  # when the call entered this state

    @property
    def legs(self) -> tuple[LegId, ...]:
        return (self.caller,) if self.callee is None else (self.caller, self.callee)


@dataclass
class Call:
    call_id: int
    a: LegId
    caller: Party
    start: float
    phase: Phase = Phase.DIALLING
    since: float = 0.0
    b: LegId | None = None
    digits: str = ""
    called: str = ""
    trunk: str | None = None
    answered: float | None = None
    bridged: bool = False
    deadline: float | None = None
    timer: Timer | None = None
    gone: set[LegId] = field(default_factory=set)
    recorded: bool = False
    # Set for a call that came in (SIP, FXO); a handset's call has its port's origin.
    origin: Origin | None = None
    # A call out: its number class, the number as sent, the route's trunks not tried yet,
    # what happened on those tried, and the callee legs of earlier (failed) attempts.
    klass: Permission | None = None
    out_number: str = ""
    next_trunks: tuple[str, ...] = ()
    tried: list[str] = field(default_factory=list)
    former: list[LegId] = field(default_factory=list)
    # The office: legs rung at once besides b (a group hunt), the destinations the call
    # went through ("menu:main", "group:sales", "ext:102"), seconds waited in a queue,
    # the run of a hunt (hunt.HuntRun), a menu (ivr.MenuRun) or an originated call
    # (originate.Job), whether the box plays prompts to A, the last record's reason.
    offered: list[LegId] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    queue_wait: float | None = None
    hunt: HuntRun | None = None
    menu: MenuRun | None = None
    job: Job | None = None
    playing: bool = False
    a_up: bool = False  # the box answered A itself (a menu, a queue, an announcement)
    reason: str = ""
    end_cause: Cause | None = None
    ring_s: float | None = None  # a ring time of its own (an originated call's)
    recording: CallRecording | None = None  # set at the answer (firmware/pbx/recording.py)
    # Forward-no-answer armed on the ringing extension: (its number, where to), features.py.
    forward: tuple[str, str] | None = None
    # Hook-flash services (firmware/pbx/flashcalls.py): the handset that has this call
    # aside (waiting, on hold, ringing back), and *70: no call waiting during this call.
    holder: LegId | None = None
    no_waiting: bool = False
    mail: MailRun | None = None  # a voicemail deposit or mailbox menu (pbx/voicemail.py)
    # A REFER out for this call (firmware/pbx/referral.py): the number the held party's
    # peer was asked to call ("" when none is pending).
    referred_to: str = ""

    def legs(self) -> list[LegId]:
        """The legs still part of the call."""
        return [leg for leg in (self.a, self.b, *self.offered)
                if leg is not None and leg not in self.gone]

    def originated(self) -> bool:
        """A call the box placed itself whose far end is still the app's (not joined)."""
        return self.job is not None and not self.job.joined

    def other(self, leg: LegId) -> LegId | None:
        return self.b if leg == self.a else self.a

    def enter(self, phase: Phase, now: float, *, keep_timer: bool = False) -> None:
        self.phase = phase
        self.since = now
        if not keep_timer:
            self.deadline = None
            self.timer = None

    def arm(self, timer: Timer, at: float) -> None:
        self.timer = timer
        self.deadline = at

    def info(self) -> CallInfo:
        # While a group hunts, the callee shown is the first member rung.
        callee = self.b if self.b is not None or not self.offered else self.offered[0]
        return CallInfo(
            self.call_id, self.a, callee, self.phase.value, self.called or self.digits,
            self.since
        )

    def leg_state(self, leg: LegId) -> LegState:
        if self.phase is Phase.DIALLING:
            return "dialling"
        if self.phase in (Phase.PROCEEDING, Phase.RINGING, Phase.HUNTING, Phase.WAITING):
            return "calling" if leg == self.a else "ringing"
        if self.phase is Phase.RECALL:
            return "ringing" if leg == self.holder else "connected"
        if self.phase is Phase.ON_HOLD:
            return "connected"
        if self.phase in (Phase.CONNECTED, Phase.MENU, Phase.QUEUED, Phase.ANNOUNCING,
                          Phase.HELD, Phase.VOICEMAIL, Phase.MAILBOX):
            return "connected"
        return "off-hook"
