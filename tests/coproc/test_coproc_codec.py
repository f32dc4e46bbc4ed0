"""The host codec against the golden vectors (board/vectors) and against bad input."""

from __future__ import annotations

import binascii
import random
import re
from dataclasses import fields
from typing import Any

import pytest
from coproc_helpers import ROOT, vectors

from drivers.coproc.codec import (
    CRC16_CHECK,
    MAX_ENCODED,
    Frame,
    FrameDecoder,
    cobs_decode,
    cobs_encode,
    crc16,
    encode_frame,
)
from drivers.coproc.errors import FrameError
from drivers.coproc.messages import (
    BY_NAME,
    NAK_BAD_ARG,
    NAK_BAD_PORT,
    DigitEvent,
    FaultEvent,
    Hello,
    HookEvent,
    LoopEvent,
    Message,
    PortStateEvent,
    RingEvent,
    RingStart,
    check_event,
    decode_message,
    frame_of,
)

FRAMES = vectors("frames.json")["frames"]
BY_VECTOR = {v["name"]: v for v in FRAMES}


def message_of(vector: dict[str, Any]) -> Message:
    cls = BY_NAME[vector["type"]]
    args: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = vector["fields"][f.name]
        if f.type == "bool":
            value = bool(value)
        elif isinstance(value, list):
            value = tuple(value)
        args[f.name] = value
    return cls(**args)  # type: ignore[no-any-return]


def test_crc_is_crc16_ibm_3740() -> None:
    spec = vectors("crc.json")
    assert crc16(b"123456789") == CRC16_CHECK == int(spec["check"], 16) == 0x29B1
    for case in spec["cases"]:
        data = case["ascii"].encode()
        assert crc16(data) == int(case["crc"], 16)
        # an independent implementation of the same polynomial (CRC-CCITT, non-reflected)
        assert crc16(data) == binascii.crc_hqx(data, 0xFFFF)


def test_crc_residue_is_zero() -> None:
    rng = random.Random(7)
    for _ in range(50):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        crc = crc16(data)
        assert crc16(data + bytes((crc >> 8, crc & 0xFF))) == 0


@pytest.mark.parametrize("case", vectors("cobs.json")["cases"], ids=lambda c: c["data"][:12])
def test_cobs_vectors(case: dict[str, str]) -> None:
    data, encoded = bytes.fromhex(case["data"]), bytes.fromhex(case["encoded"])
    assert cobs_encode(data) == encoded
    assert cobs_decode(encoded) == data
    assert 0 not in encoded


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["name"])
def test_golden_frame_encodes(vector: dict[str, Any]) -> None:
    message = message_of(vector)
    assert encode_frame(frame_of(message, vector["seq"], vector["ack"])).hex() == vector["wire"]


@pytest.mark.parametrize("vector", FRAMES, ids=lambda v: v["name"])
def test_golden_frame_decodes(vector: dict[str, Any]) -> None:
    frames = FrameDecoder().feed(bytes.fromhex(vector["wire"]))
    assert len(frames) == 1
    frame = frames[0]
    assert (frame.seq, frame.ack) == (vector["seq"], vector["ack"])
    assert frame.sequenced == (frame.type >= 0x10)
    assert decode_message(frame) == message_of(vector)


def test_the_spec_worked_example_is_the_vector() -> None:
    text = (ROOT / "board" / "PROTOCOL.md").read_text()
    wire = re.search(r"^wire\s+((?:[0-9a-f]{2} ?)+)$", text, re.M)
    assert wire is not None
    assert wire.group(1).replace(" ", "") == BY_VECTOR["ring_start_us"]["wire"]


@pytest.mark.parametrize("stream", vectors("streams.json")["streams"], ids=lambda s: s["name"])
def test_resynchronisation_streams(stream: dict[str, Any]) -> None:
    decoder = FrameDecoder()
    got: list[Frame] = []
    for chunk in stream["chunks"]:
        got.extend(decoder.feed(bytes.fromhex(chunk)))
    want = [FrameDecoder().feed(bytes.fromhex(BY_VECTOR[n]["wire"]))[0]
            for n in stream["frames"]]
    assert got == want


def test_garbage_is_counted_and_never_hides_the_next_frame() -> None:
    rng = random.Random(1)
    good = bytes.fromhex(BY_VECTOR["digit_3"]["wire"])
    decoder = FrameDecoder()
    for _ in range(200):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        frames = decoder.feed(garbage + good)
        assert frames[-1] == FrameDecoder().feed(good)[0]
    assert decoder.stats.dropped > 0
    assert decoder.stats.frames >= 200


def test_every_truncation_is_dropped_and_the_following_frame_survives() -> None:
    good = bytes.fromhex(BY_VECTOR["hello_sso"]["wire"])
    nxt = bytes.fromhex(BY_VECTOR["ring_on"]["wire"])
    for cut in range(2, len(good) - 1):
        decoder = FrameDecoder()
        frames = decoder.feed(good[:cut] + nxt)
        assert [decode_message(f).NAME for f in frames] == ["RING"], cut


def test_every_single_bit_error_is_caught() -> None:
    good = bytes.fromhex(BY_VECTOR["ring_start_uk"]["wire"])
    for i in range(1, len(good) - 1):
        for bit in range(8):
            bad = bytearray(good)
            bad[i] ^= 1 << bit
            assert FrameDecoder().feed(bytes(bad)) == [], (i, bit)


def test_a_run_longer_than_the_limit_is_discarded_until_a_delimiter() -> None:
    decoder = FrameDecoder()
    good = bytes.fromhex(BY_VECTOR["flash"]["wire"])
    assert decoder.feed(b"\x07" * (MAX_ENCODED + 10)) == []
    assert decoder.feed(b"\x07" * 5000) == []
    assert len(decoder.feed(good)) == 1
    assert decoder.stats.overflow == 1


def test_bad_bodies_are_frame_errors() -> None:
    with pytest.raises(FrameError):
        decode_message(Frame(0x20, 0, 0, b"\x00\x01"))  # HOOK too short
    with pytest.raises(FrameError):
        decode_message(Frame(0x12, 0, 0, b"\x00\xd0\x07\x03\x01\x00"))  # count says 3 steps
    with pytest.raises(FrameError):
        decode_message(Frame(0x7E, 0, 0, b""))  # unknown type
    with pytest.raises(FrameError):
        Hello.decode_body(bytes.fromhex("01efbe00"))
    with pytest.raises(FrameError):
        encode_frame(frame_of(RingStart(0, 70000, (1, 1))))  # freq does not fit u16


@pytest.mark.parametrize(("event", "reason"), [
    (HookEvent(0, 1, True), 0),
    (HookEvent(2, 1, True), NAK_BAD_PORT),  # the FXO port does not give HOOK
    (HookEvent(3, 1, True), NAK_BAD_PORT),  # no port 3
    (LoopEvent(2, 1, True), 0),
    (LoopEvent(1, 1, True), NAK_BAD_PORT),
    (PortStateEvent(2, 1, 3), 0),
    (FaultEvent(0xFF, 1, 1, 3), 0),
    (FaultEvent(9, 1, 1, 3), NAK_BAD_PORT),
    (DigitEvent(0, 1, "0", 10), 0),
    (DigitEvent(0, 1, "X", 1), NAK_BAD_ARG),
    (DigitEvent(0, 1, "5", 0), NAK_BAD_ARG),
    (DigitEvent(0, 1, "5", 11), NAK_BAD_ARG),
    (RingEvent(1, 1, False, 3), 0),
    (RingEvent(1, 1, False, 4), NAK_BAD_ARG),
], ids=repr)
def test_which_events_the_host_refuses(event: Any, reason: int) -> None:
    assert check_event(event, (0, 0, 1)) == reason
