# Framing of the host link (board/PROTOCOL.md sections 2 and 3), MCU side.
#
# Pure: runs under MicroPython on the RP2040, under MicroPython's WebAssembly port in the
# tests, and under CPython in the co-processor emulator. No typing at run time, no
# dataclasses; constants through micropython.const (the emulator gives CPython a stand-in).
#
# A frame on the wire is 0x00, COBS(payload + CRC-16/IBM-3740 high byte first), 0x00; the
# payload is type, seq, ack, body. A bad frame is dropped alone: the deframer is back in
# sync at the next 0x00.

from micropython import const

VERSION = const(1)

# Link frames
T_HELLO = const(0x01)
T_HELLO_REQ = const(0x02)
T_CONNECT = const(0x03)
T_KEEPALIVE = const(0x04)
T_ACK = const(0x05)
T_NAK = const(0x06)
SEQUENCED = const(0x10)  # types from here on carry a sequence number
# Host commands
T_CFG_FXS = const(0x10)
T_CFG_FXO = const(0x11)
T_RING_START = const(0x12)
T_RING_STOP = const(0x13)
T_POLARITY = const(0x14)
T_FXO_HOOK = const(0x15)
COMMANDS = b"\x10\x11\x12\x13\x14\x15"
# MCU events
T_HOOK = const(0x20)
T_DIGIT = const(0x21)
T_FLASH = const(0x22)
T_RING = const(0x23)
T_FXO_RING = const(0x24)
T_LINE_POLARITY = const(0x25)
T_LOOP = const(0x26)
T_FAULT = const(0x27)
T_PORT_STATE = const(0x28)

# NAK reasons
NAK_OUT_OF_ORDER = const(1)
NAK_UNKNOWN_TYPE = const(2)
NAK_BAD_PORT = const(3)
NAK_BAD_ARG = const(4)
NAK_NOT_CONNECTED = const(5)

# RING reasons
RING_CADENCE = const(0)
RING_STOPPED = const(1)
RING_TRIP = const(2)
RING_WATCHDOG = const(3)

# FAULT codes
FAULT_EVENT_OVERFLOW = const(1)
FAULT_LINE_ALARM = const(2)
FAULT_TICK_OVERRUN = const(3)
BOARD_PORT = const(0xFF)

MAX_ENCODED = const(254)
_CRC_POLY = const(0x1021)


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _CRC_POLY) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc16(data, crc=0xFFFF):
    # CRC-16/IBM-3740: poly 0x1021, init 0xFFFF, no reflection, xorout 0; check 0x29B1.
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc


def cobs_encode(data):
    out = bytearray(b"\x00")  # out[code_at] is the open block's code byte
    code_at = 0
    code = 1
    last = len(data) - 1
    for i, byte in enumerate(data):
        if byte:
            out.append(byte)
            code += 1
            if code < 0xFF or i == last:
                continue
        out[code_at] = code
        code_at = len(out)
        out.append(0)
        code = 1
    out[code_at] = code
    return bytes(out)


def cobs_decode(data):
    # None when the encoding is broken.
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            return None
        out.extend(data[i + 1:end])
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode(ftype, seq, ack, body=b""):
    payload = bytes((ftype, seq, ack)) + body
    crc = crc16(payload)
    return b"\x00" + cobs_encode(payload + bytes((crc >> 8, crc & 0xFF))) + b"\x00"


class Deframer:
    # Feed bytes; get (type, seq, ack, body) tuples of the frames they complete.

    def __init__(self):
        self.buf = bytearray()
        self.discarding = False
        self.errors = 0
        self.frames = 0

    def feed(self, data):
        frames = []
        buf = self.buf
        for byte in data:
            if byte:
                if self.discarding:
                    continue
                if len(buf) >= MAX_ENCODED:
                    self.errors += 1
                    buf[:] = b""
                    self.discarding = True
                    continue
                buf.append(byte)
                continue
            self.discarding = False
            if not buf:
                continue
            raw = cobs_decode(buf)
            buf[:] = b""
            if raw is None or len(raw) < 5 or crc16(raw):
                self.errors += 1
                continue
            self.frames += 1
            frames.append((raw[0], raw[1], raw[2], raw[3:-2]))
        return frames
