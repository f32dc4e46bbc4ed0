"""The prompt player's rules on fakes of the box and the switch (the real path is in
tests/e2e/test_prompts*.py): PlayDone once at a play's end, never for a stopped, replaced
or looping play; a missing prompt answers PlayDone at once; barge-in watches a line's
keys only while its prompt plays; SIP legs go to the switch's file player."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware.app.promptcache import PromptCache, Use
from firmware.app.promptplay import PLAYING, PromptPlayer
from firmware.core.events import CallEvent, Digit, Play, PlayDone
from firmware.media.wavfile import write_wav

Source = Callable[[], bytes | None]


class FakeLines:
    def __init__(self) -> None:
        self.sources: dict[str, Source | None] = {}
        self.what: dict[str, str | None] = {}
        self.up: list[CallEvent] = []
        self.watching: dict[str, Callable[[], None] | None] = {}

    def has_line(self, leg: str) -> bool:
        return leg.startswith("fxs")

    def playing(self, leg: str) -> str | None:
        return self.what.get(leg)

    def play(self, leg: str, source: Source | None, what: str) -> None:
        self.sources[leg] = source
        self.what[leg] = what if source is not None else None

    def deliver_up(self, event: CallEvent) -> None:
        self.up.append(event)

    def watch_keys(self, leg: str, on_key_down: Callable[[], None] | None) -> None:
        self.watching[leg] = on_key_down


class FakeSwitch:
    def __init__(self) -> None:
        self.files: dict[str, tuple[list[Path], bool, Callable[[], None] | None]] = {}

    def play_files(self, leg: str, files: list[Path], loop: bool,
                   on_end: Callable[[], None] | None) -> None:
        self.files[leg] = (files, loop, on_end)

    def stop_files(self, leg: str) -> bool:
        return self.files.pop(leg, None) is not None

    def files_playing(self) -> set[str]:
        return set(self.files)


@pytest.fixture
def cache(tmp_path: Path) -> PromptCache:
    c = PromptCache(tmp_path)
    c.uploads.mkdir()
    for name, seconds in (("short.wav", 0.05), ("long.wav", 1.0)):
        write_wav(c.uploads / name, (1000 * np.ones(int(8000 * seconds))).astype(np.int16))
    assert c.build([Use("t", "file:short.wav"), Use("t", "file:long.wav")]) == []
    return c


def drain(source: Source, limit: int = 1000) -> int:
    for n in range(limit):
        if source() is None:
            return n
    return limit


def make(cache: PromptCache) -> tuple[PromptPlayer, FakeLines, FakeSwitch,
                                       asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    lines, switch = FakeLines(), FakeSwitch()
    player = PromptPlayer(loop, cache, switch, lines, lambda: "en")  # type: ignore[arg-type]
    return player, lines, switch, loop


def settle(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0.01))


def test_a_line_play_ends_with_one_playdone(cache: PromptCache) -> None:
    player, lines, _, loop = make(cache)
    player.handle(Play("fxs1", ("file:short.wav",)))
    assert lines.what["fxs1"] == PLAYING
    source = lines.sources["fxs1"]
    assert source is not None
    assert drain(source) == 3  # 400 samples: 3 frames, the last padded
    settle(loop)
    assert lines.up == [PlayDone("fxs1")]
    assert lines.what["fxs1"] is None and player.playing() == []
    loop.close()


def test_stopped_replaced_and_looping_plays_send_no_playdone(cache: PromptCache) -> None:
    player, lines, _, loop = make(cache)
    player.handle(Play("fxs1", ("file:short.wav",)))
    first = lines.sources["fxs1"]
    player.handle(Play("fxs1", ("file:long.wav",)))  # replaced
    assert first is not None
    drain(first)
    player.handle(Play("fxs1", ()))  # stopped
    assert lines.what["fxs1"] is None
    player.handle(Play("fxs2", ("file:short.wav",), loop=True))
    looping = lines.sources["fxs2"]
    assert looping is not None and drain(looping, 50) == 50
    settle(loop)
    assert lines.up == []
    loop.close()


def test_a_missing_prompt_answers_playdone_at_once(cache: PromptCache) -> None:
    player, lines, _, loop = make(cache)
    player.handle(Play("fxs1", ("file:nothere.wav",)))
    settle(loop)
    assert lines.up == [PlayDone("fxs1")] and player.missing == 1
    assert lines.what.get("fxs1") is None
    loop.close()


def test_barge_in_watches_keys_only_while_the_prompt_plays(cache: PromptCache) -> None:
    player, lines, _, loop = make(cache)
    player.handle(Play("fxs1", ("file:long.wav",), barge_in=True))
    key_down = lines.watching["fxs1"]
    assert key_down is not None
    key_down()  # a key's tone starts
    assert lines.what["fxs1"] is None and lines.watching["fxs1"] is None
    player.handle(Play("fxs1", ("file:long.wav",)))  # no barge-in: no watch
    assert lines.watching["fxs1"] is None
    player.digit(Digit("fxs1", "5"))  # a plain play: a digit does not stop it
    assert lines.what["fxs1"] == PLAYING
    player.handle(Play("fxs1", ("file:long.wav",)), any_key_stops=True)
    player.digit(Digit("fxs1", "5"))
    assert lines.what["fxs1"] is None
    settle(loop)
    assert lines.up == []
    loop.close()


def test_a_sip_leg_plays_the_cached_files_and_its_end_comes_back(cache: PromptCache) -> None:
    player, lines, switch, loop = make(cache)
    player.handle(Play("sip4", ("file:short.wav", "file:long.wav")))
    files, looping, on_end = switch.files["sip4"]
    assert [f.parent for f in files] == [cache.dir, cache.dir] and not looping
    assert on_end is not None
    on_end()  # from the clock thread, as pjmedia's end of playlist
    settle(loop)
    assert lines.up == [PlayDone("sip4")] and "sip4" not in switch.files
    player.handle(Play("sip4", ("file:long.wav",), loop=True))
    assert switch.files["sip4"][2] is not None  # the player ignores it for a loop
    player.handle(Play("sip4", ()))
    assert "sip4" not in switch.files
    loop.close()


def test_memory_keeps_the_most_recent_prompts_only(cache: PromptCache,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("firmware.app.promptcache.MEMORY_BYTES", 10000)
    cache = PromptCache(cache.dir.parent)  # built already; nothing in memory yet
    long = cache.pcm(["file:long.wav"], "en")[0]
    short = cache.pcm(["file:short.wav"], "en")[0]
    assert len(long) == 16000 and len(short) == 800
    kept: Any = cache._pcm
    assert list(kept) == [cache.files(["file:short.wav"], "en")[0]]
