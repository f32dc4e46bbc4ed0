"""Save the configuration file atomically and keep its previous versions.

The file on disk is always one whole, valid configuration, whatever moment the power goes:

1. the new text is validated first; an invalid configuration is never written;
2. it is written to a temporary file in the same directory (same file system, so the
   rename below is atomic), flushed and fsync'ed;
3. ``os.replace`` swaps it in: readers see the old file or the new one, never a mix;
4. the directory is fsync'ed, so the rename itself survives a power cut.

Every saved text is also kept in ``history_dir`` as ``NNNNNN-YYYYmmddTHHMMSSZ.toml``
(number, UTC time), written the same way, newest ``keep`` only. The live file is written
before its history copy: a crash between the two leaves a live file that no version
holds, and the next save archives it first, as it does for a file edited by hand. A
rollback saves an old text again as a new version, so history only grows forward and
every step can be diffed.

Who saved a version and why sit beside it as ``NNNNNN.about.json``, written (atomically)
just before the version itself.

Files are created mode 0600 (they hold trunk passwords); ``diff`` hides password values.
"""

from __future__ import annotations

import difflib
import glob
import json
import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from firmware.config.loader import load_config, parse_config
from firmware.config.schema import Config
from firmware.core.errors import NotFoundError
from firmware.core.files import write_atomic

DEFAULT_KEEP = 50
"""Versions kept in the history directory; older ones are deleted on save."""

_VERSION_FILE = re.compile(r"(?P<number>\d{6,})-(?P<stamp>\d{8}T\d{6})Z\.toml")
_STAMP = "%Y%m%dT%H%M%S"
_PASSWORD_LINE = re.compile(r"^([ \t]*(?:password|token)[ \t]*=[ \t]*)(.*?)[ \t]*$",
                            re.MULTILINE)
"""A secret's line: a password, or the web call-back's token."""


@dataclass(frozen=True, order=True)
class Version:
    """One saved configuration: its number (1, 2, ...) and when it was saved (UTC)."""

    number: int
    saved_at: datetime

    def __str__(self) -> str:
        return f"v{self.number} ({self.saved_at:%Y-%m-%d %H:%M:%S} UTC)"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ConfigStore:
    """The live configuration file at ``path`` and its history in ``history_dir``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        history_dir: str | os.PathLike[str],
        *,
        keep: int = DEFAULT_KEEP,
        known_countries: Collection[str] | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.path = Path(path)
        self.history_dir = Path(history_dir)
        self._keep = keep
        self._known_countries = known_countries
        self._now = now
        _remove_stale_temps(self.path.parent, f".{glob.escape(self.path.name)}.*.tmp")
        _remove_stale_temps(self.history_dir, ".*.tmp")

    def current(self) -> str | None:
        """The text of the live file, or None if there is none yet.

        Bytes that are not UTF-8 (a file edited with the wrong tool) read as U+FFFD, so such
        a file can still be archived before it is replaced.
        """
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None

    def load(self) -> Config:
        """The live configuration, parsed and checked."""
        return load_config(self.path, known_countries=self._known_countries)

    def save(self, text: str, *, user: str = "", message: str = "") -> Version:
        """Validate ``text``, make it the live file, and record it as a new version.

        Raises ConfigError (nothing written) if ``text`` is invalid. Saving the text that is
        already live records nothing and returns the version that holds it. ``user`` and
        ``message`` (who saved it, and why) are kept beside the version (:meth:`about`).
        """
        parse_config(text, os.fspath(self.path), known_countries=self._known_countries)
        live = self.current()
        history = self.versions()
        latest = history[-1] if history else None
        if live is not None and (latest is None or self.read(latest) != live):
            # Edited by hand, or a crash before its history copy.
            latest = self._archive(live, {"user": "", "message": "found in the live file"})
        if latest is not None and live == text:
            return latest
        write_atomic(self.path, text)
        about = {"user": user, "message": message} if user or message else None
        version = self._archive(text, about)
        self._prune()
        return version

    def about(self, version: Version | int) -> dict[str, str]:
        """Who saved a version and why: ``{"user", "message"}`` (empty when not recorded)."""
        path = self.history_dir / _about_name(self._version(version).number)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {"user": "", "message": ""}
        if not isinstance(data, dict):
            return {"user": "", "message": ""}
        return {"user": str(data.get("user", "")), "message": str(data.get("message", ""))}

    def versions(self) -> list[Version]:
        """The kept versions, oldest first."""
        return sorted(self._files())

    def read(self, version: Version | int) -> str:
        """The text of one kept version."""
        return self._file(version).read_text(encoding="utf-8")

    def diff(self, a: Version | int, b: Version | int | None = None) -> str:
        """A unified diff from version ``a`` to version ``b`` (None: the live file).

        Passwords show as ``"<secret 1>"``, ``"<secret 2>"``, ... (the same number for the
        same password): a changed password shows as a changed line, but not what it was or is.
        """
        before, before_name = self.read(a), str(self._version(a))
        if b is None:
            after, after_name = self.current() or "", os.fspath(self.path)
        else:
            after, after_name = self.read(b), str(self._version(b))
        return diff_texts(before, after, before_name, after_name)

    def rollback(self, version: Version | int) -> Version:
        """Make an old version live again; it is saved as a new version."""
        return self.save(self.read(version))

    def _archive(self, text: str, about: dict[str, str] | None = None) -> Version:
        self.history_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        files = self._files()
        number = max(files).number + 1 if files else 1
        version = Version(number, self._now().astimezone(UTC).replace(microsecond=0))
        # Who and why first: a crash before the version itself leaves a note that the next
        # version of the same number overwrites.
        about_path = self.history_dir / _about_name(number)
        if about is not None:
            write_atomic(about_path, json.dumps(about))
        else:
            about_path.unlink(missing_ok=True)
        write_atomic(self.history_dir / _file_name(version), text)
        return version

    def _prune(self) -> None:
        for version in self.versions()[: -self._keep]:
            (self.history_dir / _file_name(version)).unlink(missing_ok=True)
            (self.history_dir / _about_name(version.number)).unlink(missing_ok=True)

    def _files(self) -> dict[Version, Path]:
        if not self.history_dir.is_dir():
            return {}
        found: dict[Version, Path] = {}
        for path in self.history_dir.iterdir():
            match = _VERSION_FILE.fullmatch(path.name)
            if match is not None:
                stamp = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
                found[Version(int(match["number"]), stamp)] = path
        return found

    def _version(self, version: Version | int) -> Version:
        number = version.number if isinstance(version, Version) else version
        for known in self._files():
            if known.number == number:
                return known
        kept = self.versions()
        span = f"v{kept[0].number} to v{kept[-1].number}" if kept else "none"
        raise NotFoundError(f"{self.history_dir}: no configuration version {number}; kept: {span}")

    def _file(self, version: Version | int) -> Path:
        return self.history_dir / _file_name(self._version(version))


def _remove_stale_temps(directory: Path, pattern: str) -> None:
    """Temporary files of writes that a power cut interrupted (the targets are intact)."""
    if directory.is_dir():
        for stale in directory.glob(pattern):
            stale.unlink(missing_ok=True)


def _about_name(number: int) -> str:
    return f"{number:06d}.about.json"


def _file_name(version: Version) -> str:
    return f"{version.number:06d}-{version.saved_at.strftime(_STAMP)}Z.toml"


def diff_texts(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two configuration texts, passwords hidden (see ``mask_secrets``)."""
    secrets: dict[str, int] = {}
    return "".join(
        difflib.unified_diff(
            _lines(mask_secrets(before, secrets)),
            _lines(mask_secrets(after, secrets)),
            before_name,
            after_name,
        )
    )


def mask_secrets(text: str, secrets: dict[str, int]) -> str:
    """Replace each password value of a TOML text by ``"<secret N>"``, N its number in
    ``secrets`` (pass the same dict for both sides of a diff: a changed password shows)."""

    def number(match: re.Match[str]) -> str:
        if match.group(2) == '""':
            return match.group(0)  # no secret set: nothing to hide
        index = secrets.setdefault(match.group(2), len(secrets) + 1)
        return f'{match.group(1)}"<secret {index}>"'

    return _PASSWORD_LINE.sub(number, text)


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines
