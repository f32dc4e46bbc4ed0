"""A fake Dialer (firmware/app/dialer.py) for the unit tests of the informer and the
call-back services: it records what they ask and lets a test send the calls' news."""

from __future__ import annotations

from collections.abc import Callable

from firmware.app.dialer import PLENTY, News
from firmware.core.causes import Cause
from firmware.core.clock import FakeClock
from firmware.core.events import Party
from firmware.pbx.tollguard import Permission

NOON = 1_700_000_000.0 - (1_700_000_000.0 % 86400) + 12 * 3600  # a day at 12:00 UTC


class FakeDialer:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.placed: list[tuple[str, str, Permission | None]] = []
        self.plays: list[tuple[str, tuple[str, ...]]] = []
        self.hangups: list[str] = []
        self.joined: list[tuple[str, str]] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.subs: dict[str, Callable[[News], None]] = {}
        self.free = PLENTY
        self.refuse: dict[str, Cause] = {}

    def originate(self, to: str, tag: str, caller: Party, permission: Permission | None,
                  ring_s: float) -> str:
        handle = f"orig{len(self.placed) + 1}"
        self.placed.append((to, tag, permission))
        if to in self.refuse:
            self.news(tag, "ended", handle=handle, cause=self.refuse[to], reason="denied")
        return handle

    def hangup(self, handle_or_leg: str) -> None:
        self.hangups.append(handle_or_leg)

    def play(self, leg: str, prompts: tuple[str, ...], language: str = "",
             loop: bool = False) -> None:
        self.plays.append((leg, prompts))

    def join(self, a: str, b: str) -> None:
        self.joined.append((a, b))

    def subscribe(self, prefix: str, fn: Callable[[News], None]) -> None:
        self.subs[prefix] = fn

    def free_channels(self, number: str) -> int:
        return self.free

    def wall(self) -> float:
        return self.clock.now()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry = (self.clock.now() + delay, fn)
        self.timers.append(entry)
        return lambda: self.timers.remove(entry) if entry in self.timers else None

    def run_due(self) -> None:
        while due := [t for t in self.timers if t[0] <= self.clock.now()]:
            entry = min(due, key=lambda t: t[0])
            self.timers.remove(entry)
            entry[1]()

    def news(self, tag: str, state: str, **kw: object) -> None:
        for prefix, fn in self.subs.items():
            if tag.startswith(prefix):
                fn(News(handle=str(kw.pop("handle", "")), tag=tag, state=state,
                        **kw))  # type: ignore[arg-type]
