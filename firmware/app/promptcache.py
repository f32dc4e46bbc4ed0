"""The prompt cache: every piece of audio a ``Play`` may name, built once into the state
dir, as 8 kHz mono 16-bit WAV files, before any call needs it.

- ``prompts/`` holds the uploaded WAV files (any rate, channels, bit depth);
  ``prompt-cache/`` holds what was built from them, from espeak-ng and from the tune,
  one file per piece named by its key (firmware/media/prompts.py).
- Building happens at start-up (the builtins of the languages the configuration uses)
  and at commit (``check`` then ``build``, off the loop); a piece whose file exists is a
  cache hit and costs one ``stat``. The call path only reads: :meth:`pcm` and
  :meth:`files` never run espeak-ng or convert a file, and name what is missing.
- A language with no espeak-ng voice: its builtins are spoken in English, with a warning
  in the log and in ``prompt list``; ``say:`` in that language is a commit error.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.core.files import fsync_directory
from firmware.media.music import beep, hold_music, ringback
from firmware.media.prompt_texts import MUSIC, VOICES, builtin_text
from firmware.media.prompts import Piece, PromptRefError, builtin_pieces, expand, file_name
from firmware.media.wavfile import WavError, read_wav, write_wav

log = logging.getLogger(__name__)

UPLOADS = "prompts"
CACHE = "prompt-cache"
ESPEAK = "espeak-ng"
ESPEAK_TIMEOUT_S = 30.0
MAX_PROMPT_S = 600.0
"""Longest prompt the box keeps (ten minutes: a long announcement, or music)."""
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MEMORY_BYTES = 32 * 1024 * 1024
"""Prompt audio kept in memory (about 35 minutes); the rest is read from the cache."""
SPEECH_RMS = 3000.0
"""Speech is levelled to this RMS (about -14 dBm0, a talker's level on a line)."""
_SILENCE = 200  # samples below this at both ends of speech are trimmed


SHARED_ENV = "MINIPBX_PROMPT_SHARED"
"""A folder of spoken pieces shared between state dirs (the test suite starts hundreds of
boxes, each of which would run espeak-ng for the same builtins): a piece's file name is
its key (voice and text), so any box may take it. Unset on a real box."""


def _shared_copy(piece: Piece, path: Path) -> float | None:
    """Take a spoken piece from the shared folder, if one is set and has it; its length."""
    folder = os.environ.get(SHARED_ENV)
    if piece.kind != "speech" or not folder:
        return None
    source = Path(folder) / path.name
    if not source.exists():
        return None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".shared.", dir=path.parent)
        os.close(fd)
        shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    except OSError:
        return None
    return (path.stat().st_size - 44) / 16000.0


def _share(path: Path) -> None:
    folder = os.environ.get(SHARED_ENV)
    if not folder:
        return
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".share.", dir=folder)
        os.close(fd)
        shutil.copyfile(path, tmp)
        os.replace(tmp, Path(folder) / path.name)  # whole or absent, for every reader
    except OSError:
        log.debug("prompt %s not shared", path.name, exc_info=True)


class PromptMissingError(LookupError):
    """A piece is not in the cache (the call path never builds one)."""


@dataclass(frozen=True)
class Use:
    """One place that names a prompt: ``where`` is the setting (``menu[main].prompt``)."""

    where: str
    ref: str
    language: str = ""


@dataclass(frozen=True)
class Built:
    piece: Piece
    path: Path
    seconds: float
    source: str
    warning: str = ""


class PromptCache:
    def __init__(self, state_dir: Path, espeak: str = ESPEAK) -> None:
        self.uploads = state_dir / UPLOADS
        self.dir = state_dir / CACHE
        self._espeak = espeak
        self._voices: set[str] | None = None
        # Builds run in worker threads, one at a time; the loop only takes _lock, briefly.
        self._build_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pcm: OrderedDict[Path, bytes] = OrderedDict()  # least recently used first
        self._pcm_bytes = 0
        self._built: dict[tuple[Piece, str], Built] = {}
        self.hits = 0
        self.made = 0
        self.abort = False  # set when the daemon stops: building ends after the piece
        # The country whose ringback ``builtin:ringback`` is (PromptControl keeps it).
        self.country = "us"
        # Other kinds of reference, resolved to a WAV file by their owner at play time
        # (``voicemail:101/greeting``: recordings the box made itself); never built, and
        # a missing one is the owner's to handle (PlayDone comes at once).
        self.sources: dict[str, Callable[[str], Path | None]] = {}

    def expand(self, ref: str, language: str) -> list[Piece]:
        """``expand`` of firmware/media/prompts.py, with ringback made the box's country's."""
        return [Piece("music", "ringback", self.country)
                if p.kind == "music" and p.name == "ringback" else p
                for p in expand(ref, language)]

    def _extra(self, ref: str) -> bool:
        return ref.partition(":")[0] in self.sources

    # --- voices -------------------------------------------------------------------------
    def voices(self) -> set[str]:
        """The languages espeak-ng speaks here (asked once); empty without espeak-ng."""
        if self._voices is None:
            self._voices = _espeak_languages(self._espeak)
        return self._voices

    def has_voice(self, language: str) -> bool:
        voice = VOICES.get(language, language).lower()
        return any(v == voice or v.startswith(voice + "-") for v in self.voices())

    # --- checking and building (worker threads) ------------------------------------------
    def check(self, uses: Iterable[Use]) -> list[tuple[str, str]]:
        """Problems (where, what) without building anything: bad references, missing
        voices, missing files."""
        problems: list[tuple[str, str]] = []
        for use in uses:
            try:
                if self._extra(use.ref):
                    continue
                for piece in self.expand(use.ref, use.language):
                    self._check_piece(piece)
            except PromptRefError as exc:
                problems.append((use.where, str(exc)))
        return problems

    def build(self, uses: Iterable[Use], languages: Iterable[str] = ()) -> list[tuple[str, str]]:
        """Check, then build what the cache lacks: the pieces of ``uses`` and every builtin
        of ``languages``. Returns the problems (where, what); nothing is built for them."""
        problems: list[tuple[str, str]] = []
        wanted: list[tuple[str, str, str]] = [
            (f"builtin prompts ({lang})", f"builtin:{name}", lang)
            for lang in languages for name in builtin_names(lang, problems)]
        wanted += [(use.where, use.ref, use.language) for use in uses]
        seen: set[Piece] = set()
        for where, ref, language in wanted:
            if self.abort:
                break
            try:
                if self._extra(ref):
                    continue
                for piece in self.expand(ref, language):
                    if piece not in seen:
                        seen.add(piece)
                        self.ensure(piece)
            except (PromptRefError, WavError) as exc:
                problems.append((where, str(exc)))
        return problems

    def ensure(self, piece: Piece) -> Built:
        """The piece's cached file, built now if missing (never call from the call path)."""
        self._check_piece(piece)
        path = self.path(piece)
        with self._build_lock:
            with self._lock:
                known = self._built.get((piece, path.name))
            if known is not None and path.exists():
                self.hits += 1
                return known
            if path.exists():
                self.hits += 1
                seconds = (path.stat().st_size - 44) / 16000.0
                built = Built(piece, path, seconds, self._source(piece), self._warning(piece))
            else:
                built = self._make(piece, path)
                self.made += 1
            self._load(path)  # in memory before a call asks for it
            with self._lock:
                self._built[(piece, path.name)] = built
            return built

    def path(self, piece: Piece) -> Path:
        stamp = ""
        if piece.kind == "file":
            stamp = self._stamp(piece.name)
        return self.dir / f"{piece.key(stamp)}.wav"

    def _check_piece(self, piece: Piece) -> None:
        if piece.kind == "file":
            self._stamp(piece.name)
        elif piece.kind == "speech" and piece.name == "say" and not self.has_voice(
                piece.language):
            why = ("espeak-ng is not installed (tools/setup.sh installs it)"
                   if not self.voices() else "espeak-ng has no voice for it")
            raise PromptRefError(f"no voice for language {piece.language!r}: {why}")

    def _stamp(self, name: str) -> str:
        source = self.uploads / file_name(name)
        try:
            st = source.stat()
        except FileNotFoundError:
            raise PromptRefError(f'no file "{file_name(name)}" in {UPLOADS}/') from None
        return f"{st.st_size}:{st.st_mtime_ns}"

    def _make(self, piece: Piece, path: Path) -> Built:
        self.dir.mkdir(parents=True, exist_ok=True)
        warning = self._warning(piece)
        if piece.kind == "music":
            samples = (hold_music() if piece.name == MUSIC else beep() if piece.name == "beep"
                       else ringback(piece.language))
        elif piece.kind == "file":
            source = self.uploads / piece.name
            wav = read_wav(source)
            samples = wav.samples
            if samples.size > MAX_PROMPT_S * 8000:
                raise WavError(f"{source.name}: too long: {samples.size / 8000:.0f} s "
                               f"(at most {MAX_PROMPT_S:.0f} s)")
        elif (shared := _shared_copy(piece, path)) is not None:
            return Built(piece, path, shared, self._source(piece), warning)
        else:
            language = piece.language
            text = piece.text
            if not self.has_voice(language):
                if not self.voices():
                    raise PromptRefError("espeak-ng is not installed: the builtin prompts "
                                         "cannot be spoken (tools/setup.sh installs it)")
                log.warning("espeak-ng has no voice for %r: its builtin %s is spoken in "
                            "English", language, piece.name)
                language, text = "en", builtin_text("en", piece.name)
            samples = level_speech(self._speak(language, text))
        write_wav(path, samples)
        if piece.kind == "speech":
            _share(path)
        log.info("prompt %s%s built: %.1f s", piece.label,
                 f" ({piece.language})" if piece.language else "", samples.size / 8000)
        return Built(piece, path, samples.size / 8000.0, self._source(piece), warning)

    def _speak(self, language: str, text: str) -> npt.NDArray[np.int16]:
        voice = VOICES.get(language, language)
        fd, tmp = tempfile.mkstemp(prefix=".speak.", suffix=".wav", dir=self.dir)
        os.close(fd)
        try:
            done = subprocess.run([self._espeak, "-v", voice, "-w", tmp, "--", text],
                                  capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False)
            if done.returncode != 0:
                err = done.stderr.decode(errors="replace").strip().splitlines()
                raise PromptRefError(f"espeak-ng failed for voice {voice!r}: "
                                     f"{err[-1] if err else done.returncode}")
            return read_wav(tmp).samples
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PromptRefError(f"espeak-ng could not run: {exc}") from None
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _source(self, piece: Piece) -> str:
        if piece.kind == "music":
            return {MUSIC: "synthesized tune", "beep": "synthesized beep"}.get(
                piece.name, f"{piece.language} ringback tone")
        if piece.kind == "file":
            return f"upload {UPLOADS}/{piece.name}"
        voice = VOICES.get(piece.language, piece.language)
        return f"espeak-ng voice {voice}"

    def _warning(self, piece: Piece) -> str:
        if piece.kind == "speech" and piece.name != "say" and not self.has_voice(
                piece.language):
            return f"no espeak-ng voice for {piece.language!r}: spoken in English"
        return ""

    # --- the call path (loop thread): read only -------------------------------------------
    def files(self, refs: Sequence[str], language: str) -> list[Path]:
        """The cached files of ``refs``, in order; PromptMissingError names what is not
        built (a commit builds everything the configuration names)."""
        paths = []
        for ref in refs:
            kind, _, rest = ref.partition(":")
            if kind in self.sources:
                found = self.sources[kind](rest)
                if found is None or not found.exists():
                    raise PromptMissingError(f"prompt {ref}: no such recording")
                paths.append(found)
                continue
            try:
                pieces = self.expand(ref, language)
                for piece in pieces:
                    path = self.path(piece)
                    if not path.exists():
                        raise PromptMissingError(f"prompt {ref} ({language or 'default'}) is "
                                                 "not built yet")
                    paths.append(path)
            except PromptRefError as exc:
                raise PromptMissingError(str(exc)) from None
        return paths

    def pcm(self, refs: Sequence[str], language: str) -> list[bytes]:
        """The audio of ``refs`` as s16le 8 kHz pieces (kept in memory once read)."""
        return [self._load(path) for path in self.files(refs, language)]

    def _load(self, path: Path) -> bytes:
        """A cached file's samples, from memory when they are there (at most MEMORY_BYTES
        are kept, the least recently played go first)."""
        with self._lock:
            data = self._pcm.get(path)
            if data is not None:
                self._pcm.move_to_end(path)
                return data
        data = read_wav(path).samples.astype("<i2").tobytes()
        with self._lock:
            if path not in self._pcm:
                self._pcm[path] = data
                self._pcm_bytes += len(data)
            while self._pcm_bytes > MEMORY_BYTES and len(self._pcm) > 1:
                _, dropped = self._pcm.popitem(last=False)
                self._pcm_bytes -= len(dropped)
        return data

    # --- uploads and the list -----------------------------------------------------------
    def store_upload(self, name: str, data: bytes) -> Built:
        """Check an uploaded WAV and keep it (atomically) as ``prompts/NAME``; the
        converted piece is built at once. WavError/PromptRefError say what is wrong."""
        name = file_name(name)
        if len(data) > MAX_UPLOAD_BYTES:
            raise WavError(f"{name}: too big: {len(data) // 1024} KiB (at most "
                           f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MiB)")
        self.uploads.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.uploads)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            try:
                wav = read_wav(tmp)
            except WavError as exc:
                raise WavError(str(exc).replace(tmp, name)) from None
            if wav.samples.size > MAX_PROMPT_S * 8000:
                raise WavError(f"{name}: too long: {wav.samples.size / 8000:.0f} s (at most "
                               f"{MAX_PROMPT_S:.0f} s)")
            os.replace(tmp, self.uploads / name)  # whole or not at all
        finally:
            Path(tmp).unlink(missing_ok=True)
        fsync_directory(self.uploads)
        built = self.ensure(Piece("file", name))
        self.prune_uploads()
        return built

    def prune_uploads(self) -> int:
        """Remove the converted pieces of uploads replaced or gone (a replaced upload is a
        new piece); returns how many. Spoken and made pieces are small and stay."""
        current = set()
        if self.uploads.is_dir():
            for f in self.uploads.glob("*.wav"):
                if not f.name.startswith("."):
                    current.add(self.path(Piece("file", f.name)).name)
        removed = 0
        for cached in self.dir.glob("file-*.wav") if self.dir.is_dir() else ():
            if cached.name not in current:
                cached.unlink(missing_ok=True)
                removed += 1
        with self._lock:
            for key in [k for k in self._built if k[0].kind == "file" and k[1] not in current]:
                del self._built[key]
        return removed

    def listing(self, languages: Iterable[str]) -> list[dict[str, object]]:
        """What ``prompt list`` shows: every builtin of ``languages``, every upload, and
        whatever else was built since start."""
        rows: dict[tuple[str, str], dict[str, object]] = {}
        pieces = [p for lang in languages for p in builtin_pieces(lang)]
        pieces.append(Piece("music", "ringback", self.country))
        if self.uploads.is_dir():
            pieces += [Piece("file", f.name) for f in sorted(self.uploads.glob("*.wav"))
                       if not f.name.startswith(".")]
        with self._lock:
            pieces += [b.piece for b in self._built.values()]
        for piece in pieces:
            row: dict[str, object] = {"name": piece.label, "language": piece.language,
                                      "source": self._source(piece)}
            try:
                path = self.path(piece)
                row["cached"] = path.exists()
                row["duration_s"] = (round((path.stat().st_size - 44) / 16000.0, 2)
                                     if path.exists() else None)
            except PromptRefError:
                row["cached"], row["duration_s"] = False, None
            if warning := self._warning(piece):
                row["warning"] = warning
            rows[(piece.label, piece.language)] = row
        return list(rows.values())


def builtin_names(language: str, problems: list[tuple[str, str]]) -> list[str]:
    """The names of every builtin of ``language`` (a problem noted if it has none)."""
    try:
        return [p.label.removeprefix("builtin:") for p in builtin_pieces(language)]
    except PromptRefError as exc:
        problems.append(("box language", str(exc)))
        return []


def level_speech(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Trim the silence espeak-ng leaves around speech and bring it to SPEECH_RMS."""
    x = samples.astype(np.float64)
    loud = np.flatnonzero(np.abs(x) >= _SILENCE)
    if loud.size:
        x = x[max(0, loud[0] - 80):loud[-1] + 400]
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    if rms > 0:
        x *= SPEECH_RMS / rms
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def _espeak_languages(espeak: str) -> set[str]:
    exe = shutil.which(espeak)
    if exe is None:
        log.warning("espeak-ng is not installed: builtin and say: prompts cannot be built")
        return set()
    try:
        out = subprocess.run([exe, "--voices"], capture_output=True, text=True,
                             timeout=ESPEAK_TIMEOUT_S, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("espeak-ng --voices failed: %s", exc)
        return set()
    found = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 2:
            found.add(cols[1].lower())
    return found
