"""Caller ID against independent decoders and generators: spandsp (ctypes) and minimodem.

Every variant we generate must decode in spandsp's ADSI receiver with the right fields
(and the Bell 202 and V.23 ones in minimodem); caller ID spandsp generates must decode
in ours.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.callerid import CallerIdInfo
from firmware.dsp.cid_gen import (
    CidSignal,
    call_waiting_cid,
    dtmf_cid,
    fsk_cid,
    mwi_signal,
    sin227_cid,
)
from firmware.dsp.cid_rx import decode_cid
from tests.ref.spandsp_adsi import (
    ADSI_STANDARD_CLASS,
    ADSI_STANDARD_CLIP,
    ADSI_STANDARD_CLIP_DTMF,
    spandsp_decode,
    spandsp_generate,
)

FULL = CallerIdInfo(number="5551234567", name="ALICE SMITH", datetime="01021230")
SDMF = CallerIdInfo(number="5551234567", datetime="01021230")
PRIVATE = CallerIdInfo(number_absence="P", name_absence="P", datetime="12312359")
UNAVAILABLE = CallerIdInfo(number_absence="O", name_absence="O", datetime="07040900")

MDMF_FULL_FIELDS = [(0x80, b""), (0x01, b"01021230"), (0x02, b"5551234567"),
                    (0x07, b"ALICE SMITH")]
SPANDSP_FSK = {"bell202": ADSI_STANDARD_CLASS, "v23": ADSI_STANDARD_CLIP}

FSK_CASES: list[tuple[str, CidSignal, list[tuple[int, bytes]]]] = [
    ("bell202-mdmf", fsk_cid(FULL, "bell202"), MDMF_FULL_FIELDS),
    ("bell202-sdmf", fsk_cid(SDMF, "bell202", fmt="sdmf"),
     [(0x04, b""), (0, b"010212305551234567")]),
    ("bell202-sdmf-private", fsk_cid(CallerIdInfo(number_absence="P", datetime="01021230"),
                                     "bell202", fmt="sdmf"), [(0x04, b""), (0, b"01021230P")]),
    ("bell202-sdmf-unavailable",
     fsk_cid(CallerIdInfo(number_absence="O", datetime="01021230"), "bell202", fmt="sdmf"),
     [(0x04, b""), (0, b"01021230O")]),
    ("bell202-mdmf-private", fsk_cid(PRIVATE, "bell202"),
     [(0x80, b""), (0x01, b"12312359"), (0x04, b"P"), (0x08, b"P")]),
    ("bell202-mdmf-unavailable", fsk_cid(UNAVAILABLE, "bell202"),
     [(0x80, b""), (0x01, b"07040900"), (0x04, b"O"), (0x08, b"O")]),
    ("bell202-mdmf-name-only", fsk_cid(CallerIdInfo(name="BOB"), "bell202"),
     [(0x80, b""), (0x07, b"BOB")]),
    ("v23-after-ring", fsk_cid(FULL, "v23"), MDMF_FULL_FIELDS),
    ("v23-polarity", fsk_cid(FULL, "v23", alert="polarity_reversal"), MDMF_FULL_FIELDS),
    ("v23-dtas", fsk_cid(FULL, "v23", alert="polarity_reversal_dual_tone"), MDMF_FULL_FIELDS),
    ("v23-ring-pulse", fsk_cid(FULL, "v23", alert="ring_pulse"), MDMF_FULL_FIELDS),
    ("v23-private", fsk_cid(PRIVATE, "v23", alert="polarity_reversal_dual_tone"),
     [(0x80, b""), (0x01, b"12312359"), (0x04, b"P"), (0x08, b"P")]),
    ("sin227", sin227_cid(FULL), MDMF_FULL_FIELDS),
    ("bell202-mwi-sdmf-on", mwi_signal(True, "bell202", fmt="sdmf"), [(0x06, b""), (0, b"BBB")]),
    ("bell202-mwi-sdmf-off", mwi_signal(False, "bell202", fmt="sdmf"),
     [(0x06, b""), (0, b"ooo")]),
    ("bell202-mwi-mdmf-on", mwi_signal(True, "bell202"), [(0x82, b""), (0x0B, b"\xff")]),
    ("bell202-mwi-mdmf-off", mwi_signal(False, "bell202"), [(0x82, b""), (0x0B, b"\x00")]),
    ("v23-mwi-mdmf-on", mwi_signal(True, "v23"), [(0x82, b""), (0x0B, b"\xff")]),
    ("v23-mwi-mdmf-off", mwi_signal(False, "v23"), [(0x82, b""), (0x0B, b"\x00")]),
    ("v23-mwi-sdmf-on", mwi_signal(True, "v23", fmt="sdmf"), [(0x06, b""), (0, b"BBB")]),
    ("bell202-call-waiting", call_waiting_cid(FULL, "bell202"), MDMF_FULL_FIELDS),
    ("v23-call-waiting", call_waiting_cid(FULL, "v23"), MDMF_FULL_FIELDS),
]

DTMF_CASES: list[tuple[str, CidSignal, list[tuple[int, bytes]]]] = [
    ("A-C", dtmf_cid(CallerIdInfo(number="0123456789")),
     [(ord("C"), b""), (ord("A"), b"0123456789")]),
    ("A-hash", dtmf_cid(CallerIdInfo(number="0123456789"), fmt="A_HASH"),
     [(ord("#"), b""), (ord("A"), b"0123456789")]),
    ("D-C", dtmf_cid(CallerIdInfo(number="0123456789"), fmt="D_C"),
     [(ord("C"), b""), (ord("D"), b"0123456789")]),
    ("B00C", dtmf_cid(CallerIdInfo(number_absence="O")), [(ord("C"), b""), (ord("B"), b"00")]),
    ("B10C", dtmf_cid(CallerIdInfo(number_absence="P"), fmt="D_C"),
     [(ord("C"), b""), (ord("B"), b"10")]),
    ("D1#", dtmf_cid(CallerIdInfo(number_absence="P"), fmt="A_HASH"),
     [(ord("#"), b""), (ord("D"), b"1")]),
    ("D3#", dtmf_cid(CallerIdInfo(number_absence="O"), fmt="A_HASH"),
     [(ord("#"), b""), (ord("D"), b"3")]),
    ("india-polarity", dtmf_cid(CallerIdInfo(number="9876543210"), alert="polarity_reversal"),
     [(ord("C"), b""), (ord("A"), b"9876543210")]),
    ("dtas", dtmf_cid(CallerIdInfo(number="12345"), alert="polarity_reversal_dual_tone"),
     [(ord("C"), b""), (ord("A"), b"12345")]),
]


@pytest.mark.parametrize(("name", "signal", "fields"), FSK_CASES, ids=[c[0] for c in FSK_CASES])
def test_our_fsk_decodes_in_spandsp(name: str, signal: CidSignal,
                                    fields: list[tuple[int, bytes]]) -> None:
    assert spandsp_decode(signal.samples, SPANDSP_FSK[signal.standard]) == [fields]


@pytest.mark.parametrize(("name", "signal", "fields"), DTMF_CASES, ids=[c[0] for c in DTMF_CASES])
def test_our_dtmf_decodes_in_spandsp(name: str, signal: CidSignal,
                                     fields: list[tuple[int, bytes]]) -> None:
    assert spandsp_decode(signal.samples, ADSI_STANDARD_CLIP_DTMF) == [fields]


@pytest.mark.parametrize(("name", "signal", "fields"), FSK_CASES + DTMF_CASES,
                         ids=[c[0] for c in FSK_CASES + DTMF_CASES])
def test_our_signals_decode_in_ours(name: str, signal: CidSignal,
                                    fields: list[tuple[int, bytes]]) -> None:
    result = decode_cid(signal.samples, "auto")
    assert result.standard == signal.standard
    assert result.raw == signal.payload


def _spandsp_message(fields: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(bytes([k, len(v)]) + v for k, v in fields)
    return bytes([0x80, len(body)]) + body


@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize(("seizure", "marks"), [(-1, -1), (300, 180), (0, 80)])
def test_spandsp_fsk_decodes_in_ours(standard: str, seizure: int, marks: int) -> None:
    message = _spandsp_message([(0x01, b"03141559"), (0x02, b"0201234567"),
                                (0x07, b"SPANDSP")])
    samples = spandsp_generate(message, SPANDSP_FSK[standard], seizure, marks)
    result = decode_cid(samples, "auto")
    assert result.info == CallerIdInfo(number="0201234567", name="SPANDSP", datetime="03141559")
    assert result.standard == standard
    assert result.raw[:-1] == message


@pytest.mark.parametrize("body", [b"\x42\x42\x42", b"\x6f\x6f\x6f"])
def test_spandsp_sdmf_mwi_decodes_in_ours(body: bytes) -> None:
    samples = spandsp_generate(bytes([0x06, 3]) + body, ADSI_STANDARD_CLASS)
    assert decode_cid(samples, "bell202").mwi is (body == b"BBB")


def test_spandsp_sdmf_decodes_in_ours() -> None:
    samples = spandsp_generate(b"\x04\x00" + b"1225080012345", ADSI_STANDARD_CLASS)
    info = decode_cid(samples, "bell202").info
    assert info == CallerIdInfo(number="12345", datetime="12250800")


@pytest.mark.parametrize(("digits", "info"), [
    (b"A0123456789C", CallerIdInfo(number="0123456789")),
    (b"A0123456789#", CallerIdInfo(number="0123456789")),
    (b"D0123456789C", CallerIdInfo(number="0123456789")),
    (b"B10C", CallerIdInfo(number_absence="P")),
    (b"D3#", CallerIdInfo(number_absence="O")),
])
def test_spandsp_dtmf_decodes_in_ours(digits: bytes, info: CallerIdInfo) -> None:
    samples = spandsp_generate(digits, ADSI_STANDARD_CLIP_DTMF)
    result = decode_cid(samples, "dtmf")
    assert result.info == info
    assert result.raw == digits


# minimodem --------------------------------------------------------------------------

needs_minimodem = pytest.mark.skipif(shutil.which("minimodem") is None,
                                     reason="minimodem is not installed")


def _wav(path: Path, samples: npt.NDArray[np.int16]) -> Path:
    # Written with the standard library, independently of our own WAV writer.
    quiet = np.zeros(4000, dtype=np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.concatenate([quiet, samples, quiet]).astype("<i2").tobytes())
    return path


def _minimodem(*args: str) -> bytes:
    done = subprocess.run(["minimodem", "--rx", *args, "-q"], capture_output=True,
                          timeout=20, check=True)
    return done.stdout


BELL_CASES = [c for c in FSK_CASES if c[1].standard == "bell202"]


@needs_minimodem
@pytest.mark.parametrize(("name", "signal", "fields"), BELL_CASES,
                         ids=[c[0] for c in BELL_CASES])
def test_bell202_bytes_in_minimodem(tmp_path: Path, name: str, signal: CidSignal,
                                    fields: list[tuple[int, bytes]]) -> None:
    wav = _wav(tmp_path / "cid.wav", signal.samples)
    assert _minimodem("1200", "-f", str(wav)).endswith(signal.payload)


@needs_minimodem
def test_v23_bytes_in_minimodem(tmp_path: Path) -> None:
    signal = fsk_cid(FULL, "v23", alert="polarity_reversal_dual_tone")
    wav = _wav(tmp_path / "cid.wav", signal.samples)
    out = _minimodem("1200", "--mark", "1300", "--space", "2100", "-f", str(wav))
    assert out.endswith(signal.payload)


@needs_minimodem
@pytest.mark.parametrize(("signal", "lines"), [
    (fsk_cid(FULL, "bell202"), ["Time:  01/02 12:30", "Phone: 555-123-4567",
                                "Name:  ALICE SMITH"]),
    (fsk_cid(SDMF, "bell202", fmt="sdmf"), ["Time:  01/02 12:30", "Phone: 555-123-4567"]),
], ids=["mdmf", "sdmf"])
def test_bell202_callerid_in_minimodem(tmp_path: Path, signal: CidSignal,
                                       lines: list[str]) -> None:
    wav = _wav(tmp_path / "cid.wav", signal.samples)
    text = _minimodem("callerid", "-f", str(wav)).decode()
    for line in lines:
        assert line in text
