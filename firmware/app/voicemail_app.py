"""Voicemail at run time: the exchange's ``VoiceMessage`` and ``MailboxEdit`` made real.

- Recording a message or a greeting: a line leg (a handset) is tapped at its bridge port
  (``MediaSwitch.record``: the line's own audio, each 20 ms tick, on the clock thread,
  appended to a list); a SIP leg gets a pjsua2 recorder to a WAV (``record_media``). At
  the stop the audio is kept in the mailbox (firmware/media/vmstore.py) if it lasts a
  second or more.
- After each change (a message kept, heard, deleted; at start) the exchange's view of the
  mailbox is set (message ids, greeting), which gives stutter dial tone, and the owner's
  handset gets the message-waiting indication (VMWI, ``Box.send_vmwi``) when the count of
  new messages goes from none to some or back; every ``VMWI_REFRESH_S`` it is sent again
  to idle handsets. An IP phone's mailbox (``[[sip_user]] voicemail``) has its counts
  sent to the SIP side (``phone_mwi``), which NOTIFYs the phone's registered contacts
  with Event: message-summary (RFC 3842) when they change, on each refresh, and when the
  phone registers afresh (firmware/sip/mwi.py).
- A kept message is encoded to Ogg Opus on a worker thread at low priority (opusenc,
  checked, as call recordings: firmware/app/recencode.py); the WAV goes after. Without
  opus-tools the WAV stays.
- ``voicemail:N/UID`` and ``voicemail:N/greeting`` prompt references resolve to the
  files (``PromptCache.sources``), so the mailbox menu plays them like any prompt. An
  encoded message is played from a WAV decoded into ``voicemail/.play/`` when its owner
  opens the mailbox (``MailboxEdit`` "open", while the counts are spoken); the decoded
  copies go when the message is deleted and when the box stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from firmware.app.recencode import EncodeError, encode, low_priority
from firmware.core.events import LegId, MailboxEdit, VoiceMessage
from firmware.media.vmstore import MailboxError, MailboxStore

log = logging.getLogger(__name__)

VMWI_REFRESH_S = 600.0
RETRY_S = 2.0  # a handset in use gets the indication when it is back on-hook
SIP_FILE_SETTLE_S = 0.3  # a pjsua2 recorder's file is whole a tick after it stops


class Tap(Protocol):
    def record(self, leg: LegId, sink: Callable[[bytes | None, bytes | None], None] | None
               ) -> None: ...

    def can_record(self, leg: LegId) -> bool: ...

    def record_media(self, leg: LegId, path: str | None) -> bool: ...


class MailView(Protocol):
    def set_mailbox(self, box: str, new: list[str], old: list[str], greeting: bool,
                    pin: str | None = None) -> None: ...


@dataclass
class Take:
    """One recording under way."""

    event: VoiceMessage
    started: float
    frames: list[bytes] = field(default_factory=list)
    sip_path: Path | None = None

    def push(self, said: bytes | None, heard: bytes | None) -> None:  # clock thread
        self.frames.append(said if said is not None else bytes(320))


class VoicemailService:
    def __init__(self, loop: asyncio.AbstractEventLoop, store: MailboxStore, tap: Tap,
                 exchange: MailView, send_vmwi: Callable[[str, bool], bool],
                 boxes: Callable[[], dict[str, LegId | None]],
                 configured_pin: Callable[[str], str] = lambda box: "",
                 phone_mwi: Callable[[str, int, int, bool], int] | None = None,
                 phone_mwi_off: Callable[[str], None] | None = None) -> None:
        self.loop = loop
        self.store = store
        self.tap = tap
        self.exchange = exchange
        self.send_vmwi = send_vmwi
        self.boxes = boxes  # mailbox (extension) -> its handset's leg (None: an IP phone)
        self.configured_pin = configured_pin  # the configuration's voicemail_pin
        # (extension, new, old, force) for an IP phone's mailbox: SipAdapter.message_waiting
        self.phone_mwi = phone_mwi
        # A phone's mailbox switched off: its lamp out, no more NOTIFYs for it.
        self.phone_mwi_off = phone_mwi_off
        self._phones: set[str] = set()  # phones' mailboxes the SIP side was told of
        self._takes: dict[tuple[int, bool], Take] = {}
        self._lamp: dict[str, bool] = {}
        self._refresh: asyncio.TimerHandle | None = None
        self._work = ThreadPoolExecutor(1, thread_name_prefix="voicemail")
        self.play_dir = store.root / ".play"

    # --- start ---------------------------------------------------------------------------
    def start(self) -> None:
        for box in self.boxes():
            self.refresh(box, force=True)
        self._refresh = self.loop.call_later(VMWI_REFRESH_S, self._periodic)

    def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        for take in list(self._takes.values()):
            self._stop(take)
        self._work.shutdown(wait=True, cancel_futures=False)
        shutil.rmtree(self.play_dir, ignore_errors=True)

    # --- Ogg Opus (worker thread) --------------------------------------------------------
    def _encode(self, box: str, uid: str, seconds: float) -> None:
        wav, opus = self.store.wav(box, uid), self.store.opus(box, uid)
        try:
            encode(wav, opus, 1, seconds)
        except EncodeError as exc:
            if self._deleted(box, uid):
                log.info("mailbox %s: message %s deleted before it was encoded", box, uid)
            else:
                log.warning("mailbox %s: message %s stays WAV: %s", box, uid, exc)
            return
        # The owner may have deleted the message while opusenc read it: the encoded copy
        # must not outlive the deletion (a deleted message's voice left on the card).
        if self._deleted(box, uid):
            opus.unlink(missing_ok=True)
            wav.unlink(missing_ok=True)
            log.info("mailbox %s: message %s deleted while it was encoded; its copy "
                     "removed", box, uid)
            return
        wav.unlink(missing_ok=True)
        log.info("mailbox %s: message %s encoded (%d bytes)", box, uid, opus.stat().st_size)

    def _deleted(self, box: str, uid: str) -> bool:
        """The message's record is gone (VoicemailStore.delete removes it with the audio)."""
        return not self.store.wav(box, uid).with_suffix(".json").exists()

    def _played_copy(self, box: str, uid: str) -> Path:
        return self.play_dir / box / f"{uid}.wav"

    def _decode(self, box: str, uid: str, urgent: bool = False) -> None:
        """Decode a message for playing; ``urgent``: its owner is waiting for it now (not
        at low priority, and not long)."""
        opus, out = self.store.opus(box, uid), self._played_copy(box, uid)
        if out.exists() or not opus.exists():
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: the worker and an urgent decode may run at the same time.
        part = out.with_name(f".{out.stem}.{threading.get_ident()}.part.wav")
        try:
            command = ["opusdec", "--quiet", "--force-wav", "--rate", "8000", str(opus),
                       str(part)]
            done = subprocess.run(command if urgent else low_priority(command),
                                  capture_output=True, timeout=10 if urgent else 120,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            part.unlink(missing_ok=True)
            log.warning("mailbox %s: cannot decode %s: %s", box, uid, exc)
            return
        if done.returncode != 0:
            part.unlink(missing_ok=True)
            log.warning("mailbox %s: opusdec failed on %s", box, uid)
            return
        part.replace(out)

    def _decode_box(self, box: str) -> None:
        for message in self.store.messages(box):
            self._decode(box, message.uid)

    def reconfigured(self, old: Any = None, new: Any = None) -> None:
        """After a commit: a mailbox switched on gets its view and its lamp; an IP phone's
        switched off has its lamp put out."""
        boxes = self.boxes()
        for box in sorted(self._phones - {b for b, leg in boxes.items() if leg is None}):
            self._phones.discard(box)
            if self.phone_mwi_off is not None:
                self.phone_mwi_off(box)
        for box in boxes:
            self.refresh(box)

    def _periodic(self) -> None:
        for box in self.boxes():
            self.refresh(box, force=True)
        self._refresh = self.loop.call_later(VMWI_REFRESH_S, self._periodic)

    # --- prompt references ---------------------------------------------------------------
    def resolve(self, rest: str) -> Path | None:
        """``N/UID`` or ``N/greeting`` (a ``voicemail:`` prompt) to its WAV."""
        box, _, what = rest.partition("/")
        try:
            if what == "greeting":
                return self.store.greeting(box)
            wav = self.store.wav(box, what)
        except MailboxError:
            return None
        if wav.exists():
            return wav
        copy = self._played_copy(box, what)
        if not copy.exists():
            # The owner keyed "play" before the decode that opening the mailbox started
            # was done (a loaded box): decode it now, on the loop. A short message takes
            # some tens of ms; a message played a moment late beats one marked heard
            # that was never played.
            self._decode(box, what, urgent=True)
        return copy if copy.exists() else None

    # --- events from the exchange ----------------------------------------------------------
    def handle(self, event: VoiceMessage | MailboxEdit) -> None:
        if isinstance(event, MailboxEdit) and event.action == "open":
            self._work.submit(self._decode_box, event.mailbox)
            return
        if isinstance(event, MailboxEdit) and event.action == "pin":
            try:
                self.store.set_pin(event.mailbox, event.value,
                                   self.configured_pin(event.mailbox))
            except (OSError, MailboxError) as exc:
                log.error("mailbox %s: cannot keep the new PIN: %s", event.mailbox, exc)
            else:
                log.info("mailbox %s: PIN changed by phone", event.mailbox)
            self.refresh(event.mailbox)
            return
        if isinstance(event, MailboxEdit):
            if event.action == "heard":
                done = self.store.mark_heard(event.mailbox, event.uid)
            else:
                done = self.store.delete(event.mailbox, event.uid)
                with contextlib.suppress(MailboxError):
                    self._played_copy(event.mailbox, event.uid).unlink(missing_ok=True)
            log.info("mailbox %s: message %s %s%s", event.mailbox, event.uid, event.action,
                     "" if done else " (there was none)")
            self.refresh(event.mailbox)
            return
        key = (event.call_id, event.greeting)
        if event.on:
            if key in self._takes:
                return
            take = Take(event, time.time())
            if self.tap.can_record(event.leg):
                self.tap.record(event.leg, take.push)
            else:
                path = self.store.root / ".incoming" / f"{event.call_id}-{int(event.greeting)}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                if not self.tap.record_media(event.leg, str(path)):
                    log.warning("call %d: %s has no media to record; no message",
                                event.call_id, event.leg)
                    return
                take.sip_path = path
            self._takes[key] = take
            log.info("call %d: recording a %s for mailbox %s from %s", event.call_id,
                     "greeting" if event.greeting else "message", event.mailbox, event.leg)
            return
        found = self._takes.pop(key, None)
        if found is not None:
            self._stop(found)

    def _stop(self, take: Take) -> None:
        event = take.event
        if take.sip_path is None:
            with contextlib.suppress(KeyError):
                self.tap.record(event.leg, None)
            self._keep(take, b"".join(take.frames))
            return
        self.tap.record_media(event.leg, None)
        self.loop.call_later(SIP_FILE_SETTLE_S, self._keep_sip, take)

    def _keep_sip(self, take: Take) -> None:
        assert take.sip_path is not None
        pcm = b""
        try:
            with wave.open(str(take.sip_path), "rb") as w:
                if w.getframerate() == 8000 and w.getsampwidth() == 2 and w.getnchannels() == 1:
                    pcm = w.readframes(w.getnframes())
                else:
                    log.warning("%s: not 8 kHz mono 16-bit; message dropped", take.sip_path)
        except (OSError, wave.Error, EOFError) as exc:
            log.warning("call %d: the SIP recording is unreadable: %s", take.event.call_id, exc)
        take.sip_path.unlink(missing_ok=True)
        self._keep(take, pcm)

    def _keep(self, take: Take, pcm: bytes) -> None:
        event = take.event
        try:
            if event.greeting:
                path = self.store.save_greeting(event.mailbox, pcm)
                log.info("mailbox %s: greeting %s", event.mailbox,
                         path.name if path else "too short: not kept")
            else:
                message = self.store.save(event.mailbox, pcm, take.started,
                                          event.caller.number or "", event.caller.name or "")
                log.info("mailbox %s: %s", event.mailbox,
                         f"message {message.uid} from {message.caller_number or 'unknown'}, "
                         f"{message.duration_s:.1f} s" if message else
                         "message under a second: not kept")
                if message is not None:
                    self._work.submit(self._encode, event.mailbox, message.uid,
                                      len(pcm) / 2 / 8000)
        except OSError as exc:
            log.error("mailbox %s: cannot keep the recording: %s", event.mailbox, exc)
        self.refresh(event.mailbox)

    # --- the mailbox's state -------------------------------------------------------------
    def refresh(self, box: str, force: bool = False) -> None:
        try:
            new, old = self.store.counts(box)
            greeting = self.store.greeting(box) is not None
            pin = self.store.pin(box, self.configured_pin(box))
        except MailboxError:
            return
        self.exchange.set_mailbox(box, new, old, greeting, pin)
        boxes = self.boxes()
        if box in boxes and boxes[box] is None:
            # An IP phone: the SIP side compares the counts itself (a phone shows both).
            if self.phone_mwi is not None:
                self._phones.add(box)
                self.phone_mwi(box, len(new), len(old), force)
            return
        lamp = bool(new)
        if force or self._lamp.get(box) != lamp:
            leg = boxes.get(box)
            if leg is not None and self.send_vmwi(leg, lamp):
                self._lamp[box] = lamp
                log.info("mailbox %s: message-waiting %s sent to %s", box,
                         "on" if lamp else "off", leg)
            elif leg is not None:  # the handset is off-hook or ringing: again soon
                self._lamp.pop(box, None)
                self.loop.call_later(RETRY_S, self.refresh, box)

    # --- for the commands (firmware/commands/voicemail_cmds.py) --------------------------
    def listing(self, box: str | None) -> list[dict[str, Any]]:
        try:
            found = self.store.messages(box)
        except MailboxError:
            return []
        return [dict(m.as_dict(), extension=m.mailbox) for m in reversed(found)]

    def file(self, box: str, uid: str) -> Path | None:
        try:
            if self.store.get(box, uid) is None:
                return None
            return self.store.audio(box, uid)
        except MailboxError:
            return None

    def remove(self, box: str, uid: str) -> bool:
        if self.file(box, uid) is None:
            return False
        self.handle(MailboxEdit(box, uid, "delete"))
        return True

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for box in self.boxes():
            new, old = self.store.counts(box)
            out[box] = {"new": len(new), "old": len(old), "lamp": self._lamp.get(box)}
        return out


def voicemail_root(state_dir: Path) -> Path:
    return state_dir / "voicemail"


def start_voicemail(loop: asyncio.AbstractEventLoop, state_dir: Path, box: Any, exchange: Any,
                    cache: Any, config: Callable[[], Any]) -> VoicemailService:
    """The daemon's voicemail: the Box hands it the exchange's events, the prompt cache
    plays ``voicemail:`` references from its files; ``config`` gives the running
    configuration (the mailboxes are the [[fxs]] ports and [[sip_user]] phones with
    voicemail on; a phone's lamp is lit by a NOTIFY from the SIP side)."""

    def boxes() -> dict[str, LegId | None]:
        on = {p.extension for p in config().fxs if p.voicemail}
        found: dict[str, LegId | None] = {
            slot.extension: leg for leg, slot in box.fxs.items() if slot.extension in on}
        found.update((u.extension, None) for u in config().sip_user if u.voicemail)
        return found

    def configured_pin(mailbox: str) -> str:
        owners = (*config().fxs, *config().sip_user)
        return next((str(p.voicemail_pin) for p in owners if p.extension == mailbox), "")

    sip = getattr(box, "sip", None)  # the SIP adapter: IP phones' NOTIFYs
    service = VoicemailService(loop, MailboxStore(voicemail_root(state_dir)), box.switch,
                               exchange, box.send_vmwi, boxes, configured_pin,
                               getattr(sip, "message_waiting", None),
                               getattr(sip, "message_waiting_off", None))
    box.on_voicemail = service.handle
    sources = getattr(cache, "sources", None)  # references resolved by their owner
    if sources is not None:
        sources["voicemail"] = service.resolve
    else:
        log.warning("the prompt cache resolves no voicemail: references; the mailbox menu "
                    "cannot play messages")
    service.start()
    return service
