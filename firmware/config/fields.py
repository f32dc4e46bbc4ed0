"""The pieces the configuration's tables are made of (``firmware.config.schema`` and
``firmware.config.office_schema``): the value types the file allows, and the helpers that
give a field its help text and range, which ``firmware.config.build`` reads."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal, TypeVar

T = TypeVar("T")

Transport = Literal["udp", "tcp", "tls"]
CallerIdStandard = Literal["", "bell202", "v23", "v23_jp", "dtmf", "none"]
"""The names the country profiles use; "" is the country's own, v23_jp the NTT variant."""
DisconnectMethod = Literal["loop_current", "polarity", "tone", "silence"]
DtmfMode = Literal["rfc4733"]
RecordMode = Literal["", "always", "never", "on_demand"]
"""Call recording policy of an extension, trunk, inbound route or group ("" = not set);
how the settings of one call combine: firmware.pbx.recording."""
RecordChannels = Literal["stereo", "mono"]
PermissionClass = Literal["internal", "local", "national", "international", "premium"]
"""Outbound number classes, cheapest first (firmware.pbx.tollguard): each allows the ones
before it; emergency numbers always pass."""

KNOWN_COUNTRIES: tuple[str, ...] = ("us", "uk", "de", "fr", "ru", "in", "jp", "au", "et")
"""Country profile codes used when the caller does not pass the dsp package's own list."""

MAX_LINE_PORT = 64
"""Highest board port number accepted; the board profile says how many it really has."""


def meta(help: str, *, lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    """A field's metadata: its help text and, for a number, its inclusive range."""
    return {"help": help, "lo": lo, "hi": hi}


def setting(default: T, help: str, *, lo: float | None = None, hi: float | None = None) -> T:
    """A field with a default (fields typed as a Literal use ``field(..., metadata=meta())``
    directly, since ruff cannot tell that their defaults are immutable)."""
    return field(default=default, metadata=meta(help, lo=lo, hi=hi))


def required(help: str, *, lo: float | None = None, hi: float | None = None) -> Any:
    """A field the file must give (a port number, an extension, a trunk's host)."""
    return field(metadata=meta(help, lo=lo, hi=hi))


# Forwarding, do-not-disturb and voicemail: an extension's services, the same keys with the
# same defaults, help and ranges on a handset port ([[fxs]]) and an IP phone ([[sip_user]]).
_SERVICES: dict[str, tuple[object, str, float | None, float | None]] = {
    "forward_always": ("", 'forward every call to this number ("" = off; star codes'
                           " *72/*73 change it)", None, None),
    "forward_busy": ("", 'forward calls while the extension is in a call ("" = off;'
                         " *90/*91)", None, None),
    "forward_no_answer": ("", 'forward calls not answered in forward_after_s ("" = off;'
                              " *92/*93)", None, None),
    "forward_after_s": (20.0, "ringing time before forward_no_answer", 1.0, 300.0),
    "dnd": (False, "do not disturb: callers hear busy (*78 on, *79 off)", None, None),
    "voicemail": (False, "a mailbox for this extension: busy and unanswered callers leave"
                         " messages (*98 listens)", None, None),
    "voicemail_pin": ("", 'digits keyed to open the mailbox by phone ("" = none from the'
                          " owner's own phone)", None, None),
    "voicemail_after_s": (20.0, "ringing time before an unanswered call goes to the"
                                " mailbox", 1.0, 300.0),
    "voicemail_max_s": (120.0, "longest message", 5.0, 3600.0),
    "voicemail_greeting": ("", 'greeting prompt, such as "say:en:Hello" or "file:NAME.wav"'
                               ' ("" = the one recorded by phone, else the box\'s default)',
                           None, None),
}


def service(name: str) -> Any:
    """The field of one of an extension's services (``_SERVICES``), stated once for the
    tables that carry it."""
    default, help, lo, hi = _SERVICES[name]
    return setting(default, help, lo=lo, hi=hi)
