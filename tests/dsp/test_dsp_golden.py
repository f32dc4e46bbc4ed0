"""Golden vectors: a change that alters any generated signal must fail here.

The sha256 of each generator's int16 output (little-endian bytes) is kept in
tests/dsp/golden/golden_signals.json. After a deliberate change, regenerate with

    MINIPBX_REGEN_GOLDEN=1 .venv/bin/pytest tests/dsp/test_dsp_golden.py

and review the diff of the JSON file like any other change.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.g711 import alaw_to_linear, linear_to_alaw, linear_to_mulaw, mulaw_to_linear
from firmware.dsp.profiles import available_profiles, load_profile
from firmware.dsp.tones import TONE_NAMES, generate_tone

GOLDEN = Path(__file__).parent / "golden" / "golden_signals.json"
REGENERATE = os.environ.get("MINIPBX_REGEN_GOLDEN") == "1"
_ALL16 = np.arange(-32768, 32768, dtype=np.int16)
_CODES = np.arange(256, dtype=np.uint8)


def _generators() -> dict[str, Callable[[], npt.NDArray[np.generic]]]:
    gens: dict[str, Callable[[], npt.NDArray[np.generic]]] = {
        "dtmf/default": lambda: generate_dtmf("0123456789*#ABCD"),
        "dtmf/short_quiet": lambda: generate_dtmf("159#", on_ms=45, off_ms=45,
                                                   level_dbm0=-20.0, twist_db=0.0),
        "g711/mulaw_encode": lambda: linear_to_mulaw(_ALL16),
        "g711/mulaw_decode": lambda: mulaw_to_linear(_CODES),
        "g711/alaw_encode": lambda: linear_to_alaw(_ALL16),
        "g711/alaw_decode": lambda: alaw_to_linear(_CODES),
    }
    for code in available_profiles():
        for name in TONE_NAMES:
            gens[f"tone/{code}/{name}"] = (
                lambda c=code, n=name: generate_tone(load_profile(c).tone(n), 2.0))
    return gens


def _digest(signal: npt.NDArray[np.generic]) -> str:
    data = signal.astype(signal.dtype.newbyteorder("<")).tobytes()
    return hashlib.sha256(data).hexdigest()


def test_generators_match_their_golden_vectors() -> None:
    actual = {name: _digest(make()) for name, make in _generators().items()}
    if REGENERATE:
        GOLDEN.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"golden vectors written to {GOLDEN}")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(actual) == sorted(expected), "generators added or removed: regenerate"
    changed = [name for name in actual if actual[name] != expected[name]]
    assert changed == [], f"signals changed: {changed}"
