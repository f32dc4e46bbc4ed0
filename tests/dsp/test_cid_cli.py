"""`minipbx signal generate cid|mwi` and `minipbx signal detect cid` (firmware.app.signal_cid).

Run through firmware.app.cli.main when the `signal` command is wired (signal_cmd.py);
until then through a parser built here from the same add_*_parsers functions.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware.app.signal_cid import add_cid_detect_parsers, add_cid_generate_parsers
from firmware.dsp.callerid import CallerIdInfo
from firmware.dsp.cid_gen import GR30_MARK_BITS, GR30_SEIZURE_BITS, fsk_burst, fsk_cid, silence
from firmware.dsp.fsk import BELL202
from firmware.media.wavfile import read_wav, write_wav

CLI_WIRED = importlib.util.find_spec("firmware.app.signal_cmd") is not None


def _own_parser() -> Callable[[list[str]], int]:
    parser = argparse.ArgumentParser(prog="minipbx")
    signal = parser.add_subparsers().add_parser("signal").add_subparsers()
    add_cid_generate_parsers(signal.add_parser("generate").add_subparsers())
    add_cid_detect_parsers(signal.add_parser("detect").add_subparsers())

    def run(argv: list[str]) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))
    return run


def minipbx(*argv: str) -> int:
    if CLI_WIRED:
        from firmware.app.cli import main
        return main(list(argv))
    return _own_parser()(list(argv))


def test_generate_and_detect_bell202_mdmf(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "cid.wav"
    assert minipbx("signal", "generate", "cid", "--standard", "bell202", "--number",
                   "5551234567", "--name", "ALICE", "--datetime", "01021230",
                   "-o", str(wav)) == 0
    assert "after first ring" in capsys.readouterr().out
    assert len(read_wav(wav).samples) > 8000
    assert minipbx("signal", "detect", "cid", str(wav)) == 0
    out = capsys.readouterr().out
    assert "number: 5551234567" in out
    assert "name: ALICE" in out
    assert "datetime: 01021230" in out
    assert "standard: bell202" in out


@pytest.mark.parametrize(("extra", "expect"), [
    (["--standard", "v23", "--alert", "dtmf-alert", "--number", "0301234567"],
     {"standard": "v23", "number": "0301234567"}),
    (["--standard", "v23", "--alert", "ring-pulse", "--reason", "private"],
     {"standard": "v23", "number_absent": "private", "name_absent": "private"}),
    (["--standard", "bell202", "--format", "sdmf", "--reason", "unavailable"],
     {"message": "SDMF caller ID", "number_absent": "unavailable"}),
    (["--standard", "dtmf", "--number", "9876543210", "--alert", "polarity"],
     {"standard": "dtmf", "number": "9876543210", "raw": "A9876543210C"}),
    (["--standard", "dtmf", "--dtmf-format", "a-hash", "--reason", "private"],
     {"standard": "dtmf", "number_absent": "private", "raw": "D1#"}),
    (["--standard", "dtmf", "--dtmf-format", "d-c", "--number", "12345"],
     {"raw": "D12345C"}),
])
def test_variants_round_trip_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     extra: list[str], expect: dict[str, str]) -> None:
    wav = tmp_path / "cid.wav"
    assert minipbx("signal", "generate", "cid", *extra, "--datetime", "06151045",
                   "-o", str(wav)) == 0
    capsys.readouterr()
    assert minipbx("signal", "detect", "cid", str(wav), "--json") == 0
    fields = json.loads(capsys.readouterr().out)
    for key, value in expect.items():
        assert fields[key] == value


@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize("state", ["on", "off"])
def test_mwi(tmp_path: Path, capsys: pytest.CaptureFixture[str], standard: str,
             state: str) -> None:
    wav = tmp_path / "mwi.wav"
    assert minipbx("signal", "generate", "mwi", "--standard", standard, f"--{state}",
                   "-o", str(wav)) == 0
    capsys.readouterr()
    assert minipbx("signal", "detect", "cid", str(wav), "--standard", standard) == 0
    out = capsys.readouterr().out
    assert f"mwi: {state}" in out
    assert "MDMF message waiting" in out


def _one_line_error(capsys: pytest.CaptureFixture[str], *words: str) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_detect_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert minipbx("signal", "detect", "cid", str(tmp_path / "nope.wav")) == 2
    _one_line_error(capsys, "nope.wav")


def test_detect_not_a_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")
    assert minipbx("signal", "detect", "cid", str(text)) == 2
    _one_line_error(capsys, "notes.wav")


def test_detect_truncated_wav(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "cut.wav"
    write_wav(wav, fsk_cid(CallerIdInfo(number="123"), "bell202").samples)
    wav.write_bytes(wav.read_bytes()[:3000])
    assert minipbx("signal", "detect", "cid", str(wav)) == 2
    _one_line_error(capsys, "cut.wav")


def test_detect_silence_is_no_carrier(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "quiet.wav"
    write_wav(wav, np.zeros(16000, dtype=np.int16))
    assert minipbx("signal", "detect", "cid", str(wav)) == 1
    _one_line_error(capsys, "no FSK or DTMF caller ID")


def test_detect_checksum_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = bytearray(fsk_cid(CallerIdInfo(number="123", name="X"), "bell202").payload)
    message[-1] ^= 0xFF
    wav = tmp_path / "bad.wav"
    write_wav(wav, np.concatenate([silence(300), fsk_burst(bytes(message), BELL202,
                                   GR30_SEIZURE_BITS, GR30_MARK_BITS), silence(300)]))
    assert minipbx("signal", "detect", "cid", str(wav)) == 1
    _one_line_error(capsys, "checksum")


@pytest.mark.parametrize(("args", "words"), [
    (["--standard", "bell202", "--number", "1", "--datetime", "1234"], ["8 digits"]),
    (["--standard", "bell202", "--number", "1", "--datetime", "13450000"], ["MMDDHHMM"]),
    (["--standard", "bell202", "--format", "sdmf", "--number", "1", "--name", "X"],
     ["SDMF", "mdmf"]),
    (["--standard", "bell202", "--datetime", "01010000"], ["--number", "--reason"]),
    (["--standard", "dtmf", "--number", "+4930"], ["digits only"]),
    (["--standard", "dtmf", "--number", "1", "--name", "X"], ["no name"]),
])
def test_bad_arguments_give_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           args: list[str], words: list[str]) -> None:
    wav = tmp_path / "x.wav"
    assert minipbx("signal", "generate", "cid", *args, "-o", str(wav)) == 2
    _one_line_error(capsys, *words)
    assert not wav.exists()


def test_unknown_choice_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        minipbx("signal", "generate", "cid", "--standard", "bell103", "-o", "x.wav")
    assert exit_info.value.code == 2
    assert "bell103" in capsys.readouterr().err
