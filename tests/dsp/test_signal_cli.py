"""`minipbx signal generate|detect dtmf|tone` through cli.main and through the installed
command (error paths: exit code 2 and one line on stderr, never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.app.cli import main
from firmware.media.wavfile import read_wav

MINIPBX = Path(sys.executable).with_name("minipbx")


def test_generate_and_detect_dtmf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "d.wav"
    assert main(["signal", "generate", "dtmf", "159#", "-o", str(wav), "--on", "80",
                 "--off", "60", "--level", "-12"]) == 0
    assert read_wav(wav).samples.size == 4 * 140 * 8
    capsys.readouterr()
    assert main(["signal", "detect", "dtmf", str(wav)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "5", "9", "#"]
    assert main(["signal", "detect", "dtmf", str(wav), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [d["digit"] for d in found] == list("159#")
    assert abs(found[1]["start_ms"] - 140) <= 13 and abs(found[1]["duration_ms"] - 80) <= 13


def test_generate_and_detect_tone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "t.wav"
    assert main(["signal", "generate", "tone", "--country", "ru", "congestion", "-o", str(wav),
                 "--seconds", "3"]) == 0
    capsys.readouterr()
    assert main(["signal", "detect", "tone", "--country", "ru", str(wav), "--json"]) == 0
    assert [s["tone"] for s in json.loads(capsys.readouterr().out)] == ["congestion"]
    assert main(["signal", "detect", "tone", "--country", "ru", str(wav)]) == 0
    assert capsys.readouterr().out.split()[0] == "congestion"


def test_converted_input_is_announced_and_nothing_found_is_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav = tmp_path / "s.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(wav), "synth", "0.5", "sine",
                    "300"], check=True)
    assert main(["signal", "detect", "dtmf", str(wav)]) == 1
    err = capsys.readouterr().err
    assert "converted 44100 Hz stereo" in err and "8000 Hz mono" in err


def test_bad_digits_and_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    assert main(["signal", "generate", "dtmf", "12X", "-o", str(tmp_path / "x.wav")]) == 2
    assert "not a DTMF key" in capsys.readouterr().err
    assert main(["signal", "generate", "dtmf", "12", "-o", str(tmp_path / "no" / "x.wav")]) == 2
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "not-wav", "truncated"])
def test_installed_command_error_path(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.wav"
    if kind == "not-wav":
        path.write_text("hello")
    elif kind == "truncated":
        good = tmp_path / "good.wav"
        assert main(["signal", "generate", "dtmf", "1", "-o", str(good)]) == 0
        path.write_bytes(good.read_bytes()[:500])
    for argv in (["detect", "dtmf", str(path)], ["detect", "tone", "--country", "us", str(path)]):
        done = subprocess.run([str(MINIPBX), "signal", *argv], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2
        assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
        assert str(path) in done.stderr
