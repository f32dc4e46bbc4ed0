"""Caller ID message codec (firmware.dsp.callerid): bytes, digits and their validation."""

from __future__ import annotations

import pytest

from firmware.dsp.callerid import (
    CallerIdError,
    CallerIdInfo,
    ChecksumError,
    checksum,
    decode_dtmf,
    decode_message,
    encode_dtmf,
    encode_mdmf,
    encode_mwi_mdmf,
    encode_mwi_sdmf,
    encode_sdmf,
)

FULL = CallerIdInfo(number="5551234567", name="ALICE SMITH", datetime="01021230")


def test_checksum_is_twos_complement_of_the_byte_sum() -> None:
    assert checksum(b"\x04\x01\x01") == 0xFA
    assert checksum(b"") == 0
    assert checksum(bytes([0xFF, 0x01])) == 0


def test_sdmf_bytes() -> None:
    msg = encode_sdmf(CallerIdInfo(number="5551234", datetime="12251800"))
    body = b"122518005551234"
    assert msg[:2] == bytes([0x04, len(body)])
    assert msg[2:-1] == body
    assert (sum(msg[:-1]) + msg[-1]) % 256 == 0


def test_mdmf_bytes_in_parameter_order() -> None:
    msg = encode_mdmf(FULL)
    body = (bytes([0x01, 8]) + b"01021230" + bytes([0x02, 10]) + b"5551234567"
            + bytes([0x07, 11]) + b"ALICE SMITH")
    assert msg == bytes([0x80, len(body)]) + body + bytes([(-sum(body) - 0x80 - len(body)) & 0xFF])


@pytest.mark.parametrize(("info", "params"), [
    (CallerIdInfo(number_absence="P", name_absence="P"), b"\x04\x01P\x08\x01P"),
    (CallerIdInfo(number_absence="O", name_absence="O"), b"\x04\x01O\x08\x01O"),
    (CallerIdInfo(number="123", name_absence="O"), b"\x02\x03123\x08\x01O"),
])
def test_mdmf_absence_reasons(info: CallerIdInfo, params: bytes) -> None:
    assert encode_mdmf(info)[2:-1] == params


def test_message_waiting_bytes() -> None:
    assert encode_mwi_sdmf(True)[:5] == b"\x06\x03\x42\x42\x42"
    assert encode_mwi_sdmf(False)[:5] == b"\x06\x03\x6f\x6f\x6f"
    assert encode_mwi_mdmf(True)[:5] == b"\x82\x03\x0b\x01\xff"
    assert encode_mwi_mdmf(False)[:5] == b"\x82\x03\x0b\x01\x00"


@pytest.mark.parametrize("info", [
    FULL,
    CallerIdInfo(number="5551234567", datetime="01021230"),
    CallerIdInfo(number_absence="P", name_absence="P", datetime="11302359"),
    CallerIdInfo(number_absence="O"),
    CallerIdInfo(name="Zoë Müller"),
])
def test_mdmf_round_trip(info: CallerIdInfo) -> None:
    decoded = decode_message(encode_mdmf(info))
    assert decoded.info == info
    assert decoded.message_type == 0x80
    assert decoded.mwi is None


@pytest.mark.parametrize("info", [
    CallerIdInfo(number="5551234567", datetime="01021230"),
    CallerIdInfo(number_absence="O", datetime="01021230"),
    CallerIdInfo(number_absence="P", datetime="01021230"),
])
def test_sdmf_round_trip(info: CallerIdInfo) -> None:
    assert decode_message(encode_sdmf(info)).info == info


@pytest.mark.parametrize("on", [True, False])
def test_mwi_round_trip(on: bool) -> None:
    assert decode_message(encode_mwi_sdmf(on)).mwi is on
    assert decode_message(encode_mwi_mdmf(on)).mwi is on


def test_unknown_mdmf_parameters_are_skipped() -> None:
    body = b"\x02\x03123\x03\x02" + b"99" + b"\x07\x03BOB"
    head = bytes([0x80, len(body)]) + body
    info = decode_message(head + bytes([checksum(head)])).info
    assert info == CallerIdInfo(number="123", name="BOB")


def test_checksum_failure() -> None:
    msg = bytearray(encode_mdmf(FULL))
    msg[5] ^= 0x01
    with pytest.raises(ChecksumError, match="checksum"):
        decode_message(bytes(msg))
    assert issubclass(ChecksumError, ValueError)


@pytest.mark.parametrize(("data", "match"), [
    (b"\x80", "at least 3 bytes"),
    (b"\x80\x05\x01\x02", "says 5 body bytes"),
    (b"\x80\x03\x02\x05\x31" + bytes([checksum(b"\x80\x03\x02\x05\x31")]), "claims 5 bytes"),
    (b"\x99\x00" + bytes([checksum(b"\x99\x00")]), "unsupported message type 0x99"),
    (b"\x06\x03ABC" + bytes([checksum(b"\x06\x03ABC")]), "neither 424242"),
    (b"\x04\x03123" + bytes([checksum(b"\x04\x03123")]), "too short"),
    (b"\x80\x03\x04\x01X" + bytes([checksum(b"\x80\x03\x04\x01X")]), "neither 'O' nor 'P'"),
    (b"\x80\x03\x01\x01X" + bytes([checksum(b"\x80\x03\x01\x01X")]), "8 digits"),
])
def test_malformed_messages_say_what_is_wrong(data: bytes, match: str) -> None:
    with pytest.raises(CallerIdError, match=match):
        decode_message(data)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"datetime": "1231235"}, "8 digits"),
    ({"datetime": "0101 200"}, "8 digits"),
    ({"number": "123", "number_absence": "P"}, "not both"),
    ({"name": "A", "name_absence": "O"}, "not both"),
    ({"number_absence": "X"}, "'O' .unavailable. or 'P'"),
    ({"number": ""}, "empty"),
    ({"name": "A\x07B"}, "cannot show"),
    ({"number": "1" * 21}, "longer than 20"),
])
def test_info_validation(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(CallerIdError, match=match):
        CallerIdInfo(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("stamp", ["13011200", "01012400", "01010060", "00000000"])
def test_impossible_dates_are_received_but_never_sent(stamp: str) -> None:
    info = CallerIdInfo(number="123", datetime=stamp)
    head = bytes([0x04, 11]) + stamp.encode() + b"123"
    assert decode_message(head + bytes([checksum(head)])).info == info
    with pytest.raises(CallerIdError, match="not a valid MMDDHHMM"):
        encode_mdmf(info)
    with pytest.raises(CallerIdError, match="not a valid MMDDHHMM"):
        encode_sdmf(info)


def test_encoders_refuse_what_the_format_cannot_carry() -> None:
    with pytest.raises(CallerIdError, match="needs a date-time"):
        encode_sdmf(CallerIdInfo(number="1"))
    with pytest.raises(CallerIdError, match="no name"):
        encode_sdmf(CallerIdInfo(number="1", name="X", datetime="01010000"))
    with pytest.raises(CallerIdError, match="at least one field"):
        encode_mdmf(CallerIdInfo())
    with pytest.raises(CallerIdError, match="digits only"):
        encode_dtmf(CallerIdInfo(number="+4930"))


@pytest.mark.parametrize(("info", "fmt", "digits"), [
    (CallerIdInfo(number="0123456789"), "A_C", "A0123456789C"),
    (CallerIdInfo(number="0123456789"), "A_HASH", "A0123456789#"),
    (CallerIdInfo(number="0123456789"), "D_C", "D0123456789C"),
    (CallerIdInfo(number_absence="O"), "A_C", "B00C"),
    (CallerIdInfo(number_absence="P"), "A_C", "B10C"),
    (CallerIdInfo(number_absence="P"), "D_C", "B10C"),
    (CallerIdInfo(number_absence="P"), "A_HASH", "D1#"),
    (CallerIdInfo(number_absence="O"), "A_HASH", "D3#"),
])
def test_dtmf_strings(info: CallerIdInfo, fmt: str, digits: str) -> None:
    assert encode_dtmf(info, fmt) == digits  # type: ignore[arg-type]
    assert decode_dtmf(digits) == info


def test_dtmf_fuller_forms() -> None:
    # Redirecting number ('D' inside an A..C string) is not shown; bare numbers end in '#'.
    assert decode_dtmf("A123D456C") == CallerIdInfo(number="123")
    assert decode_dtmf("4512345678#") == CallerIdInfo(number="4512345678")
    assert decode_dtmf("D2#") == CallerIdInfo(number_absence="O")


@pytest.mark.parametrize(("digits", "match"), [
    ("A123", "does not end"),
    ("A1*3C", "unexpected"),
    ("B55C", "not 00 or 10"),
    ("D9#", "not 1, 2 or 3"),
    ("AC", "neither number nor reason"),
])
def test_bad_dtmf_strings(digits: str, match: str) -> None:
    with pytest.raises(CallerIdError, match=match):
        decode_dtmf(digits)
