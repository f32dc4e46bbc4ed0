"""Protocol-neutral call-control events, in the manner of sippy's CCEvents.

A call is a bridge between legs. Every leg (an FXS line, an FXO line, a SIP dialog) speaks
the same small vocabulary; the direction tells the meaning:

==========  ======================================  =========================================
event       from a leg up to the PBX                from the PBX down to a leg
==========  ======================================  =========================================
Seize       an FXS handset went off-hook (idle)     an FXO line is to be seized
Setup       a call arrives (SIP INVITE, FXO ring)   place a call: ring the phone / send INVITE
Digit       a digit was dialled or received         send the digit (RFC 4733, DTMF on FXO)
Alerting    the far end rings (180 / 183)           tell the caller it rings (send 180)
Answer      the leg answered (off-hook, 200 OK)     answer the leg (send 200 OK)
Flash       the handset flashed the hook            (not sent down)
Release     the leg ended; ``cause`` says why       end the leg with ``cause``
Tone        (not sent up)                           play a call-progress tone on a line leg
PlayDone    the prompts played into the leg ended   (not sent down)
Transfer    connect my partner to a number instead  (not sent down)
==========  ======================================  =========================================

Events are frozen dataclasses; a leg is named by a string such as ``fxs1``, ``fxo1`` or
``sip7``. ``Bridge``/``Unbridge``, ``Play`` (prompts into a leg) and ``Record`` go from the PBX
to the media switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from firmware.core.causes import Cause

LegId = str

Presentation = Literal["allowed", "restricted", "unavailable"]


@dataclass(frozen=True)
class Party:
    """Who calls: the number and name shown as caller ID, and whether to show them."""

    number: str | None = None
    name: str | None = None
    presentation: Presentation = "allowed"


@dataclass(frozen=True)
class Seize:
    leg: LegId


@dataclass(frozen=True)
class Setup:
    leg: LegId
    called: str
    caller: Party
    # Set by the PBX when ringing a line: the name of a distinctive ring pattern.
    ring_pattern: str | None = None
    # Set by the PBX when placing a call out: the configured trunk to send it through.
    trunk: str | None = None


@dataclass(frozen=True)
class Digit:
    leg: LegId
    digit: str
    # How the digit reached us: "dtmf" (in-band), "pulse" (rotary), "rfc4733" (SIP event).
    source: str = "dtmf"


@dataclass(frozen=True)
class Alerting:
    leg: LegId
    # True when the far end sends its own audio (183 Session Progress with SDP).
    early_media: bool = False


@dataclass(frozen=True)
class Answer:
    leg: LegId


@dataclass(frozen=True)
class Flash:
    leg: LegId


@dataclass(frozen=True)
class Release:
    leg: LegId
    cause: Cause = Cause.NORMAL_CLEARING


ToneName = Literal[
    "dial", "busy", "ringback", "congestion", "callwaiting", "stutter", "howler"
]


@dataclass(frozen=True)
class Tone:
    leg: LegId
    # None stops whatever tone plays.
    tone: ToneName | None
    # With "callwaiting": the waiting caller, sent as type II caller ID after the tone
    # when the handset acknowledges (firmware/app/cwcid.py).
    caller: Party | None = None


@dataclass(frozen=True)
class Bridge:
    """Connect the audio of two legs both ways."""

    a: LegId
    b: LegId


@dataclass(frozen=True)
class Unbridge:
    a: LegId
    b: LegId


@dataclass(frozen=True)
class Play:
    """Play prompts into a leg (an analog line or a SIP call), one after another.

    Each item is a prompt reference that the app's prompt cache resolves to 8 kHz audio
    built at commit time, never in the call path: ``builtin:NAME`` (the box's own, in
    ``language``), ``file:NAME`` (an uploaded WAV), ``say:LANG:TEXT`` (espeak-ng),
    ``digits:NNN`` (the digits spoken one by one in ``language``). An empty ``prompts``
    stops whatever plays (barge-in). ``loop`` repeats the list until stopped (music on
    hold, a queue's music). ``language`` "" is the box's default language.
    """

    leg: LegId
    prompts: tuple[str, ...]
    loop: bool = False
    language: str = ""
    # Barge-in: a key pressed on an analog line stops the prompt the moment its tone
    # starts, before the digit is decoded (the Digit follows as usual). A menu wants it;
    # an announcement that must be heard to its end does not. RFC 4733 digits arrive at
    # the key's start anyway, and the exchange stops the prompt with an empty Play.
    barge_in: bool = False


@dataclass(frozen=True)
class PlayDone:
    """Up from the media side: everything a ``Play`` gave ``leg`` has played (not sent
    for a stopped or looping play)."""

    leg: LegId


@dataclass(frozen=True)
class Record:
    """Start (``on``) or stop recording call ``call_id``: ``a``'s voice and ``b``'s."""

    call_id: int
    a: LegId
    b: LegId
    on: bool


@dataclass(frozen=True)
class Transfer:
    """Up from a leg in a connected call: connect my partner to ``to`` (a number, dialled
    with my permission) and let me go: a blind transfer (a SIP REFER; the hook flash's
    transfer will send it too)."""

    leg: LegId
    to: str


@dataclass(frozen=True)
class VoiceMessage:
    """Start (``on``) or stop recording ``leg``'s voice into ``mailbox`` (voicemail,
    firmware/pbx/voicemail.py): a message from ``caller``, or the owner's ``greeting``."""

    call_id: int
    leg: LegId
    mailbox: str
    on: bool
    caller: Party = Party()
    greeting: bool = False


@dataclass(frozen=True)
class MailboxEdit:
    """Change a message in ``mailbox``: ``action`` "heard" (new -> old) or "delete"; or
    "open": its owner opened the mailbox by phone (``uid`` ""; the app readies the sound);
    or "pin": the owner set a new PIN (``value``)."""

    mailbox: str
    uid: str
    action: Literal["heard", "delete", "open", "pin"]
    value: str = ""


@dataclass(frozen=True)
class Hold:
    """Down to a SIP leg: put its call on hold (re-INVITE, a=sendonly: the box still
    sends, music on hold) or take it off hold (``on`` False). Analog legs ignore it."""

    leg: LegId
    on: bool


@dataclass(frozen=True)
class Refer:
    """Down to a SIP leg: ask its peer to call ``target``'s party itself (a REFER), so that
    the box leaves the call. ``replaces``: ``target`` is answered, and the peer's new call
    takes the place of the box's dialog with it (attended transfer, Replaces); else
    ``target`` still rings and the box gives it up (blind transfer). The answer comes
    back as :class:`Referred`."""

    leg: LegId
    target: LegId
    replaces: bool


@dataclass(frozen=True)
class Referred:
    """Up from a SIP leg that was sent a :class:`Refer`: how its peer's transfer ended
    (``status``: the final SIP status its NOTIFY reported, or the REFER's own refusal;
    ``ok`` for 2xx). Peers that do not take REFER answer at once with ``ok`` False."""

    leg: LegId
    ok: bool
    status: int = 0


CallEvent = (Seize | Setup | Digit | Alerting | Answer | Flash | Release | Tone | PlayDone
             | Transfer | Referred)
MediaEvent = Bridge | Unbridge | Play | Record | VoiceMessage | MailboxEdit | Hold | Refer
