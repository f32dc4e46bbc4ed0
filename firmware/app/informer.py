"""The auto-informer at run time: campaigns saved in the state dir and driven from the loop.

Each campaign is one JSON file, ``<state dir>/inform/<NAME>.json``, replaced atomically
(firmware/core/files.py) after every change, so a crash or power cut leaves the state of the
last change, whole. At start every running campaign is loaded and resumed
(``Campaign.resume``: calls that were in progress give their attempt back).

A campaign call, tag ``inform:NAME:NUMBER``:

1. the number is placed like a dialled one (``Dialer.originate``), with the ``[inform]``
   permission class and ring time, when the campaign's rules let it start;
2. answered: the message plays into the call;
3. the message ended: without a confirmation digit the box hangs up; with one it waits
   ``[inform] confirm_wait_s`` for the key, then hangs up;
4. the confirmation key (during or after the message) stops the message, plays
   ``builtin:confirmed`` and ends the call;
5. the call's end tells the campaign the outcome (the cause: busy, no answer, refused for
   good by the toll guard or the dial plan, any other failure).

The loop asks every running campaign for its next call every TICK_S and after every call's
end (a channel may have come free anywhere in the box), and at the campaign's deadline.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.app.dialer import Dialer, News, Rearm
from firmware.config.schema import InformConfig
from firmware.core.causes import Cause
from firmware.core.durations import parse_duration
from firmware.core.errors import CommandError, NotFoundError
from firmware.core.events import Party
from firmware.core.files import write_atomic
from firmware.pbx.informer import Campaign, InformerError, Outcome, Settings, parse_numbers
from firmware.pbx.tollguard import Permission

log = logging.getLogger(__name__)

TICK_S = 1.0
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
PREFIX = "inform:"
PROMPT_KINDS = ("builtin", "file", "say", "digits")
CONFIRMED = "builtin:confirmed"
"""Played when the confirmation key is pressed (it stops the message), then the box hangs
up."""

_BUSY = (Cause.USER_BUSY,)
_NO_ANSWER = (Cause.NO_ANSWER, Cause.NO_USER_RESPONDING)
_FOR_GOOD = (Cause.OUTGOING_CALL_BARRED, Cause.UNALLOCATED_NUMBER,
             Cause.INVALID_NUMBER_FORMAT)


def outcome_of(news: News, answered: bool) -> Outcome:
    if answered:
        return Outcome.ANSWERED
    if news.cause in _BUSY:
        return Outcome.BUSY
    if news.cause in _NO_ANSWER:
        return Outcome.NO_ANSWER
    if news.cause in _FOR_GOOD:
        return Outcome.REFUSED
    return Outcome.FAILED


def prompt_refs(text: str) -> tuple[str, ...]:
    """``--message``: prompt references, comma separated; a bare name is an uploaded file
    (``file:NAME``), as in an ``announce:`` destination."""
    refs = []
    for item in text.split(","):
        ref = item.strip()
        if not ref:
            continue
        kind, sep, rest = ref.partition(":")
        if not sep:
            ref = f"file:{ref}"
        elif kind not in PROMPT_KINDS or not rest:
            raise CommandError(f"message {ref!r}: use builtin:NAME, file:NAME, say:LANG:TEXT "
                               "or digits:NUMBER")
        refs.append(ref)
    if not refs:
        raise CommandError("message: name the prompt to play, such as file:notice.wav")
    return tuple(refs)


def settings_from(options: Mapping[str, Any]) -> Settings:
    """Campaign settings from the command's options; CommandError names the bad one."""
    def get(key: str, default: Any) -> Any:
        value = options.get(key)
        return default if value is None or value == "" else value

    try:
        retry = parse_duration(str(get("retry_after", "2m")))
    except ValueError as exc:
        raise CommandError(f"retry-after: {exc}") from exc
    try:
        return Settings(
            message=prompt_refs(str(get("message", ""))),
            confirm_digit=str(get("confirm_digit", "")),
            attempts=int(get("attempts", 3)),
            retry_after_s=retry,
            parallel=int(get("parallel", 2)),
            window=str(get("window", "")),
            caller_id=str(get("caller_id", "")))
    except InformerError as exc:
        raise CommandError(str(exc)) from exc


def minute_of_day(wall: float) -> float:
    t = time.localtime(wall)
    return t.tm_hour * 60 + t.tm_min + t.tm_sec / 60


@dataclass
class _Live:
    """A campaign call in progress: its handle, the leg that answered, its timers."""

    handle: str = ""
    leg: str = ""
    cancel: list[Callable[[], None]] = field(default_factory=list)
    thanked: bool = False  # the confirmation was taken: "confirmed" plays, then hang-up


class Informer:
    def __init__(self, folder: Path, dialer: Dialer,
                 settings: Callable[[], InformConfig],
                 prepare: Callable[[tuple[str, ...]], Awaitable[list[str]]] | None = None,
                 ) -> None:
        self.folder = folder
        self._prepare = prepare
        self._dialer = dialer
        self._settings = settings
        self._campaigns: dict[str, Campaign] = {}
        self._live: dict[tuple[str, str], _Live] = {}
        self._tick = Rearm(dialer, self.tick)
        dialer.subscribe(PREFIX, self._on_news)

    # -- start-up ------------------------------------------------------------------------

    def load(self) -> None:
        """Read every saved campaign; resume the running ones."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.glob("*.json")):
            try:
                campaign = Campaign.from_dict(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.error("campaign file %s is damaged and is skipped: %s", path, exc)
                continue
            self._campaigns[campaign.name] = campaign
            if campaign.state == "running":
                campaign.resume()
                self._save(campaign)
                log.info("campaign %s resumed: %d of %d numbers done", campaign.name,
                         campaign.summary()["done"], len(campaign.targets))
        self._tick.after(0.0)

    # -- commands ------------------------------------------------------------------------

    async def start(self, name: str, numbers: str,
                    options: Mapping[str, Any]) -> dict[str, Any]:
        """``inform.start``: the options as the command table passes them. The message's
        prompts are built into the cache first (never in the call path); one that cannot
        be (no such file, no voice) refuses the campaign, naming it."""
        settings = settings_from(options)
        if self._prepare is not None:
            problems = await self._prepare(settings.message)
            if problems:
                raise CommandError("message: " + "; ".join(problems))
        return self.begin(name, numbers, settings)

    def begin(self, name: str, numbers_text: str, settings: Settings) -> dict[str, Any]:
        if not NAME_RE.fullmatch(name):
            raise CommandError(f"campaign name {name!r}: letters, digits, - and _, up to 32")
        if name in self._campaigns:
            state = self._campaigns[name].state
            raise CommandError(f"campaign {name} exists already ({state}); pick another name")
        try:
            numbers = parse_numbers(numbers_text)
        except InformerError as exc:
            raise CommandError(str(exc)) from exc
        reserve = self._settings().reserve
        campaign = Campaign.new(name, settings, numbers, self._dialer.wall(), reserve=reserve)
        self._campaigns[name] = campaign
        self._save(campaign)
        log.info("campaign %s started: %d numbers, message %s", name, len(numbers),
                 ",".join(settings.message))
        self._tick.after(0.0)
        return campaign.summary()

    def get(self, name: str) -> Campaign:
        campaign = self._campaigns.get(name)
        if campaign is None:
            known = ", ".join(sorted(self._campaigns)) or "none"
            raise NotFoundError(f"no campaign named {name!r} (campaigns: {known})")
        return campaign

    def status(self, name: str) -> dict[str, Any]:
        return self.get(name).summary()

    def report(self, name: str) -> dict[str, Any]:
        campaign = self.get(name)
        return {**campaign.summary(), "targets": [t.as_dict() for t in campaign.targets]}

    def listing(self) -> list[dict[str, Any]]:
        return [c.summary() for c in sorted(self._campaigns.values(), key=lambda c: c.created)]

    def stop(self, name: str) -> dict[str, Any]:
        campaign = self.get(name)
        for number in campaign.stop(self._dialer.wall()):
            live = self._live.get((name, number))
            if live is not None and live.handle:
                self._dialer.hangup(live.handle)
        self._save(campaign)
        log.info("campaign %s stopped", name)
        return campaign.summary()

    # -- driving -------------------------------------------------------------------------

    def tick(self) -> None:
        """Start what may start now; come back at the next deadline (TICK_S at most)."""
        now = self._dialer.wall()
        minute = minute_of_day(now)
        running = [c for c in self._campaigns.values() if c.state == "running"]
        reserve = self._settings().reserve  # a commit changes it for the next call
        for campaign in running:
            campaign.reserve = reserve
            while (number := campaign.next_call(now, minute,
                                                self._dialer.free_channels)) is not None:
                self._save(campaign)
                self._place(campaign, number)
        if any(c.state == "running" for c in self._campaigns.values()):
            deadlines = [d for c in running if (d := c.next_deadline(now, minute)) is not None]
            self._tick.after(min([TICK_S, *(d - now for d in deadlines)]))

    def _place(self, campaign: Campaign, number: str) -> None:
        config = self._settings()
        key = (campaign.name, number)
        live = _Live()
        self._live[key] = live
        caller = Party(campaign.settings.caller_id or None, None)
        handle = self._dialer.originate(
            number, f"{PREFIX}{campaign.name}:{number}", caller,
            Permission.parse(config.permission), config.no_answer_s)
        if key in self._live:  # not refused on the spot
            live.handle = handle

    def _on_news(self, news: News) -> None:
        _, _, rest = news.tag.partition(PREFIX)
        name, _, number = rest.partition(":")
        campaign = self._campaigns.get(name)
        live = self._live.get((name, number))
        if campaign is None or live is None:
            log.debug("news of a campaign call no longer followed: %s", news)
            return
        if news.handle and not live.handle:
            live.handle = news.handle
        if news.state == "answered":
            live.leg = news.leg
            campaign.answered(number, self._dialer.wall())
            self._save(campaign)
            if campaign.state == "running":
                self._dialer.play(news.leg, campaign.settings.message)
            else:
                self._dialer.hangup(live.handle or news.leg)
        elif news.state == "played" and live.thanked:
            self._dialer.hangup(live.handle or live.leg)
        elif news.state == "played":
            campaign.heard(number)
            self._save(campaign)
            if campaign.settings.confirm_digit:
                wait = self._settings().confirm_wait_s
                live.cancel.append(self._dialer.call_later(
                    wait, lambda: self._dialer.hangup(live.handle or live.leg)))
            else:
                self._dialer.hangup(live.handle or live.leg)
        elif news.state == "digit":
            if campaign.digit(number, news.digit) and not live.thanked:
                self._save(campaign)
                live.thanked = True
                for cancel in live.cancel:  # no more waiting for the key
                    cancel()
                self._dialer.play(live.leg, (CONFIRMED,))
        elif news.state == "ended":
            del self._live[(name, number)]
            for cancel in live.cancel:
                cancel()
            target = next(t for t in campaign.targets if t.number == number)
            outcome = outcome_of(news, target.answered_at is not None)
            reason = news.reason or (news.cause.name if news.cause else "")
            campaign.ended(number, outcome, self._dialer.wall(),
                           reason if outcome is not Outcome.ANSWERED else "")
            log.info("campaign %s: %s %s (attempt %d)%s", name, number, outcome.value,
                     target.attempts, f": {reason}" if reason else "")
            self._save(campaign)
            self._tick.after(0.0)

    def _save(self, campaign: Campaign) -> None:
        path = self.folder / f"{campaign.name}.json"
        write_atomic(path, json.dumps(campaign.to_dict(), indent=1, sort_keys=True) + "\n")
