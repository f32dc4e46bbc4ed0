"""G.711 against spandsp (every input), sox's decoder, golden values and the digital
milliwatt."""

from __future__ import annotations

import subprocess

import numpy as np

from firmware.dsp.g711 import (
    ALAW_DIGITAL_MILLIWATT,
    MULAW_DIGITAL_MILLIWATT,
    alaw_to_linear,
    linear_to_alaw,
    linear_to_mulaw,
    mulaw_to_linear,
)
from firmware.dsp.levels import signal_dbm0
from tests.ref.spandsp_g711 import G711_ALAW, G711_ULAW, spandsp_decode, spandsp_encode

ALL16 = np.arange(-32768, 32768, dtype=np.int16)
CODES = np.arange(256, dtype=np.uint8)


def test_golden_values() -> None:
    assert list(linear_to_mulaw([0, -1, 32767, -32768, 1000])) == [0xFF, 0x7F, 0x80, 0x00, 0xCE]
    assert list(mulaw_to_linear([0xFF, 0x7F, 0x80, 0x00, 0xCE])) == [0, 0, 32124, -32124, 988]
    assert list(linear_to_alaw([0, -1, 32767, -32768, 1000])) == [0xD5, 0x55, 0xAA, 0x2A, 0xFA]
    assert list(alaw_to_linear([0xD5, 0x55, 0xAA, 0x2A, 0xFA])) == [8, -8, 32256, -32256, 1008]


def test_every_input_matches_spandsp() -> None:
    assert np.array_equal(linear_to_mulaw(ALL16), spandsp_encode(ALL16, G711_ULAW))
    assert np.array_equal(linear_to_alaw(ALL16), spandsp_encode(ALL16, G711_ALAW))
    assert np.array_equal(mulaw_to_linear(CODES), spandsp_decode(CODES, G711_ULAW))
    assert np.array_equal(alaw_to_linear(CODES), spandsp_decode(CODES, G711_ALAW))


def _sox(data: bytes, source: list[str], target: list[str]) -> bytes:
    return subprocess.run(["sox", "-D", "-t", "raw", "-r", "8000", "-c", "1", *source, "-",
                           "-t", "raw", *target, "-"], input=data, capture_output=True,
                          check=True).stdout


def test_decoders_match_sox() -> None:
    # (sox's encoder rounds negative samples differently; spandsp is the encoder reference)
    for law, decode in (("mu-law", mulaw_to_linear), ("a-law", alaw_to_linear)):
        out = _sox(CODES.tobytes(), ["-e", law, "-b", "8"], ["-e", "signed", "-b", "16"])
        assert np.array_equal(decode(CODES), np.frombuffer(out, dtype="<i2"))


def test_round_trip_is_within_half_a_step_and_codes_are_stable() -> None:
    for encode, decode in ((linear_to_mulaw, mulaw_to_linear), (linear_to_alaw, alaw_to_linear)):
        assert np.array_equal(encode(decode(CODES)), encode(decode(CODES)))
        back = decode(encode(ALL16)).astype(np.int32)
        error = np.abs(back - ALL16.astype(np.int32))
        # the step doubles each segment; the worst error is half the top step (plus clip)
        assert error.max() <= 1024 and np.array_equal(decode(encode(decode(CODES))), decode(CODES))


def test_digital_milliwatt_is_0_dbm0_on_our_level_scale() -> None:
    assert abs(signal_dbm0(np.tile(mulaw_to_linear(MULAW_DIGITAL_MILLIWATT), 100))) < 0.1
    assert abs(signal_dbm0(np.tile(alaw_to_linear(ALAW_DIGITAL_MILLIWATT), 100))) < 0.1
