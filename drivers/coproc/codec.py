"""Framing of the co-processor link (board/PROTOCOL.md section 2), sans-IO.

Bytes in, :class:`Frame` values out, and back. A frame on the wire is
``0x00 COBS(payload + CRC-16/IBM-3740 big-endian) 0x00``; the payload is
``type u8, seq u8, ack u8, body``.

Rules:

* Every failure (bad COBS, bad CRC, too short, too long without a delimiter) drops that
  frame only and is counted in :class:`DecoderStats`; the decoder is back in sync at the
  next 0x00, so garbage and truncated frames never hide the frames after them.
* Empty frames (two delimiters in a row) are normal and silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.coproc.errors import FrameError

CRC16_POLY = 0x1021
CRC16_INIT = 0xFFFF
CRC16_CHECK = 0x29B1  # CRC-16/IBM-3740 of b"123456789"
DELIMITER = 0x00
HEADER_LEN = 3
CRC_LEN = 2
MAX_BODY = 64
MAX_ENCODED = 254  # a receiver drops longer runs without a delimiter
SEQUENCED_MIN_TYPE = 0x10


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ CRC16_POLY) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes, crc: int = CRC16_INIT) -> int:
    """CRC-16/IBM-3740 (CCITT-FALSE): poly 0x1021, init 0xFFFF, no reflection, no xorout."""
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing (canonical form): the result has no 0x00 byte."""
    out = bytearray()
    block = bytearray()
    for i, byte in enumerate(data):
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254 and i != len(data) - 1:
            out.append(255)
            out += block
            block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """The inverse of :func:`cobs_encode`; raises :class:`FrameError` on a bad encoding."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("COBS data contains 0x00")
        end = i + code
        if end > n:
            raise FrameError(f"COBS block of {code - 1} bytes runs past the end")
        out += data[i + 1:end]
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    """One decoded frame: the header fields and the raw body."""

    type: int
    seq: int
    ack: int
    body: bytes = b""

    @property
    def sequenced(self) -> bool:
        return self.type >= SEQUENCED_MIN_TYPE

    def payload(self) -> bytes:
        return bytes((self.type, self.seq, self.ack)) + self.body


def encode_payload(payload: bytes) -> bytes:
    """Wire bytes for one payload: delimiter, COBS(payload + CRC), delimiter."""
    crc = crc16(payload)
    raw = payload + bytes((crc >> 8, crc & 0xFF))
    return b"\x00" + cobs_encode(raw) + b"\x00"


def encode_frame(frame: Frame) -> bytes:
    if len(frame.body) > MAX_BODY:
        raise FrameError(f"frame body of {len(frame.body)} bytes exceeds {MAX_BODY}")
    return encode_payload(frame.payload())


def parse_payload(raw: bytes) -> Frame:
    """Check the CRC of a COBS-decoded frame and split it; raises FrameError."""
    if len(raw) < HEADER_LEN + CRC_LEN:
        raise FrameError(f"frame of {len(raw)} bytes is shorter than header and CRC")
    if crc16(raw) != 0:
        raise FrameError("CRC mismatch")
    return Frame(raw[0], raw[1], raw[2], bytes(raw[HEADER_LEN:-CRC_LEN]))


@dataclass
class DecoderStats:
    frames: int = 0
    bad_cobs: int = 0
    bad_crc: int = 0
    too_short: int = 0
    overflow: int = 0

    @property
    def dropped(self) -> int:
        return self.bad_cobs + self.bad_crc + self.too_short + self.overflow


@dataclass
class FrameDecoder:
    """Feed it bytes as they come; it returns the frames completed by them."""

    stats: DecoderStats = field(default_factory=DecoderStats)
    _buf: bytearray = field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        for byte in data:
            if byte != DELIMITER:
                if self._discarding:
                    continue
                if len(self._buf) >= MAX_ENCODED:
                    self.stats.overflow += 1
                    self._buf.clear()
                    self._discarding = True
                    continue
                self._buf.append(byte)
                continue
            self._discarding = False
            if not self._buf:
                continue
            encoded = bytes(self._buf)
            self._buf.clear()
            frame = self._decode(encoded)
            if frame is not None:
                frames.append(frame)
        return frames

    def _decode(self, encoded: bytes) -> Frame | None:
        try:
            raw = cobs_decode(encoded)
        except FrameError:
            self.stats.bad_cobs += 1
            return None
        if len(raw) < HEADER_LEN + CRC_LEN:
            self.stats.too_short += 1
            return None
        if crc16(raw) != 0:
            self.stats.bad_crc += 1
            return None
        self.stats.frames += 1
        return Frame(raw[0], raw[1], raw[2], bytes(raw[HEADER_LEN:-CRC_LEN]))
