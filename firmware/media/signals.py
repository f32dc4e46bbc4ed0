"""The signals a line needs, made from the call-control vocabulary: caller ID from a
Party, DTMF digits, call-progress tones from the country profile."""

from __future__ import annotations

import datetime as dt
import unicodedata

from firmware.core.events import Party
from firmware.dsp.callerid import CallerIdInfo
from firmware.dsp.cid_gen import generate_cid
from firmware.dsp.dtmf import generate_dtmf

# Caller ID displays show 15 characters (GR-30) and at most 20 digits (EN 300 659-3).
MAX_CID_NAME = 15
MAX_CID_NUMBER = 20


def party_to_cid(party: Party, when: dt.datetime | None = None) -> CallerIdInfo:
    """The caller ID message for ``party``: absent fields get the standard's reason codes
    ('P' private when withheld, 'O' out of area when unknown)."""
    when = when or dt.datetime.now()
    stamp = when.strftime("%m%d%H%M")
    if party.presentation == "restricted":
        return CallerIdInfo(number=None, name=None, datetime=stamp,
                            number_absence="P", name_absence="P")
    number = _digits(party.number)
    name = _printable(party.name)
    return CallerIdInfo(
        number=number or None,
        name=name or None,
        datetime=stamp,
        number_absence=None if number else "O",
        name_absence=None if name else ("O" if not number else None),
    )


def caller_id_pcm(party: Party, standard: str, when: dt.datetime | None = None) -> bytes:
    """Samples of on-hook caller ID for ``party`` in ``standard`` (bell202, v23, dtmf)."""
    info = party_to_cid(party, when)
    if standard == "dtmf":
        # DTMF caller ID carries digits only: no name, no time, no '+', '*' or '#'.
        number = "".join(c for c in info.number or "" if c.isdigit()) or None
        info = CallerIdInfo(number=number, name=None, datetime=None,
                            number_absence=info.number_absence or (None if number else "O"),
                            name_absence=None)
    fmt = "A_C" if standard == "dtmf" else "mdmf"
    signal = generate_cid(info, standard, fmt=fmt)
    return signal.samples.astype("<i2").tobytes()


def dtmf_pcm(digits: str, on_ms: float = 100.0, off_ms: float = 100.0) -> bytes:
    return generate_dtmf(digits, on_ms=on_ms, off_ms=off_ms).astype("<i2").tobytes()


def _digits(number: str | None) -> str:
    if not number:
        return ""
    kept = "".join(c for c in number if c.isdigit() or c in "+*#")
    return kept.lstrip("+")[:MAX_CID_NUMBER]


def _printable(name: str | None) -> str:
    """Caller ID names are ASCII: accents fold to their letters ("José" -> "Jose"), and what
    has no ASCII form becomes "?"."""
    if not name:
        return ""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name)
                     if not unicodedata.combining(c))
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in folded)[:MAX_CID_NAME]
