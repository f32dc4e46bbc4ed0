"""Prompt references: what a ``Play`` names, and the cached pieces of audio behind it.

A reference is one of:

- ``file:NAME`` (``NAME`` or ``NAME.wav``): a WAV file in the state dir's ``prompts/``
  (uploaded or copied there), converted once to 8 kHz mono 16-bit;
- ``say:LANG:TEXT``: TEXT spoken by espeak-ng in language LANG;
- ``builtin:NAME``: one of the box's own prompts (firmware/media/prompt_texts.py) in the
  play's language, or ``builtin:music``, the box's own tune for hold and queues;
- ``digits:NNN``: the digits spoken one by one in the play's language.

:func:`expand` turns a reference into :class:`Piece` s, each one cached file; the cache
(firmware/app/promptcache.py) builds them at start-up or at commit, never in the call
path. A piece's ``key`` names its cached file: a hash of everything that shapes the audio
(voice, words, the source file's size and time), so a change of any of them builds anew
and an unchanged configuration finds every piece built.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from firmware.media.prompt_texts import (
    BUILTIN_NAMES,
    DIGIT_NAMES,
    MUSIC,
    SYNTHS,
    TEXTS,
    VOICES,
    builtin_text,
)

# Bump when the way pieces are made changes (level, trim, synthesis): every key changes.
CACHE_VERSION = "1"
DEFAULT_LANGUAGE = "en"
KINDS = ("file", "say", "builtin", "digits")
# Other names people (and the issue) use for the same builtins.
ALIASES = {"invalid_choice": "invalid", "hold": "please_hold", "busy": "all_busy",
           "callback_from": "callback_request", "caller_number": "position", "bye": "goodbye"}

PieceKind = Literal["file", "speech", "music"]


class PromptRefError(ValueError):
    """A reference that names nothing the box can play; the message says what is wrong."""


@dataclass(frozen=True)
class Piece:
    """One cached stretch of audio."""

    kind: PieceKind
    # file: the file name in prompts/; speech: the builtin's name or "say"; music: "music".
    name: str
    language: str = ""
    text: str = ""

    @property
    def label(self) -> str:
        """How ``prompt list`` names it."""
        if self.kind == "file":
            return f"file:{self.name}"
        if self.kind == "music":
            return f"builtin:{self.name}"
        if self.name == "say":
            return f"say:{self.language}:{self.text}"
        return f"builtin:{self.name}"

    def key(self, source_stamp: str = "") -> str:
        """The cached file's name (without .wav); ``source_stamp`` is the uploaded file's
        size and modification time for ``file`` pieces."""
        voice = VOICES.get(self.language, self.language)
        parts = (CACHE_VERSION, self.kind, self.name, voice, self.text, source_stamp)
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]
        return f"{self.kind}-{digest}"


def file_name(name: str) -> str:
    """``welcome`` and ``welcome.wav`` are the same upload; anything with a path is refused."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        raise PromptRefError(f"bad prompt file name {name!r}: a plain file name in prompts/ "
                             "such as welcome.wav")
    return name if name.lower().endswith(".wav") else f"{name}.wav"


def expand(ref: str, language: str = "") -> list[Piece]:
    """The pieces that make up ``ref`` played in ``language`` ("" = the default)."""
    kind, sep, rest = ref.partition(":")
    if not sep or kind not in KINDS:
        raise PromptRefError(f"bad prompt {ref!r}: use file:NAME.wav, say:LANG:TEXT, "
                             "builtin:NAME or digits:NNN")
    lang = language or DEFAULT_LANGUAGE
    if kind == "file":
        return [Piece("file", file_name(rest))]
    if kind == "say":
        say_lang, sep, text = rest.partition(":")
        if not sep or not text.strip():
            raise PromptRefError(f"bad prompt {ref!r}: say: takes a language and words, "
                                 "like say:en:Welcome to our office")
        return [Piece("speech", "say", say_lang.strip(), text.strip())]
    if kind == "digits":
        bad = sorted({c for c in rest if not c.isdigit()})
        if not rest or bad:
            raise PromptRefError(f"bad prompt {ref!r}: digits: takes digits 0-9 only")
        check_language(lang)
        return [_builtin(f"digit_{c}", lang) for c in rest]
    name = rest.strip().replace("-", "_")
    name = ALIASES.get(name, name)
    if name in SYNTHS:
        # ringback is the country's: the cache puts its country in ``language``.
        return [Piece("music", name)]
    if name not in BUILTIN_NAMES and name not in DIGIT_NAMES:
        known = ", ".join((*BUILTIN_NAMES, *SYNTHS, "digit_0..digit_9"))
        raise PromptRefError(f"no builtin prompt {name!r}; known: {known}")
    check_language(lang)
    return [_builtin(name, lang)]


def check_language(language: str) -> None:
    if language not in TEXTS:
        raise PromptRefError(f"the box has no builtin prompts in language {language!r}; "
                             f"it has {', '.join(sorted(TEXTS))} (say:LANG:TEXT speaks any "
                             "language espeak-ng has)")


def builtin_pieces(language: str) -> list[Piece]:
    """Every builtin of one language, and the tune and the beep (ringback is built for the
    box's country by the cache)."""
    check_language(language)
    return [*(_builtin(n, language) for n in (*BUILTIN_NAMES, *DIGIT_NAMES)),
            Piece("music", MUSIC), Piece("music", "beep")]


def _builtin(name: str, language: str) -> Piece:
    return Piece("speech", name, language, builtin_text(language, name))
