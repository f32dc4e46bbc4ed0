"""Where a call can be sent: one value type for inbound routes, menus, groups, schedules
and overflow (DESIGN.md, "Where a call can go").

========================  ================================================================
text                      meaning
========================  ================================================================
``ext:101``               ring extension 101
``group:sales``           the hunt group named sales (its strategy, queue, overflow)
``menu:main``             the voice menu named main (answers the call, plays its prompt)
``announce:closed``       answer, play the prompt ``closed`` (a prompt reference such as
                          ``file:closed.wav``, ``say:en:Closed``; a bare name is the box's
                          own, ``builtin:NAME``, as the prompt check at commit reads it),
                          then hang up
``voicemail:101``         extension 101's mailbox (docs/voicemail.md); an extension without
                          one refuses the call as busy, with a log line saying why
``dial:9555123``          out through the dial plan and the toll guard, like a dialled number
``hangup``                end the call (normal clearing)
========================  ================================================================

Only the syntax is checked here (in core, so that the configuration's checks and the
exchange share it); whether the group or menu exists is the plan's check. A menu choice
has a one-line form too (:func:`parse_choice`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from firmware.core.errors import ConfigError

SYMBOLS = "0123456789*#ABCD"
"""What a keypad sends (firmware.pbx.digitmap has the same set)."""

Kind = Literal["ext", "group", "menu", "announce", "voicemail", "dial", "hangup"]
KINDS: tuple[str, ...] = get_args(Kind)

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


@dataclass(frozen=True)
class Destination:
    kind: Kind
    target: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "hangup" else f"{self.kind}:{self.target}"

    @property
    def prompt(self) -> str:
        """For ``announce``: the prompt reference (a bare name is a builtin)."""
        return self.target if ":" in self.target else f"builtin:{self.target}"


HANGUP = Destination("hangup")


def parse_destination(text: str) -> Destination:
    """``text`` as a Destination; ConfigError naming the mistake otherwise."""
    value = text.strip()
    if value == "hangup":
        return HANGUP
    kind, sep, target = value.partition(":")
    usage = ("use ext:N, group:NAME, menu:NAME, announce:PROMPT, voicemail:N, dial:NUMBER "
             "or hangup")
    if not sep:
        raise ConfigError(f"{text!r} is not a destination; {usage}")
    if kind not in KINDS or kind == "hangup":
        raise ConfigError(f"{text!r}: unknown kind {kind!r}; {usage}")
    if not target:
        raise ConfigError(f"{text!r}: nothing after '{kind}:'; {usage}")
    if kind in ("ext", "voicemail", "dial"):
        bad = next((c for c in target if c not in SYMBOLS and not (kind == "dial" and c == "+")),
                   None)
        if bad is not None:
            raise ConfigError(f"{text!r}: {bad!r} in the number; use 0-9 * # A-D"
                              + (" and a leading +" if kind == "dial" else ""))
        if kind == "dial" and "+" in target[1:]:
            raise ConfigError(f"{text!r}: '+' may only start the number")
    elif kind == "announce":
        bad = next((c for c in target if ord(c) < 0x20 or ord(c) == 0x7F), None)
        if bad is not None:
            raise ConfigError(f"{text!r}: a control character in the prompt")
    else:
        bad = next((c for c in target if c not in _NAME_CHARS), None)
        if bad is not None:
            raise ConfigError(f"{text!r}: {bad!r} in the {kind} name; use letters, digits, "
                              "'_', '.' or '-'")
    return Destination(kind, target)  # type: ignore[arg-type]  # kind checked above


def destination(value: str | Destination) -> Destination:
    return value if isinstance(value, Destination) else parse_destination(value)


def parse_choice(text: str) -> tuple[str, str, str, str]:
    """A menu choice in its one-line form ``KEY=TO`` or ``KEY=TO|CLOSED_TO@SCHEDULE``:
    (key, to, closed_to, schedule) as text; ConfigError when the shape is wrong."""
    key, sep, rest = text.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise ConfigError(f"{text!r}: write a choice as KEY=DESTINATION such as "
                          "1=group:sales (or 1=group:sales|announce:closed@office)")
    to, bar, closed = rest.partition("|")
    schedule = ""
    if bar:
        closed, at, schedule = closed.partition("@")
        if not at or not schedule.strip() or not closed.strip():
            raise ConfigError(f"{text!r}: an office hours choice is KEY=TO|CLOSED_TO@SCHEDULE")
    return key.strip(), to.strip(), closed.strip(), schedule.strip()
