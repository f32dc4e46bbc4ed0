"""Prompt references, the line source, the words of every language, the tune."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.media.music import hold_music
from firmware.media.prompt_texts import BUILTIN_NAMES, COUNTRY_LANGUAGE, TEXTS, VOICES
from firmware.media.prompts import Piece, PromptRefError, builtin_pieces, expand
from firmware.media.promptsource import PromptSource
from firmware.media.sources import FRAME_BYTES


def test_every_language_has_every_prompt_and_ten_digits() -> None:
    for lang, table in TEXTS.items():
        assert set(BUILTIN_NAMES) <= set(table), lang
        assert len(table["digits"].split()) == 10, lang
        assert lang in VOICES
    assert set(COUNTRY_LANGUAGE.values()) <= set(TEXTS)
    assert {"en", "am", "ru", "fr", "de", "hi", "ja"} <= set(TEXTS)


def test_references_expand_to_pieces() -> None:
    assert expand("file:welcome") == [Piece("file", "welcome.wav")]
    assert expand("say:am:እንኳን ደህና መጡ") == [Piece("speech", "say", "am", "እንኳን ደህና መጡ")]
    digits = expand("digits:907", "am")
    assert [p.name for p in digits] == ["digit_9", "digit_0", "digit_7"]
    assert digits[0].text == "ዘጠኝ"
    assert expand("builtin:please-hold", "de") == expand("builtin:please_hold", "de")
    assert expand("builtin:music", "ja") == [Piece("music", "music")]
    assert expand("builtin:goodbye") == expand("builtin:goodbye", "en")


@pytest.mark.parametrize(("ref", "words"), [
    ("welcome.wav", "use file:NAME.wav"),
    ("file:../etc/passwd", "plain file name"),
    ("say:en:", "takes a language and words"),
    ("digits:12a", "digits 0-9 only"),
    ("builtin:nothing", "no builtin prompt 'nothing'"),
])
def test_bad_references_say_what_is_wrong(ref: str, words: str) -> None:
    with pytest.raises(PromptRefError, match=words):
        expand(ref)


def test_a_builtin_in_a_language_without_words_is_refused() -> None:
    with pytest.raises(PromptRefError, match="no builtin prompts in language 'sw'"):
        expand("builtin:goodbye", "sw")


def test_keys_change_with_words_voice_and_source_only() -> None:
    a = Piece("speech", "say", "en", "hello")
    assert a.key() == Piece("speech", "say", "en", "hello").key()
    assert a.key() != Piece("speech", "say", "en", "hello!").key()
    assert a.key() != Piece("speech", "say", "fr", "hello").key()
    f = Piece("file", "x.wav")
    assert f.key("10:1") != f.key("10:2")
    assert len({p.key() for p in builtin_pieces("am")}) == len(builtin_pieces("am"))


def test_source_plays_pieces_in_order_then_tells_once() -> None:
    done: list[int] = []
    src = PromptSource([b"\x01\x00" * 100, b"\x02\x00" * 160], on_done=lambda: done.append(1))
    frames = [src() for _ in range(4)]
    # The first piece is padded to a whole frame: the second starts on a frame of its own.
    assert frames[0] == b"\x01\x00" * 100 + bytes(FRAME_BYTES - 200)
    assert frames[1] == b"\x02\x00" * 160
    assert frames[2] is None and frames[3] is None
    assert done == [1]


def test_a_looping_source_never_ends() -> None:
    done: list[int] = []
    src = PromptSource([b"\x05\x00" * 160], loop=True, on_done=lambda: done.append(1))
    assert all(src() == b"\x05\x00" * 160 for _ in range(10))
    assert not done


def test_hold_music_is_a_tune_at_a_moderate_level() -> None:
    music = hold_music().astype(np.float64)
    assert 8.0 < music.size / 8000 < 15.0
    rms = np.sqrt(np.mean(music ** 2))
    assert 300 < rms < 3000  # below speech (3000) and far from clipping
    # It starts and ends near silence, so a loop has no click.
    assert np.abs(music[:4]).max() < 200 and np.abs(music[-80:]).max() < 100
    # Several distinct notes: the dominant frequency changes from beat to beat.
    beats = music[: int(8 * 0.3 * 8000)].reshape(8, -1)
    peaks = {int(np.argmax(np.abs(np.fft.rfft(b)))) for b in beats}
    assert len(peaks) >= 4
