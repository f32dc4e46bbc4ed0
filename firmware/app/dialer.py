"""What the auto-informer and the call-back ask of the box: place a call from the box
itself, hear what became of it, play prompts into it, join two of them, hang up; and how
many channels a number's way out has free for people.

:class:`Dialer` is the seam: the services (``firmware/app/informer.py``,
``firmware/app/callback.py``) are written and unit-tested against it; the box's own
implementation, :class:`firmware.app.boxdialer.BoxDialer`, sits on the exchange's originate
API (``Exchange.originate``, ``Originated`` events; /work/coord/OFFICE.md).

Tags name the service and the call: ``inform:NAME:NUMBER``, ``callback:ID:office``,
``callback:ID:visitor``; the news of a call goes to the service whose prefix its tag has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware.core.causes import Cause
from firmware.core.events import Party
from firmware.pbx.tollguard import Permission

PLENTY = 99
"""Free channels of a way out that costs nobody a shared channel (an extension's line)."""


@dataclass(frozen=True)
class News:
    """What happened to an originated call: ``state`` is ringing, answered (``leg`` =
    who answered), digit (``digit``), played (the prompts ended), or ended (``cause``,
    ``reason``)."""

    handle: str
    tag: str
    state: str
    leg: str = ""
    cause: Cause | None = None
    reason: str = ""
    digit: str = ""


class Dialer(Protocol):
    def originate(self, to: str, tag: str, caller: Party, permission: Permission | None,
                  ring_s: float) -> str:
        """Place a call to ``to`` (a dialled number or a destination such as
        ``group:sales``); returns its handle. A refusal comes back as News "ended",
        possibly before this returns."""
        ...

    def hangup(self, handle_or_leg: str) -> None: ...

    def play(self, leg: str, prompts: tuple[str, ...], language: str = "",
             loop: bool = False) -> None:
        """Play prompts into an answered leg (``loop``: until stopped); () stops."""
        ...

    def join(self, a: str, b: str) -> None:
        """Bridge two originated calls (``a`` answered) into one ordinary call."""
        ...

    def subscribe(self, prefix: str, fn: Callable[[News], None]) -> None:
        """Send the news of calls whose tag starts with ``prefix`` to ``fn``."""
        ...

    def free_channels(self, number: str) -> int:
        """Channels free now on the way ``number`` would leave (PLENTY for an
        extension, or for a number no route takes: it is refused when placed)."""
        ...

    def wall(self) -> float:
        """Wall-clock time (Unix seconds), the clock campaigns and schedules use."""
        ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run ``fn`` on the loop after ``delay`` seconds; returns a cancel function."""
        ...


class Rearm:
    """``fn`` once, on the dialer's loop, at the latest time asked: arming again replaces
    what was armed (a service's one timer: its next deadline, or at once on a change)."""

    def __init__(self, dialer: Dialer, fn: Callable[[], None]) -> None:
        self._dialer = dialer
        self._fn = fn
        self._cancel: Callable[[], None] | None = None

    def after(self, delay: float) -> None:
        if self._cancel is not None:
            self._cancel()
        self._cancel = self._dialer.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._cancel = None
        self._fn()
