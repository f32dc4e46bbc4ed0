"""``Play`` made audible: prompts from the cache into an analog line or a SIP call, and
``PlayDone`` back to the exchange when a non-looping play ends.

- A line (FXS or FXO) plays through its bridge port's source (firmware/media/promptsource.py),
  the same way as tones: a new tone from the line machine replaces the prompt, and a prompt
  replaces a tone. The line's DTMF detector keeps listening, so digits still reach the
  exchange while a prompt plays.
- A SIP call plays through a pjmedia playlist linked to the call's audio
  (firmware/sip/player.py); RFC 4733 digits arrive as ever.
- An empty ``Play`` stops at once: the switch drops the source, and the bridge's next tick
  (20 ms) carries no more prompt. A stopped play sends no PlayDone; neither does a loop.
- Barge-in on a line (``Play.barge_in``): the line's DTMF detector runs in its quick mode
  while the prompt plays, and the start of a key's tone stops the prompt, before the digit
  is decoded (which takes until the key is released); the Digit then goes up as ever.
- The end is seen on pjmedia's clock thread and handed to the loop with
  ``call_soon_threadsafe``; a play number per leg drops the end of a play that another
  play or a stop replaced meanwhile.
- Nothing here builds audio: a prompt missing from the cache is logged and answered with
  PlayDone at once, so a menu waiting for the end of its prompt goes on.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from typing import Protocol

from firmware.app.promptcache import PromptCache
from firmware.core.events import CallEvent, Digit, LegId, Play, PlayDone
from firmware.media.promptsource import PromptSource
from firmware.sip.switch import MediaSwitch

log = logging.getLogger(__name__)

PLAYING = "prompt"
"""What a line's status shows under ``playing`` while a prompt plays."""


class Lines(Protocol):
    """What the player needs of the Box: its lines, playing into them, and the way up."""

    def has_line(self, leg: LegId) -> bool: ...

    def watch_keys(self, leg: str, on_key_down: Callable[[], None] | None) -> None: ...

    def playing(self, leg: LegId) -> str | None: ...

    def play(self, leg: str, source: Callable[[], bytes | None] | None, what: str) -> None: ...

    def deliver_up(self, event: CallEvent) -> None: ...


class PromptPlayer:
    def __init__(self, loop: asyncio.AbstractEventLoop, cache: PromptCache,
                 switch: MediaSwitch, lines: Lines,
                 language: Callable[[], str]) -> None:
        self._loop = loop
        self._cache = cache
        self._switch = switch
        self._lines = lines
        self._language = language
        self._numbers = itertools.count(1)
        self._current: dict[LegId, int] = {}  # leg -> number of the play it has now
        # Legs whose play any key stops (``prompt play``; a menu stops its own prompt).
        self._any_key: set[LegId] = set()
        self._watching: set[LegId] = set()  # lines whose key starts stop their prompt
        # Timing hook (tools/bench.py): monotonic instants of the last Play and of its
        # first frame taken by the bridge, per leg.
        self.started_at: dict[LegId, float] = {}
        self.first_frame_at: dict[LegId, float] = {}
        self.plays = 0
        self.done = 0  # PlayDone sent up
        self.missing = 0

    def handle(self, event: Play, any_key_stops: bool = False) -> None:
        """A Play from the exchange (loop thread); ``any_key_stops``: a digit from the leg
        stops it (the exchange is not waiting for this play)."""
        leg = event.leg
        self.stop(leg)
        self._forget_ended_calls()
        if not event.prompts:
            return
        language = event.language or self._language()
        number = next(self._numbers)
        self._current[leg] = number
        if any_key_stops:
            self._any_key.add(leg)
        if (event.barge_in or any_key_stops) and self._lines.has_line(leg):
            self._lines.watch_keys(leg, self._key_down(leg, number))
            self._watching.add(leg)
        self.started_at[leg] = time.monotonic()
        self.plays += 1
        on_end = self._on_end_threadsafe(leg, number)
        try:
            if self._lines.has_line(leg):
                pieces = self._cache.pcm(event.prompts, language)
                source = PromptSource(pieces, event.loop, on_end, self._first_frame(leg))
                self._lines.play(leg, source, PLAYING)
            else:
                files = self._cache.files(event.prompts, language)
                self._switch.play_files(leg, files, event.loop, on_end)
        except Exception as exc:  # missing from the cache, or pjmedia refused the files
            self.missing += 1
            log.error("%s: cannot play %s: %s", leg, ", ".join(event.prompts), exc)
            self.stop(leg)
            if not event.loop:
                self._loop.call_soon(self._lines.deliver_up, PlayDone(leg))
            return
        log.debug("%s: playing %s (%s)%s", leg, ", ".join(event.prompts), language,
                  " in a loop" if event.loop else "")

    def stop(self, leg: LegId) -> None:
        """Stop what plays into ``leg`` (no PlayDone); a tone that replaced it stays."""
        self._any_key.discard(leg)
        if leg in self._watching:
            self._watching.discard(leg)
            self._lines.watch_keys(leg, None)
        if self._current.pop(leg, None) is None:
            return
        if self._lines.has_line(leg):
            if self._lines.playing(leg) == PLAYING:
                self._lines.play(leg, None, PLAYING)
        else:
            self._switch.stop_files(leg)

    def digit(self, event: Digit) -> None:
        """A digit on its way up to the exchange (loop thread)."""
        if event.leg in self._any_key:
            log.debug("%s: digit %s stops the prompt", event.leg, event.digit)
            self.stop(event.leg)

    def _forget_ended_calls(self) -> None:
        """A SIP call that ended took its player with it (MediaSwitch.forget)."""
        alive = self._switch.files_playing()
        for leg in [g for g in self._current
                    if not self._lines.has_line(g) and g not in alive]:
            del self._current[leg]

    def playing(self) -> list[LegId]:
        return sorted(self._current)

    # --- the end of a play -------------------------------------------------------------
    def _on_end_threadsafe(self, leg: LegId, number: int) -> Callable[[], None]:
        def on_end() -> None:  # clock thread
            self._loop.call_soon_threadsafe(self._ended, leg, number)
        return on_end

    def _key_down(self, leg: LegId, number: int) -> Callable[[], None]:
        def key_down() -> None:  # loop thread, from the line's DTMF detector
            if self._current.get(leg) == number:
                log.debug("%s: a key stops the prompt (barge-in)", leg)
                self.stop(leg)
        return key_down

    def _first_frame(self, leg: LegId) -> Callable[[], None]:
        def first() -> None:  # clock thread; a dict store is atomic
            self.first_frame_at[leg] = time.monotonic()
        return first

    def _ended(self, leg: LegId, number: int) -> None:
        if self._current.get(leg) != number:
            return  # stopped or replaced meanwhile
        self.stop(leg)
        self.done += 1
        self._lines.deliver_up(PlayDone(leg))
