"""Call forwarding and do-not-disturb, set by star codes (issue 11), sans-IO.

Rules:

- Each extension has its forwarding (always, busy, no answer after ``forward_after_s``)
  and do-not-disturb; the configuration gives them, star codes change them (the app keeps
  the current values across restarts), and ``minipbx status`` shows them.
- Star codes (``FeatureCodes``, North American vertical service codes by default) are
  dialled like numbers: ``*72`` + number sets forward-always, ``*73`` clears it (``*90``/
  ``*91`` busy, ``*92``/``*93`` no answer, ``*78``/``*79`` do-not-disturb). Success gives
  the confirmation (stutter) tone, a code the caller may not use (not a handset or phone,
  a forward to itself, a number that leads nowhere) the congestion tone.
- Ringing an extension first asks ``redirect``: do-not-disturb gives the caller busy;
  forward-always sends the call on at once; forward-busy sends it on when the extension
  is not idle. Forward-no-answer re-arms the call's no-answer timer to
  ``forward_after_s``; when it fires, the extension stops ringing and the call goes on.
- A forwarded call keeps its caller ID and leaves with the *forwarding* extension's
  permission (it chose the destination), so a trunk caller forwarded out is the
  extension's call out, bounded by its class and limits. Each hop is on the call's path
  ("forward:102"); after ``MAX_HOPS`` a further forward is ignored (the extension rings),
  which stops loops.
- An extension with forward-always or do-not-disturb on hears stutter dial tone when it
  lifts the handset, as a reminder.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from firmware.core.events import ToneName

logger = logging.getLogger(__name__)

MAX_HOPS = 5


@dataclass(frozen=True)
class FeatureCodes:
    forward_always_on: str = "*72"
    forward_always_off: str = "*73"
    forward_busy_on: str = "*90"
    forward_busy_off: str = "*91"
    forward_no_answer_on: str = "*92"
    forward_no_answer_off: str = "*93"
    dnd_on: str = "*78"
    dnd_off: str = "*79"
    hide_number: str = "*67"  # then the number: this call shows no caller ID
    pickup: str = "*8"  # answer a phone ringing in one's pickup group
    directed_pickup: str = "**"  # then the extension: answer that phone while it rings
    no_call_waiting: str = "*70"  # then the number: no call waiting during this call
    voicemail: str = "*98"  # one's own mailbox; then a mailbox number: that one (PIN asked)

    def patterns(self) -> list[str]:
        """Digit map patterns: a code that takes a number is followed by at least one
        digit (ended by ``#`` or the interdigit timeout)."""
        return [f"{code}xx." if name in TAKES_NUMBER else code
                for name, code in dataclasses.asdict(self).items()] + [f"{self.voicemail}xx."]

    def meaning(self, number: str) -> tuple[str, str] | None:
        """(setting, argument) for a dialled code: ("forward_always", "5551234"),
        ("forward_always", "") to clear, ("dnd", "on"/"")."""
        for name, code in sorted(dataclasses.asdict(self).items(), key=lambda kv: -len(kv[1])):
            if not number.startswith(code):
                continue
            rest = number[len(code):].rstrip("#")
            if name == "voicemail":
                return (name, rest)
            if name in ("hide_number", "directed_pickup", "no_call_waiting"):
                return (name, rest) if rest else None
            if name == "pickup":
                return None if rest else (name, "")
            setting, _, state = name.rpartition("_")
            if state == "on" and setting != "dnd":
                return (setting, rest) if rest else None
            if rest:
                return None
            return (setting, "on" if state == "on" and setting == "dnd" else "")
        return None


TAKES_NUMBER = frozenset({"forward_always_on", "forward_busy_on", "forward_no_answer_on",
                          "hide_number", "directed_pickup", "no_call_waiting"})


@dataclass
class LineFeatures:
    """One extension's current forwarding and do-not-disturb (star codes change these),
    and its configured line services: a hotline or warm line (``hotline`` dialled at once
    on lifting the handset, or after ``warmline_s`` without a digit), caller ID withheld
    on every call, anonymous callers refused, and the pickup group (``*8`` answers a
    phone ringing in the same group)."""

    forward_always: str = ""
    forward_busy: str = ""
    forward_no_answer: str = ""
    forward_after_s: float = 20.0
    dnd: bool = False
    hotline: str = ""
    warmline_s: float = 0.0
    caller_id_block: bool = False
    reject_anonymous: bool = False
    pickup_group: str = ""
    # Voicemail (firmware/pbx/voicemail.py): busy and no answer after voicemail_after_s
    # go to the mailbox; the greeting is a prompt ref ("" = the owner's recorded one if
    # any, else the box's default).
    voicemail: bool = False
    voicemail_pin: str = ""
    voicemail_after_s: float = 20.0
    voicemail_max_s: float = 120.0
    voicemail_greeting: str = ""
    # Hook-flash services (firmware/pbx/flashcalls.py): call waiting on this port, and
    # what a party this handset holds hears ("" = silence).
    call_waiting: bool = True
    hold_music: str = "builtin:music"

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict[str, object]) -> LineFeatures:
        known = {f.name for f in dataclasses.fields(LineFeatures)}
        values = {k: v for k, v in data.items() if k in known}
        return LineFeatures(**values)  # type: ignore[arg-type]


def dial_tone(features: LineFeatures | None, messages_waiting: bool = False) -> ToneName:
    """Stutter dial tone while calls are not reaching the handset (forward-always, DND),
    or while new voicemail messages wait."""
    if messages_waiting:
        return "stutter"
    if features is not None and (features.forward_always or features.dnd):
        return "stutter"
    return "dial"


def apply_code(features: LineFeatures, setting: str, value: str) -> None:
    if setting == "dnd":
        features.dnd = value == "on"
    else:
        setattr(features, setting, value)


def hops(path: list[str]) -> int:
    return sum(1 for step in path if step.startswith("forward:"))


def log_change(extension: str, features: LineFeatures) -> None:
    logger.info("extension %s: forward always %r, busy %r, no answer %r after %g s, DND %s",
                extension, features.forward_always, features.forward_busy,
                features.forward_no_answer, features.forward_after_s,
                "on" if features.dnd else "off")
