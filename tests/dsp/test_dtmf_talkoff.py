"""Talk-off: speech and music must not make digits. Ours may not be worse than spandsp.

Speech is synthesised by espeak-ng in several languages and voices (Amharic included)
and read back through read_wav (22.05 kHz to 8 kHz); music is synthetic: chords of
harmonic-rich notes and pairs of slow frequency sweeps. Both detectors see the same
samples at three gains; the counts are printed (pytest -s).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.dtmf import detect_dtmf
from firmware.dsp.levels import dbm0_to_amplitude, to_int16
from firmware.media.wavfile import read_wav
from tests.ref.spandsp_dtmf import spandsp_detect

FS = 8000
TEXT = {
    "en": "One two three four five six seven eight nine zero. Hello operator, please "
          "connect me to extension four hundred and twenty. Thank you, goodbye.",
    "de": "Eins zwei drei vier fuenf sechs sieben acht neun null. Guten Tag, bitte "
          "verbinden Sie mich mit der Zentrale. Vielen Dank und auf Wiederhoeren.",
    "ru": "Один два три четыре пять шесть семь восемь девять ноль. Здравствуйте, "
          "соедините меня, пожалуйста, с бухгалтерией. Спасибо, до свидания.",
    "am": "አንድ ሁለት ሶስት አራት አምስት ስድስት ሰባት ስምንት ዘጠኝ ዜሮ። ጤና ይስጥልኝ፣ እባክዎን "
          "ከቢሮው ጋር ያገናኙኝ። አመሰግናለሁ።",
    "fr": "Un deux trois quatre cinq six sept huit neuf zero. Bonjour, pourriez-vous me "
          "passer le standard, s'il vous plait? Merci beaucoup, au revoir.",
}
VOICES = [("en", []), ("en+f3", ["-p", "70"]), ("de", []), ("ru", []), ("am", []),
          ("fr", ["-s", "120"]), ("en-us", ["-p", "20", "-s", "200"])]
GAINS = (0.5, 1.0, 3.0)


def _count(signal: npt.NDArray[np.float64]) -> tuple[int, int]:
    ours = theirs = 0
    for gain in GAINS:
        pcm = to_int16(signal * gain)
        ours += len(detect_dtmf(pcm))
        theirs += len(spandsp_detect(pcm))
    return ours, theirs


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, npt.NDArray[np.float64]]:
    folder = tmp_path_factory.mktemp("speech")
    clips = {}
    for voice, options in VOICES:
        path: Path = folder / f"{voice}.wav"
        text = TEXT[voice.split("+")[0].split("-")[0]]
        subprocess.run(["espeak-ng", "-v", voice, *options, "-w", str(path), text],
                       check=True, capture_output=True)
        audio = read_wav(path)
        assert audio.converted and audio.original_rate != FS
        clips[voice] = audio.samples.astype(np.float64)
    return clips


def test_speech_gives_no_more_false_digits_than_spandsp(
        speech: dict[str, npt.NDArray[np.float64]]) -> None:
    total_ours = total_theirs = 0
    print()
    for voice, clip in speech.items():
        ours, theirs = _count(clip)
        print(f"talk-off {voice:<6} {clip.size / FS:5.1f} s x{len(GAINS)} gains: "
              f"ours {ours}, spandsp {theirs}")
        total_ours += ours
        total_theirs += theirs
    assert total_ours <= total_theirs


def _chords(seed: int, count: int = 150) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(count):
        t = np.arange(int(rng.integers(60, 400)) * 8) / FS
        notes = rng.choice(np.arange(48, 86), size=int(rng.integers(2, 5)), replace=False)
        x = np.zeros(t.size)
        for note in notes:
            f = 440.0 * 2.0 ** ((note - 69) / 12)
            for k, a in enumerate((1.0, 0.5, 0.33, 0.25, 0.2), start=1):
                if f * k < 3800:
                    x += a * np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6))
        pieces.append(x * np.minimum(1.0, t / 0.01) * dbm0_to_amplitude(-12))
    return np.concatenate(pieces)


def _sweeps(seed: int, count: int = 40) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    pieces = []
    for _ in range(count):
        t = np.arange(int(rng.integers(200, 1500)) * 8) / FS
        (f0, f1), (g0, g1) = rng.uniform(300, 3400, 2), rng.uniform(600, 1700, 2)
        sweep = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * t[-1])))
        sweep2 = np.sin(2 * np.pi * (g0 * t + (g1 - g0) * t * t / (2 * t[-1])))
        pieces.append(dbm0_to_amplitude(-10) * (sweep + rng.uniform(0.3, 1) * sweep2))
    return np.concatenate(pieces)


def test_music_gives_no_more_false_digits_than_spandsp() -> None:
    print()
    for name, signal in (("chords", _chords(1)), ("sweeps", _sweeps(4))):
        ours, theirs = _count(signal)
        print(f"talk-off {name:<6} {signal.size / FS:5.1f} s x{len(GAINS)} gains: "
              f"ours {ours}, spandsp {theirs}")
        assert ours <= theirs
