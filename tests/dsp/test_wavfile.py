"""read_wav converts any common WAV to 8 kHz mono int16; write_wav is atomic; bad files
raise WavError with a one-line message naming the file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from firmware.dsp.goertzel import goertzel, power_per_sine
from firmware.dsp.levels import dbm0_to_amplitude, mean_square_to_dbm0
from firmware.media.wavfile import WavError, read_wav, write_wav


def _tone_at(freq: float, rate: int, seconds: float = 1.0, dbm0: float = -10.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return np.rint(dbm0_to_amplitude(dbm0) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _level_at(samples: np.ndarray, freq: float) -> float:
    x = samples[800:-800].astype(np.float64)
    return mean_square_to_dbm0(float(power_per_sine(goertzel(x, [freq], 8000), x.size)[0, 0]))


@pytest.mark.parametrize(("rate", "channels", "encoding"), [
    (44100, 2, ["-e", "signed", "-b", "16"]),
    (16000, 1, ["-e", "signed", "-b", "16"]),
    (48000, 1, ["-e", "signed", "-b", "24"]),
    (22050, 2, ["-e", "unsigned", "-b", "8"]),
    (8000, 1, ["-e", "signed", "-b", "32"]),
    (11025, 1, ["-e", "floating-point", "-b", "32"]),
])
def test_conversions_keep_frequency_and_level(tmp_path: Path, rate: int, channels: int,
                                               encoding: list[str]) -> None:
    source = tmp_path / "in.raw"
    source.write_bytes(_tone_at(1000.0, rate).tobytes())
    wav = tmp_path / "in.wav"
    subprocess.run(["sox", "-D", "-t", "raw", "-r", str(rate), "-e", "signed", "-b", "16",
                    "-c", "1", str(source), *encoding, "-c", str(channels), str(wav)],
                   check=True, capture_output=True)
    audio = read_wav(wav)
    assert audio.samples.dtype == np.int16 and audio.samples.ndim == 1
    assert audio.original_rate == rate and audio.original_channels == channels
    assert audio.converted
    assert abs(audio.samples.size - 8000) <= 1
    tolerance = 0.6 if encoding[-1] == "8" else 0.1
    assert abs(_level_at(audio.samples, 1000.0) - -10.0) < tolerance


def test_resampling_filters_what_would_alias(tmp_path: Path) -> None:
    # 5 kHz is above the new Nyquist frequency; without a low-pass it folds to 3 kHz.
    wav = tmp_path / "high.wav"
    write_wav(wav, _tone_at(5000.0, 44100), rate=44100)
    audio = read_wav(wav)
    assert _level_at(audio.samples, 3000.0) < -60.0


def test_write_then_read_is_exact_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    samples = _tone_at(700.0, 8000, 0.5)
    path = tmp_path / "out.wav"
    write_wav(path, samples)
    write_wav(path, samples)  # replacing an existing file
    audio = read_wav(path)
    assert np.array_equal(audio.samples, samples) and not audio.converted
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def _message(path: Path) -> str:
    with pytest.raises(WavError) as info:
        read_wav(path)
    text = str(info.value)
    assert "\n" not in text and str(path) in text
    assert isinstance(info.value, ValueError)
    return text


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    assert "no such file" in _message(tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_text("this is not audio at all")
    assert "not a WAV file" in _message(junk)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert "not a WAV file" in _message(empty)
    good = tmp_path / "good.wav"
    write_wav(good, _tone_at(440.0, 8000))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:3000])
    assert "truncated" in _message(cut)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(good.read_bytes()[:20])
    assert "truncated" in _message(header_only)
    adpcm = tmp_path / "adpcm.wav"
    data = bytearray(good.read_bytes())
    data[20:22] = (2).to_bytes(2, "little")  # WAVE_FORMAT_ADPCM
    adpcm.write_bytes(bytes(data))
    assert "unsupported" in _message(adpcm)
    assert "cannot read" in _message(tmp_path)
