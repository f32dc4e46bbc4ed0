"""Voicemail messages on disk: ``voicemail/<extension>/`` in the state dir.

Each message is ``<uid>.wav`` (8 kHz mono 16-bit), encoded after the call to
``<uid>.opus`` (Ogg Opus, as call recordings; the WAV goes once the Opus file is checked),
and ``<uid>.json`` (its facts: when, who called, how long, new or heard).
Uids sort by time (``20261207-153012-a1b2``). A greeting recorded by phone is
``greeting-<uid>.wav``; the newest one is the mailbox's greeting (a fresh name each time,
so the prompt player never serves a stale copy). Writes are atomic (temp file, rename).
A message shorter than ``MIN_MESSAGE_S`` is not kept.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from firmware.media.recwav import wav_header

RATE = 8000
MIN_MESSAGE_S = 1.0
_UID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")
_BOX = re.compile(r"^[0-9*#+]{1,20}$")


class MailboxError(ValueError):
    """A mailbox or message that does not exist or cannot be named."""


@dataclass(frozen=True)
class Message:
    uid: str
    mailbox: str
    start: float  # unix time the recording began
    duration_s: float
    caller_number: str = ""
    caller_name: str = ""
    new: bool = True

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def new_uid(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class MailboxStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    # --- names ---------------------------------------------------------------------------
    def box_dir(self, box: str) -> Path:
        if not _BOX.match(box):
            raise MailboxError(f"bad mailbox {box!r}: an extension number")
        return self.root / box

    def wav(self, box: str, uid: str) -> Path:
        if not _UID.match(uid):
            raise MailboxError(f"bad message id {uid!r}")
        return self.box_dir(box) / f"{uid}.wav"

    def opus(self, box: str, uid: str) -> Path:
        return self.wav(box, uid).with_suffix(".opus")

    def audio(self, box: str, uid: str) -> Path | None:
        """The message's sound: the Ogg Opus file once encoded, else the WAV."""
        for path in (self.opus(box, uid), self.wav(box, uid)):
            if path.exists():
                return path
        return None

    def boxes(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _BOX.match(p.name))

    # --- messages ------------------------------------------------------------------------
    def save(self, box: str, pcm: bytes, start: float, caller_number: str = "",
             caller_name: str = "", uid: str | None = None) -> Message | None:
        """Keep ``pcm`` (s16le 8 kHz mono) as a new message; None if too short."""
        seconds = len(pcm) / 2 / RATE
        if seconds < MIN_MESSAGE_S:
            return None
        uid = uid or new_uid(start)
        path = self.wav(box, uid)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic(path, wav_header(1, len(pcm)) + pcm)
        message = Message(uid, box, start, round(seconds, 2), caller_number, caller_name)
        self._write_meta(message)
        return message

    def _write_meta(self, message: Message) -> None:
        meta = self.box_dir(message.mailbox) / f"{message.uid}.json"
        _atomic(meta, json.dumps(message.as_dict(), indent=1).encode())

    def get(self, box: str, uid: str) -> Message | None:
        try:
            meta = self.wav(box, uid).with_suffix(".json")
            data = json.loads(meta.read_text())
        except (MailboxError, OSError, ValueError):
            return None
        known = {k: data[k] for k in Message.__dataclass_fields__ if k in data}
        try:
            return Message(**known)
        except TypeError:
            return None

    def messages(self, box: str | None = None) -> list[Message]:
        """Messages of ``box`` (or every mailbox), oldest first."""
        found: list[Message] = []
        for name in [box] if box is not None else self.boxes():
            folder = self.box_dir(name)
            if not folder.is_dir():
                continue
            for meta in sorted(folder.glob("*.json")):
                message = self.get(name, meta.stem)
                if message is not None and self.audio(name, message.uid) is not None:
                    found.append(message)
        return sorted(found, key=lambda m: (m.mailbox, m.uid))

    def counts(self, box: str) -> tuple[list[str], list[str]]:
        """(new uids, heard uids), oldest first."""
        messages = self.messages(box)
        return ([m.uid for m in messages if m.new], [m.uid for m in messages if not m.new])

    def mark_heard(self, box: str, uid: str) -> bool:
        message = self.get(box, uid)
        if message is None:
            return False
        if message.new:
            self._write_meta(Message(**{**message.as_dict(), "new": False}))  # type: ignore[arg-type]
        return True

    def delete(self, box: str, uid: str) -> bool:
        """Remove a message; False if there was none."""
        wav = self.wav(box, uid)
        gone = False
        for path in (wav, wav.with_suffix(".opus"), wav.with_suffix(".json")):
            try:
                path.unlink()
                gone = True
            except FileNotFoundError:
                pass
        return gone

    # --- a PIN set by phone ---------------------------------------------------------------
    def set_pin(self, box: str, pin: str, configured: str) -> None:
        """Keep ``pin``, set by phone while the configuration said ``configured``."""
        folder = self.box_dir(box)
        folder.mkdir(parents=True, exist_ok=True)
        _atomic(folder / "pin.json", json.dumps({"pin": pin, "configured": configured}).encode())

    def pin(self, box: str, configured: str) -> str | None:
        """The PIN set by phone, while the configured one is still the one it replaced
        (a new ``voicemail_pin`` in the configuration wins); None otherwise."""
        try:
            data = json.loads((self.box_dir(box) / "pin.json").read_text())
        except (MailboxError, OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("configured") != configured:
            return None
        pin = data.get("pin")
        return pin if isinstance(pin, str) and pin.isdigit() else None

    # --- greetings -----------------------------------------------------------------------
    def save_greeting(self, box: str, pcm: bytes) -> Path | None:
        if len(pcm) / 2 / RATE < MIN_MESSAGE_S:
            return None
        folder = self.box_dir(box)
        folder.mkdir(parents=True, exist_ok=True)
        old = list(folder.glob("greeting-*.wav"))
        path = folder / f"greeting-{new_uid()}.wav"
        _atomic(path, wav_header(1, len(pcm)) + pcm)
        for stale in old:
            stale.unlink(missing_ok=True)
        return path

    def greeting(self, box: str) -> Path | None:
        try:
            found = sorted(self.box_dir(box).glob("greeting-*.wav"))
        except MailboxError:
            return None
        return found[-1] if found else None
