"""The prompts of the running box, for the commands and the commit.

- At start-up the builtins of the configuration's languages are built in a worker thread
  (espeak-ng takes a few seconds for a language); the box runs meanwhile.
- At commit (``prepare``, before the configuration is saved) every prompt the candidate
  names is checked and built in a worker thread; a problem refuses the commit with the
  setting named (``menu[main].prompt: no file "welcome.wav" in prompts/``). An unchanged
  set of prompts is all cache hits: one ``stat`` a piece.
- ``prompt list``, ``prompt play NAME --port N`` (into an off-hook handset, never ringing
  it) and ``prompt upload`` (the web page's form).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from firmware.app.box import Box
from firmware.app.manager import ConfigManager
from firmware.app.promptcache import MAX_PROMPT_S, PromptCache, Use
from firmware.app.promptplay import PromptPlayer
from firmware.app.promptrefs import box_language, languages, prompt_uses
from firmware.config.paths import PathError
from firmware.core.errors import CommandError, NotFoundError
from firmware.core.events import Play
from firmware.media.prompts import PromptRefError, file_name
from firmware.media.wavfile import WavError

log = logging.getLogger(__name__)


class PromptControl:
    def __init__(self, cache: PromptCache, player: PromptPlayer, box: Box,
                 config: Any) -> None:
        self.cache = cache
        self.player = player
        self._box = box
        self._config = config
        self._warmup: asyncio.Task[None] | None = None

    @property
    def language(self) -> str:
        return box_language(self._config)

    # --- start-up and commit ------------------------------------------------------------
    def start(self) -> None:
        """Build what the running configuration needs, in the background."""
        self._warmup = asyncio.get_running_loop().create_task(self._build_running())

    async def _build_running(self) -> None:
        config = self._config
        try:
            problems = await asyncio.to_thread(self.cache.build, _uses(config),
                                               languages(config))
        except asyncio.CancelledError:  # the daemon stops: the worker stops after a piece
            self.cache.abort = True
            raise
        for where, what in problems:
            log.error("prompt %s: %s", where, what)
        await asyncio.to_thread(self.cache.prune_uploads)
        log.info("prompts ready: %d built, %d already cached", self.cache.made,
                 self.cache.hits)

    async def prepare(self, config: Any) -> None:
        """Check and build the prompts of a candidate; PathError names every problem."""
        running, self.cache.country = self.cache.country, _country(config)
        try:  # the candidate's ringback; the running one again until the commit applies
            problems = await asyncio.to_thread(self.cache.build, _uses(config),
                                               languages(config))
        finally:
            self.cache.country = running
        if problems:
            raise PathError(problems)

    def applied(self, config: Any) -> None:
        """The committed configuration runs now (its language is the default)."""
        self._config = config
        self.cache.country = _country(config)

    async def ready(self) -> None:
        if self._warmup is not None:
            await self._warmup

    # --- commands -----------------------------------------------------------------------
    def list(self) -> list[dict[str, object]]:
        return self.cache.listing(languages(self._config))

    async def play(self, name: str, port: int, language: str) -> dict[str, Any]:
        leg = f"fxs{port}"
        slot = self._box.fxs.get(leg)
        if slot is None:
            have = ", ".join(str(s.port.index) for s in self._box.fxs.values()) or "none"
            raise NotFoundError(f"no FXS port {port}; the box has {have}")
        if not slot.port.offhook:
            raise CommandError(f"port {port} is on-hook: lift the handset first (prompt play "
                               "does not ring the phone)")
        state = self._box.exchange.leg_state(leg)
        if state not in ("idle", "unknown", "dialling", "off-hook"):
            raise CommandError(f"port {port} is in a call ({state}): prompt play takes a "
                               "handset that is off-hook and in no call")
        ref = self._ref(name)
        lang = language or self.language
        try:
            pieces = self.cache.expand(ref, lang)
            built = [await asyncio.to_thread(self.cache.ensure, p) for p in pieces]
        except (PromptRefError, WavError) as exc:
            raise CommandError(f"cannot play {name}: {exc}") from None
        self.player.handle(Play(leg, (ref,), language=lang), any_key_stops=True)
        if leg not in self.player.playing():
            raise CommandError(f"cannot play {name} into port {port}: see the log")
        return {"port": port, "prompt": ref, "language": lang,
                "seconds": round(sum(b.seconds for b in built), 2)}

    def _ref(self, name: str) -> str:
        if ":" in name:
            return name
        try:
            if (self.cache.uploads / file_name(name)).exists():
                return f"file:{file_name(name)}"
        except PromptRefError:
            pass
        return f"builtin:{name}"

    async def upload(self, name: str, data: bytes) -> dict[str, Any]:
        try:
            built = await asyncio.to_thread(self.cache.store_upload, name, data)
        except (WavError, PromptRefError) as exc:
            raise CommandError(str(exc)) from None
        return {"name": f"file:{built.piece.name}", "seconds": round(built.seconds, 2),
                "max_s": MAX_PROMPT_S}

    def status(self) -> dict[str, Any]:
        p = self.player
        return {"playing": p.playing(), "plays": p.plays, "done": p.done,
                "missing": p.missing, "built": self.cache.made, "cache_hits": self.cache.hits,
                "language": self.language,
                # Timing hook (tools/bench_prompts.py): monotonic instant of each leg's last
                # Play, as the player took it.
                "started_at": dict(p.started_at)}

    def stop(self, port: int) -> dict[str, Any]:
        self.player.stop(f"fxs{port}")
        return {"port": port, "stopped": True}


def _country(config: Any) -> str:
    return str(getattr(getattr(config, "box", None), "country", "") or "us")


def _uses(config: Any) -> list[Use]:
    """The configuration's prompts, and the country's ringback (builtin:ringback)."""
    return [*prompt_uses(config), Use("box.country", "builtin:ringback")]


def start_prompts(loop: asyncio.AbstractEventLoop, state_dir: Path, config: Any, box: Box,
                  manager: ConfigManager) -> PromptControl:
    """The prompt cache and player of the daemon: Play events go to the player, commits
    check and build their prompts first, and the builtins start building now."""
    cache = PromptCache(state_dir)
    control: PromptControl | None = None

    def language() -> str:
        return control.language if control is not None else box_language(config)

    cache.country = _country(config)
    player = PromptPlayer(loop, cache, box.switch, box, language)
    box.on_play = player.handle
    box.on_digit = player.digit
    control = PromptControl(cache, player, box, config)
    manager.prepare_hooks.append(control.prepare)

    def applied(old: Any, new: Any) -> None:
        assert control is not None
        control.applied(new)

    manager.watch(applied)
    control.start()
    return control
