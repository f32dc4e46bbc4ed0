"""Caller ID messages: the bytes (FSK) and digit strings (DTMF) a display phone decodes.

Sans-IO codec, no signals here (fsk.py and cid_gen.py make them). Rules:

- An FSK message is: message type, length of the body, body, checksum. The checksum
  is the two's complement of the modulo-256 sum of every byte before it, so all bytes of
  a good message sum to 0 mod 256 (Telcordia GR-30, ETSI EN 300 659-3).
- SDMF caller ID (type 0x04): MMDDHHMM then the number, or a single 'O' (unavailable)
  or 'P' (private) in its place. No name.
- MDMF caller ID (type 0x80): parameters (type, length, value): 0x01 date-time
  MMDDHHMM, 0x02 number, 0x04 reason the number is absent, 0x07 name, 0x08 reason the
  name is absent. Unknown parameters are skipped on decode, as receivers must.
- Message waiting: SDMF type 0x06 with 0x42 0x42 0x42 (on) or 0x6F 0x6F 0x6F (off);
  MDMF type 0x82 with parameter 0x0B visual indicator 0xFF (on) or 0x00 (off).
- DTMF caller ID strings (see encode_dtmf / decode_dtmf): 'A' number 'C' and
  'D' number 'C' carry absence as 'B00' (unavailable) or 'B10' (private) before the 'C';
  'A' number '#' carries it as 'D1#' (private) or 'D3#' (unavailable). These are the
  codes of ETSI ES 200 778 style DTMF CLIP as spandsp documents them.
- Everything wrong with a message raises CallerIdError (a ValueError) saying what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MSG_SDMF_CALLERID = 0x04
MSG_SDMF_MWI = 0x06
MSG_MDMF_CALLERID = 0x80
MSG_MDMF_MWI = 0x82

PARAM_DATETIME = 0x01
PARAM_NUMBER = 0x02
PARAM_NUMBER_ABSENCE = 0x04
PARAM_NAME = 0x07
PARAM_NAME_ABSENCE = 0x08
PARAM_VISUAL_INDICATOR = 0x0B

ABSENCE_UNAVAILABLE = "O"
ABSENCE_PRIVATE = "P"
SDMF_MWI_ON = b"\x42\x42\x42"
SDMF_MWI_OFF = b"\x6f\x6f\x6f"
VISUAL_INDICATOR_ON = 0xFF
VISUAL_INDICATOR_OFF = 0x00

DATETIME_LEN = 8
MAX_BODY_LEN = 255
MAX_NUMBER_LEN = 20  # ETSI EN 300 659-3 allows 20 digits; GR-30 SDMF uses 10
MAX_NAME_LEN = 50  # ETSI; GR-30 displays 15

# DTMF caller ID markers.
DTMF_NUMBER = "A"
DTMF_ABSENCE_C = "B"  # absence code before a 'C' terminator
DTMF_ABSENCE_HASH = "D"  # absence code before a '#' terminator
DTMF_END_C = "C"
DTMF_END_HASH = "#"
DTMF_ABSENCE_C_CODES = {ABSENCE_UNAVAILABLE: "00", ABSENCE_PRIVATE: "10"}
DTMF_ABSENCE_HASH_CODES = {ABSENCE_PRIVATE: "1", ABSENCE_UNAVAILABLE: "3"}
# 'D2#' (international) has no display code of its own: it shows as unavailable.
Absence = Literal["O", "P"]
_HASH_CODE_TO_ABSENCE: dict[str, Absence] = {"1": "P", "2": "O", "3": "O"}
_C_CODE_TO_ABSENCE: dict[str, Absence] = {"00": "O", "10": "P"}
DtmfFormat = Literal["A_C", "A_HASH", "D_C"]
DTMF_FORMATS: tuple[DtmfFormat, ...] = ("A_C", "A_HASH", "D_C")


class CallerIdError(ValueError):
    """A caller ID message or signal is malformed, inconsistent or missing."""


class ChecksumError(CallerIdError):
    """A message arrived whole but its checksum does not match."""


class NoCarrierError(CallerIdError):
    """No caller ID signal (FSK carrier or DTMF string) was found at all."""


def _check_text(what: str, text: str, limit: int) -> None:
    if not text:
        raise CallerIdError(f"{what} is empty (leave it out instead)")
    if len(text) > limit:
        raise CallerIdError(f"{what} {text!r} is longer than {limit} characters")
    bad = [c for c in text if not (0x20 <= ord(c) <= 0x7E or 0xA0 <= ord(c) <= 0xFF)]
    if bad:
        raise CallerIdError(f"{what} {text!r} has characters a display cannot show: {bad!r}")


def check_datetime(text: str, *, ranges: bool = True) -> None:
    """Raise CallerIdError unless `text` is 8 digits (and, with `ranges`, a real MMDDHHMM).

    Received date-times are checked for form only: a display still shows the number
    when an exchange's clock sends 00000000.
    """
    if len(text) != DATETIME_LEN or not text.isdigit() or not text.isascii():
        raise CallerIdError(f"date-time {text!r} must be 8 digits MMDDHHMM")
    if not ranges:
        return
    month, day, hour, minute = (int(text[i:i + 2]) for i in range(0, 8, 2))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
        raise CallerIdError(f"date-time {text!r} is not a valid MMDDHHMM")


@dataclass(frozen=True)
class CallerIdInfo:
    """What a display shows: number or why it is absent, name or why, date-time."""

    number: str | None = None
    name: str | None = None
    datetime: str | None = None  # "MMDDHHMM"
    number_absence: Absence | None = None
    name_absence: Absence | None = None

    def __post_init__(self) -> None:
        if self.number is not None:
            _check_text("number", self.number, MAX_NUMBER_LEN)
        if self.name is not None:
            _check_text("name", self.name, MAX_NAME_LEN)
        if self.datetime is not None:
            check_datetime(self.datetime, ranges=False)
        for field, value in (("number_absence", self.number_absence),
                             ("name_absence", self.name_absence)):
            if value not in (None, ABSENCE_UNAVAILABLE, ABSENCE_PRIVATE):
                raise CallerIdError(f"{field} must be 'O' (unavailable) or 'P' (private), "
                                    f"not {value!r}")
        if self.number is not None and self.number_absence is not None:
            raise CallerIdError("give a number or a reason it is absent, not both")
        if self.name is not None and self.name_absence is not None:
            raise CallerIdError("give a name or a reason it is absent, not both")


@dataclass(frozen=True)
class CidMessage:
    """A decoded FSK message. `raw` is the whole message including type and checksum."""

    message_type: int
    info: CallerIdInfo | None
    mwi: bool | None
    raw: bytes


def checksum(data: bytes) -> int:
    """Two's complement of the modulo-256 sum of `data`."""
    return (-sum(data)) & 0xFF


def frame_message(message_type: int, body: bytes) -> bytes:
    """Type, length, body and checksum."""
    if len(body) > MAX_BODY_LEN:
        raise CallerIdError(f"message body of {len(body)} bytes exceeds {MAX_BODY_LEN}")
    head = bytes([message_type, len(body)]) + body
    return head + bytes([checksum(head)])


def _text(value: str) -> bytes:
    return value.encode("latin-1")


def encode_sdmf(info: CallerIdInfo) -> bytes:
    """SDMF caller ID (0x04): date-time and number (or 'O'/'P')."""
    if info.datetime is None:
        raise CallerIdError("SDMF caller ID needs a date-time (MMDDHHMM)")
    check_datetime(info.datetime)
    if info.name is not None or info.name_absence is not None:
        raise CallerIdError("SDMF carries no name: use MDMF")
    if info.number is not None:
        tail = _text(info.number)
    elif info.number_absence is not None:
        tail = _text(info.number_absence)
    else:
        raise CallerIdError("SDMF caller ID needs a number or a reason it is absent")
    return frame_message(MSG_SDMF_CALLERID, _text(info.datetime) + tail)


def _param(kind: int, value: bytes) -> bytes:
    return bytes([kind, len(value)]) + value


def encode_mdmf(info: CallerIdInfo) -> bytes:
    """MDMF caller ID (0x80): the parameters `info` has, in GR-30 order."""
    body = b""
    if info.datetime is not None:
        check_datetime(info.datetime)
        body += _param(PARAM_DATETIME, _text(info.datetime))
    if info.number is not None:
        body += _param(PARAM_NUMBER, _text(info.number))
    elif info.number_absence is not None:
        body += _param(PARAM_NUMBER_ABSENCE, _text(info.number_absence))
    if info.name is not None:
        body += _param(PARAM_NAME, _text(info.name))
    elif info.name_absence is not None:
        body += _param(PARAM_NAME_ABSENCE, _text(info.name_absence))
    if not body:
        raise CallerIdError("MDMF caller ID needs at least one field")
    return frame_message(MSG_MDMF_CALLERID, body)


def encode_mwi_sdmf(on: bool) -> bytes:
    """SDMF message waiting (0x06)."""
    return frame_message(MSG_SDMF_MWI, SDMF_MWI_ON if on else SDMF_MWI_OFF)


def encode_mwi_mdmf(on: bool) -> bytes:
    """MDMF message waiting (0x82) with the visual indicator parameter."""
    indicator = VISUAL_INDICATOR_ON if on else VISUAL_INDICATOR_OFF
    return frame_message(MSG_MDMF_MWI, _param(PARAM_VISUAL_INDICATOR, bytes([indicator])))


def _absence(what: str, value: bytes) -> Absence:
    if value == b"O":
        return "O"
    if value == b"P":
        return "P"
    raise CallerIdError(f"{what} absence reason {value!r} is neither 'O' nor 'P'")


def _parse_params(body: bytes) -> list[tuple[int, bytes]]:
    params, pos = [], 0
    while pos < len(body):
        if pos + 2 > len(body):
            raise CallerIdError(f"parameter header cut short at byte {pos + 2} of the message")
        kind, length = body[pos], body[pos + 1]
        if pos + 2 + length > len(body):
            raise CallerIdError(f"parameter 0x{kind:02X} claims {length} bytes but only "
                                f"{len(body) - pos - 2} remain")
        params.append((kind, body[pos + 2:pos + 2 + length]))
        pos += 2 + length
    return params


def _decode_mdmf_callerid(body: bytes) -> CallerIdInfo:
    fields: dict[str, str | None] = {}
    absences: dict[str, Absence | None] = {}
    for kind, value in _parse_params(body):
        if kind == PARAM_DATETIME:
            fields["datetime"] = value.decode("latin-1")
        elif kind == PARAM_NUMBER:
            fields["number"] = value.decode("latin-1")
        elif kind == PARAM_NAME:
            fields["name"] = value.decode("latin-1")
        elif kind == PARAM_NUMBER_ABSENCE:
            absences["number_absence"] = _absence("number", value)
        elif kind == PARAM_NAME_ABSENCE:
            absences["name_absence"] = _absence("name", value)
    return CallerIdInfo(number=fields.get("number"), name=fields.get("name"),
                        datetime=fields.get("datetime"),
                        number_absence=absences.get("number_absence"),
                        name_absence=absences.get("name_absence"))


def decode_message(data: bytes) -> CidMessage:
    """Check and decode one whole FSK message (type, length, body, checksum)."""
    if len(data) < 3:
        raise CallerIdError(f"a message needs at least 3 bytes, got {len(data)}")
    message_type, length = data[0], data[1]
    if len(data) != length + 3:
        raise CallerIdError(f"message type 0x{message_type:02X} says {length} body bytes "
                            f"but {len(data) - 3} arrived")
    if sum(data) & 0xFF:
        raise ChecksumError(f"checksum mismatch in message type 0x{message_type:02X}: "
                            f"got 0x{data[-1]:02X}, expected 0x{checksum(data[:-1]):02X}")
    body = bytes(data[2:-1])
    raw = bytes(data)
    if message_type == MSG_SDMF_CALLERID:
        if len(body) < DATETIME_LEN + 1:
            raise CallerIdError(f"SDMF caller ID body of {len(body)} bytes is too short")
        stamp, tail = body[:DATETIME_LEN].decode("latin-1"), body[DATETIME_LEN:]
        if tail in (b"O", b"P"):
            info = CallerIdInfo(datetime=stamp, number_absence=_absence("number", tail))
        else:
            info = CallerIdInfo(datetime=stamp, number=tail.decode("latin-1"))
        return CidMessage(message_type, info, None, raw)
    if message_type == MSG_MDMF_CALLERID:
        return CidMessage(message_type, _decode_mdmf_callerid(body), None, raw)
    if message_type == MSG_SDMF_MWI:
        if body not in (SDMF_MWI_ON, SDMF_MWI_OFF):
            raise CallerIdError(f"SDMF message waiting body {body.hex()} is neither "
                                f"424242 (on) nor 6f6f6f (off)")
        return CidMessage(message_type, None, body == SDMF_MWI_ON, raw)
    if message_type == MSG_MDMF_MWI:
        indicator = [v for k, v in _parse_params(body) if k == PARAM_VISUAL_INDICATOR]
        if len(indicator) != 1 or len(indicator[0]) != 1:
            raise CallerIdError("MDMF message waiting lacks a one-byte visual indicator")
        if indicator[0][0] not in (VISUAL_INDICATOR_ON, VISUAL_INDICATOR_OFF):
            raise CallerIdError(f"visual indicator 0x{indicator[0][0]:02X} is neither "
                                f"0xFF (on) nor 0x00 (off)")
        return CidMessage(message_type, None, indicator[0][0] == VISUAL_INDICATOR_ON, raw)
    raise CallerIdError(f"unsupported message type 0x{message_type:02X}")


def encode_dtmf(info: CallerIdInfo, fmt: DtmfFormat = "A_C") -> str:
    """The DTMF caller ID digit string for `info` (number or absence reason only)."""
    if fmt not in DTMF_FORMATS:
        raise CallerIdError(f"unknown DTMF caller ID format {fmt!r}")
    if info.number is not None:
        digits = info.number
        if not all(c in "0123456789" for c in digits):
            raise CallerIdError(f"DTMF caller ID sends digits only, not {digits!r}")
        start = "D" if fmt == "D_C" else DTMF_NUMBER
        return start + digits + (DTMF_END_HASH if fmt == "A_HASH" else DTMF_END_C)
    if info.number_absence is not None:
        if fmt == "A_HASH":
            return DTMF_ABSENCE_HASH + DTMF_ABSENCE_HASH_CODES[info.number_absence] + "#"
        return DTMF_ABSENCE_C + DTMF_ABSENCE_C_CODES[info.number_absence] + DTMF_END_C
    raise CallerIdError("DTMF caller ID needs a number or a reason it is absent")


def _dtmf_fields(text: str) -> list[tuple[str, str]]:
    """Split 'A123B10' into [('A', '123'), ('B', '10')]; leading digits get marker ''."""
    fields: list[tuple[str, str]] = []
    for char in text:
        if char.isdigit() and char.isascii():
            if not fields:
                fields.append(("", ""))
            fields[-1] = (fields[-1][0], fields[-1][1] + char)
        elif char in "ABD":
            fields.append((char, ""))
        else:
            raise CallerIdError(f"DTMF caller ID has an unexpected {char!r} inside")
    return fields


def decode_dtmf(digits: str) -> CallerIdInfo:
    """Decode a whole DTMF caller ID string (start marker to terminator).

    Besides the strings encode_dtmf makes, this reads the fuller 'A' number 'D'
    redirecting number 'B' code 'C' form (the redirecting number is not shown) and a
    bare number ended by '#'.
    """
    if len(digits) < 2 or digits[-1] not in (DTMF_END_C, DTMF_END_HASH):
        raise CallerIdError(f"DTMF caller ID {digits!r} does not end with 'C' or '#'")
    end = digits[-1]
    fields = _dtmf_fields(digits[:-1])
    markers = [m for m, _ in fields]
    number: str | None = None
    absence: Absence | None = None
    for marker, body in fields:
        if marker in ("", DTMF_NUMBER) or (marker == "D" and end == DTMF_END_C
                                            and DTMF_NUMBER not in markers):
            number = body or None
        elif marker == DTMF_ABSENCE_C and end == DTMF_END_C:
            if body not in _C_CODE_TO_ABSENCE:
                raise CallerIdError(f"DTMF caller ID absence code B{body} is not 00 or 10")
            absence = _C_CODE_TO_ABSENCE[body]
        elif marker == DTMF_ABSENCE_HASH and end == DTMF_END_HASH:
            if body not in _HASH_CODE_TO_ABSENCE:
                raise CallerIdError(f"DTMF caller ID absence code D{body} is not 1, 2 or 3")
            absence = _HASH_CODE_TO_ABSENCE[body]
        elif marker != "D":  # a 'D' redirecting number inside an A..C string: not shown
            raise CallerIdError(f"DTMF caller ID {digits!r} is not a known format")
    if number is None and absence is None:
        raise CallerIdError(f"DTMF caller ID {digits!r} carries neither number nor reason")
    if number is not None:
        return CallerIdInfo(number=number)
    return CallerIdInfo(number_absence=absence)
