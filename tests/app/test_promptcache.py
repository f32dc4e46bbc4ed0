"""The prompt cache: WAV uploads of every common shape converted once, espeak-ng builds for
English and Amharic, cache hits, and the errors a commit shows."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from firmware.app.promptcache import (
    MAX_PROMPT_S,
    SHARED_ENV,
    PromptCache,
    PromptMissingError,
    Use,
)
from firmware.app.promptrefs import box_language, languages, prompt_uses
from firmware.media.prompt_texts import BUILTIN_NAMES
from firmware.media.prompts import Piece
from firmware.media.wavfile import WavError, read_wav


def wav_bytes(samples: np.ndarray, rate: int, bits: int = 16, channels: int = 1,
              float_: bool = False) -> bytes:
    """A WAV file made by hand (not by our writer), so the reader is tested on its own."""
    x = np.asarray(samples, dtype=np.float64)
    frames = np.repeat(x[:, None], channels, axis=1)
    if float_:
        body = (frames / 32768.0).astype("<f4").tobytes()
        tag = 3
    elif bits == 8:
        body = (frames / 256.0 + 128).astype(np.uint8).tobytes()
        tag = 1
    elif bits == 16:
        body = frames.astype("<i2").tobytes()
        tag = 1
    elif bits == 24:
        v = (frames * 256).astype("<i4").reshape(-1)
        body = b"".join(int(s).to_bytes(4, "little", signed=True)[:3] for s in v)
        tag = 1
    else:
        body = (frames * 65536).astype("<i4").tobytes()
        tag = 1
    width = bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * width,
                      channels * width, bits)
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(body)) + body)


def tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 8000 * np.sin(2 * np.pi * hz * t)


@pytest.fixture
def cache(tmp_path: Path) -> PromptCache:
    return PromptCache(tmp_path)


@pytest.mark.parametrize(("rate", "bits", "channels", "float_"), [
    (8000, 16, 1, False), (44100, 16, 2, False), (48000, 24, 1, False),
    (16000, 32, 2, False), (22050, 8, 1, False), (11025, 32, 1, True),
])
def test_uploads_of_any_shape_become_8khz_mono(cache: PromptCache, rate: int, bits: int,
                                               channels: int, float_: bool) -> None:
    built = cache.store_upload("tone.wav", wav_bytes(tone(1000, 1.0, rate), rate, bits,
                                                     channels, float_))
    out = read_wav(built.path)
    assert not out.converted and out.original_rate == 8000
    assert abs(out.samples.size - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(out.samples.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 8000 / out.samples.size - 1000) < 5
    assert abs(np.sqrt(np.mean(out.samples.astype(np.float64) ** 2)) - 8000 / np.sqrt(2)) < 600
    # Kept as uploaded, beside the converted piece.
    assert (cache.uploads / "tone.wav").exists()


@pytest.mark.parametrize(("data", "words"), [
    (b"this is no wav at all", "tone.wav: not a WAV file"),
    (wav_bytes(tone(1000, 1.0, 8000), 8000)[:200], "tone.wav: truncated"),
    (wav_bytes(tone(1000, 1.0, 8000), 8000).replace(b"fmt ", b"xxxx"), "before the fmt chunk"),
])
def test_broken_uploads_are_refused_and_not_kept(cache: PromptCache, data: bytes,
                                                 words: str) -> None:
    with pytest.raises(WavError, match=words):
        cache.store_upload("tone.wav", data)
    assert not list(cache.uploads.iterdir())  # nothing half-written left behind


def test_too_long_and_too_big_and_bad_names_are_refused(cache: PromptCache,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("firmware.app.promptcache.MAX_PROMPT_S", 1.0)
    with pytest.raises(WavError, match=r"long.wav: too long: 2 s \(at most 1 s\)"):
        cache.store_upload("long.wav", wav_bytes(tone(500, 2.0, 8000), 8000))
    monkeypatch.setattr("firmware.app.promptcache.MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(WavError, match=r"big\.wav: too big"):
        cache.store_upload("big.wav", wav_bytes(tone(500, 0.5, 8000), 8000))
    with pytest.raises(ValueError, match="plain file name"):
        cache.store_upload("../x.wav", b"")
    assert MAX_PROMPT_S >= 60


def test_a_replaced_upload_is_a_new_piece(cache: PromptCache) -> None:
    first = cache.store_upload("a.wav", wav_bytes(tone(500, 0.5, 8000), 8000))
    second = cache.store_upload("a.wav", wav_bytes(tone(700, 0.7, 8000), 8000))
    assert first.path != second.path
    assert cache.files(["file:a.wav"], "en") == [second.path]
    assert not first.path.exists()  # the old conversion is gone
    (cache.uploads / "a.wav").unlink()
    assert cache.prune_uploads() == 1 and not second.path.exists()


def test_english_and_amharic_builtins_are_spoken_and_then_cache_hits(
        cache: PromptCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_ENV, raising=False)  # espeak-ng itself, not a shared copy
    assert cache.has_voice("en") and cache.has_voice("am")
    assert cache.build([], ["en", "am"]) == []
    made = cache.made
    # Every spoken builtin and ten digits a language; the tune and the beep once.
    assert made == 2 * (len(BUILTIN_NAMES) + 10) + 2
    for lang in ("en", "am"):
        pcm = cache.pcm(["builtin:please_hold", "digits:42"], lang)
        assert len(pcm) == 3
        speech = np.frombuffer(pcm[0], dtype="<i2").astype(np.float64)
        assert 0.4 < speech.size / 8000 < 4.0
        assert 2000 < np.sqrt(np.mean(speech ** 2)) < 4000  # levelled
    # The two languages' words differ, so do their sounds.
    assert cache.pcm(["builtin:goodbye"], "en") != cache.pcm(["builtin:goodbye"], "am")
    hits = cache.hits
    assert cache.build([], ["en", "am"]) == []
    assert cache.made == made and cache.hits == hits + made


def test_say_is_built_once_per_voice_and_text(cache: PromptCache) -> None:
    uses = [Use("menu[main].prompt", "say:am:ለሽያጭ አንድን ይጫኑ")]
    assert cache.build(uses) == []
    assert cache.made == 1
    assert cache.build(uses) == []
    assert cache.made == 1
    assert cache.build([Use("x", "say:am:ለሽያጭ ሁለትን ይጫኑ")]) == []
    assert cache.made == 2


def test_commit_problems_name_the_setting(cache: PromptCache) -> None:
    uses = [Use("menu[main].prompt", "file:welcome.wav"),
            Use("menu[night].prompt", "say:xx:hello"),
            Use("menu[day].prompt", "builtin:nope")]
    problems = cache.build(uses)
    assert problems[0] == ("menu[main].prompt", 'no file "welcome.wav" in prompts/')
    assert problems[1][0] == "menu[night].prompt" and "no voice for language 'xx'" in \
        problems[1][1]
    assert problems[2][0] == "menu[day].prompt" and "no builtin prompt 'nope'" in problems[2][1]
    assert cache.check(uses) == problems


def test_the_call_path_never_builds(cache: PromptCache) -> None:
    with pytest.raises(PromptMissingError, match="not built yet"):
        cache.pcm(["builtin:goodbye"], "fr")
    assert cache.made == 0


def test_a_language_without_a_voice_falls_back_to_english(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    cache._voices = {"en-us", "am"}  # as if this espeak-ng had no German voice
    built = cache.ensure(Piece("speech", "goodbye", "de", "Auf Wiederhören."))
    assert "spoken in English" in built.warning
    rows = {(r["name"], r["language"]): r for r in cache.listing(["de"])}
    assert "spoken in English" in str(rows[("builtin:goodbye", "de")]["warning"])


def test_without_espeak_the_builtins_fail_clearly(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARED_ENV, raising=False)  # no spoken pieces from other tests
    cache = PromptCache(tmp_path, espeak="no-such-espeak")
    problems = cache.build([], ["en"])
    assert problems and "espeak-ng is not installed" in problems[0][1]


@dataclass(frozen=True)
class _Box:
    country: str = "et"
    language: str = ""


@dataclass(frozen=True)
class _Menu:
    name: str
    prompt: str
    language: str = ""
    invalid_prompt: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Config:
    box: _Box = _Box()
    menu: tuple[_Menu, ...] = ()


def test_prompts_are_found_in_any_table_with_their_language() -> None:
    config = _Config(menu=(_Menu("main", "file:welcome.wav", invalid_prompt="builtin:invalid",
                                 choices=("1=ext:101", "0=ext:102|announce:closed@office")),
                           _Menu("fr", "say:fr:Bonjour", language="fr",
                                 choices=("9=announce:file:nuit.wav",))))
    assert box_language(config) == "am"  # Ethiopia's
    assert prompt_uses(config) == [
        Use("menu[main].prompt", "file:welcome.wav", "am"),
        Use("menu[main].invalid_prompt", "builtin:invalid", "am"),
        Use("menu[main].choices", "builtin:closed", "am"),
        Use("menu[fr].prompt", "say:fr:Bonjour", "fr"),
        Use("menu[fr].choices", "file:nuit.wav", "fr"),
    ]
    assert languages(config) == ["am", "fr"]


def test_the_beep_and_the_countrys_ringback_are_made_not_spoken(cache: PromptCache) -> None:
    cache.country = "uk"
    assert cache.build([Use("box.country", "builtin:ringback"), Use("x", "builtin:beep")]) \
        == []
    ringback = np.frombuffer(cache.pcm(["builtin:ringback"], "en")[0], dtype="<i2")
    assert ringback.size == 3 * 8000  # the UK cadence: 0.4 on, 0.2 off, 0.4 on, 2.0 off
    spectrum = np.abs(np.fft.rfft(ringback.astype(np.float64)))
    peaks = sorted(np.argsort(spectrum)[-2:] * 8000 / ringback.size)
    assert abs(peaks[0] - 400) < 3 and abs(peaks[1] - 450) < 3
    beep = np.frombuffer(cache.pcm(["builtin:beep"], "ja")[0], dtype="<i2")
    assert beep.size == 2400
    rows = {r["name"]: r for r in cache.listing([])}
    assert rows["builtin:ringback"]["source"] == "uk ringback tone"


def test_references_of_another_owner_resolve_at_play_time(cache: PromptCache,
                                                          tmp_path: Path) -> None:
    greeting = tmp_path / "greeting.wav"
    greeting.write_bytes(wav_bytes(tone(500, 0.5, 8000), 8000))
    cache.sources["voicemail"] = lambda rest: greeting if rest == "101/greeting" else None
    assert cache.build([Use("fxs[1].voicemail_greeting", "voicemail:101/greeting")]) == []
    assert cache.files(["voicemail:101/greeting"], "en") == [greeting]
    assert len(cache.pcm(["voicemail:101/greeting"], "en")[0]) == 8000
    with pytest.raises(PromptMissingError, match="voicemail:102/greeting: no such recording"):
        cache.files(["voicemail:102/greeting"], "en")
