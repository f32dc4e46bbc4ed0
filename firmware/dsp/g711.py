"""ITU-T G.711 mu-law and A-law companding on numpy arrays (no audioop).

Rules:

- Linear samples are int16. mu-law works on the top 14 bits, A-law on the top 13 bits:
  the low bits are dropped on encoding, and decoding returns the middle of each
  quantisation interval scaled back to 16 bits (mu-law peaks at ±32124, A-law at
  ±32256), as G.711 and every common implementation (spandsp, sox) do.
- mu-law: add the bias MULAW_BIAS (33 in 14-bit units), find the segment (exponent) by
  the highest set bit, keep four mantissa bits, and invert all bits (so silence is 0xFF).
  A-law: segments by the highest set bit of the 13-bit magnitude, four mantissa bits,
  and even bits inverted (XOR 0x55; silence is 0xD5 / 0x55).
- A negative 16-bit sample enters mu-law as its magnitude and A-law as its one's
  complement (-x - 1), exactly as spandsp does (sox truncates toward minus infinity
  instead, which moves some negative samples one code).
- Encoding and decoding are table look-ups built once from those rules; the tables are
  checked in the tests against spandsp (all 65536 inputs, all 256 codes), sox's decoder
  and G.711's digital milliwatt.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MULAW_BIAS = 0x84  # 33 << 2: the bias in 16-bit units
MULAW_CLIP = 32635  # largest magnitude that does not overflow after the bias
ALAW_XOR = 0x55
# G.711 Tables 5 and 6: one period of the 1 kHz digital milliwatt (0 dBm0).
MULAW_DIGITAL_MILLIWATT = (0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E)
ALAW_DIGITAL_MILLIWATT = (0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4)


def _segment(magnitude: npt.NDArray[np.int32], first_top: int) -> npt.NDArray[np.int32]:
    """Segment number: how many of first_top, 2*first_top, ... 64*first_top are reached."""
    seg = np.zeros(magnitude.shape, dtype=np.int32)
    for level in range(1, 8):
        seg += (magnitude >= (first_top << (level - 1))).astype(np.int32)
    return seg


def _mulaw_encode_all() -> npt.NDArray[np.uint8]:
    x = np.arange(-32768, 32768, dtype=np.int32)
    negative = x < 0
    magnitude = np.minimum(np.abs(x), MULAW_CLIP) + MULAW_BIAS
    exponent = _segment(magnitude, 0x100)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    code = (negative.astype(np.int32) << 7) | (exponent << 4) | mantissa
    return (~code & 0xFF).astype(np.uint8)


def _mulaw_decode_all() -> npt.NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS
    return np.where(code & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_encode_all() -> npt.NDArray[np.uint8]:
    x = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit
    positive = x >= 0
    magnitude = np.where(positive, x, -x - 1)
    seg = _segment(magnitude, 0x20)
    mantissa = np.where(seg < 2, magnitude >> 1, magnitude >> seg) & 0x0F
    code = (seg << 4) | mantissa | (positive.astype(np.int32) << 7)
    return (code ^ ALAW_XOR).astype(np.uint8)


def _alaw_decode_all() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ ALAW_XOR
    seg = (code >> 4) & 0x07
    mantissa = code & 0x0F
    base = (mantissa << 4) + np.where(seg == 0, 8, 0x108)
    magnitude = np.where(seg > 1, base << np.maximum(seg - 1, 0), base)
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


_MULAW_ENCODE = _mulaw_encode_all()
_MULAW_DECODE = _mulaw_decode_all()
_ALAW_ENCODE = _alaw_encode_all()
_ALAW_DECODE = _alaw_decode_all()


def _as_index(samples: npt.ArrayLike) -> npt.NDArray[np.int32]:
    pcm = np.asarray(samples)
    if pcm.dtype != np.int16:
        pcm = np.clip(np.rint(pcm.astype(np.float64)), -32768, 32767)
    return pcm.astype(np.int32) + 32768


def linear_to_mulaw(samples: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """int16 (or float in int16 units, rounded and saturated) to mu-law bytes."""
    result: npt.NDArray[np.uint8] = _MULAW_ENCODE[_as_index(samples)]
    return result


def mulaw_to_linear(codes: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """mu-law bytes (uint8 array or bytes) to int16."""
    result: npt.NDArray[np.int16] = _MULAW_DECODE[_as_codes(codes)]
    return result


def linear_to_alaw(samples: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """int16 (or float in int16 units, rounded and saturated) to A-law bytes."""
    result: npt.NDArray[np.uint8] = _ALAW_ENCODE[_as_index(samples)]
    return result


def alaw_to_linear(codes: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """A-law bytes (uint8 array or bytes) to int16."""
    result: npt.NDArray[np.int16] = _ALAW_DECODE[_as_codes(codes)]
    return result


def _as_codes(codes: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    if isinstance(codes, bytes | bytearray | memoryview):
        return np.frombuffer(codes, dtype=np.uint8)
    return np.asarray(codes).astype(np.uint8)
