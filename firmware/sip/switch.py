"""The media switch: pjsua2's conference bridge, with the connection map kept in Python.

Every line port is a pair of bridge ports created once at start-up and kept until shutdown
(destroying an AudioMediaPort while the clock runs is a use-after-free in pjsua2 2.15.1):

* ``line``: the port's own audio: what the bridge sends it goes to the line, and what the
  line sends is read from the board.
* ``signal``: what the box itself plays into the line (tones, caller ID, prompts), and the
  tap through which the line's audio reaches the detectors (DTMF, caller ID, busy tone).

Links are made only while needed: an idle on-hook line costs no Python callbacks. SIP call
legs join with the AudioMedia of their call once its media is active. Connects and
disconnects take effect on the bridge's next tick, so the desired state lives here and is
applied whenever either end appears or goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.core.events import LegId
from firmware.sip.frames import FrameIO, select_frame_io
from firmware.sip.ports import FrameSink, FrameSource, PyPort

log = logging.getLogger(__name__)


@dataclass
class _Line:
    line: PyPort
    signal: PyPort
    playing: bool = False
    tapped: bool = False


class MediaSwitch:
    def __init__(self) -> None:
        self.io: FrameIO = select_frame_io()
        self._lines: dict[LegId, _Line] = {}
        self._calls: dict[LegId, Any] = {}  # leg -> pjsua2 AudioMedia of the call
        self._wanted: set[frozenset[LegId]] = set()
        self._made: set[frozenset[LegId]] = set()

    # --- ports ---------------------------------------------------------------------------
    def add_line(self, leg: LegId, read: Callable[[], bytes], write: FrameSink) -> None:
        if leg in self._lines:
            raise ValueError(f"line {leg} is already on the bridge")
        line = PyPort(f"{leg}-line", self.io, source=read, sink=write)
        signal = PyPort(f"{leg}-signal", self.io)
        self._lines[leg] = _Line(line, signal)

    def set_call_media(self, leg: LegId, media: Any | None) -> None:
        """Give (or take away, with None) the AudioMedia of a SIP call leg."""
        if media is None:
            self._drop_links_of(leg)
            self._calls.pop(leg, None)
            return
        if leg in self._calls:
            self._drop_links_of(leg)
        self._calls[leg] = media
        self._apply()

    def forget(self, leg: LegId) -> None:
        """A SIP leg ended: drop its media and every link it wanted."""
        self.set_call_media(leg, None)
        self._wanted = {pair for pair in self._wanted if leg not in pair}

    # --- links ---------------------------------------------------------------------------
    def bridge(self, a: LegId, b: LegId) -> None:
        if a == b:
            return
        self._wanted.add(frozenset((a, b)))
        self._apply()

    def unbridge(self, a: LegId, b: LegId) -> None:
        pair = frozenset((a, b))
        self._wanted.discard(pair)
        if pair in self._made:
            self._unlink(pair)

    def bridged(self) -> list[tuple[LegId, LegId]]:
        return sorted(tuple(sorted(p)) for p in self._made)  # type: ignore[misc]

    def play(self, leg: LegId, source: FrameSource | None) -> None:
        """Play ``source`` into a line (None stops). The source runs on the clock thread."""
        entry = self._lines[leg]
        entry.signal.source = source
        if source is not None and not entry.playing:
            entry.signal.startTransmit(entry.line)
            entry.playing = True
        elif source is None and entry.playing:
            entry.signal.stopTransmit(entry.line)
            entry.playing = False

    def tap(self, leg: LegId, sink: FrameSink | None) -> None:
        """Send the line's own audio to ``sink`` (on the clock thread); None stops."""
        entry = self._lines[leg]
        entry.signal.sink = sink
        if sink is not None and not entry.tapped:
            entry.line.startTransmit(entry.signal)
            entry.tapped = True
        elif sink is None and entry.tapped:
            entry.line.stopTransmit(entry.signal)
            entry.tapped = False

    def port_errors(self) -> int:
        return sum(e.line.errors + e.signal.errors for e in self._lines.values())

    def close(self) -> None:
        """Drop every link and port (before the SIP library goes)."""
        for pair in list(self._made):
            self._unlink(pair)
        for leg in list(self._lines):
            self.play(leg, None)
            self.tap(leg, None)
        self._calls.clear()
        self._lines.clear()

    # --- internals -----------------------------------------------------------------------
    def _media(self, leg: LegId) -> Any | None:
        entry = self._lines.get(leg)
        return entry.line if entry is not None else self._calls.get(leg)

    def _apply(self) -> None:
        for pair in self._wanted - self._made:
            a, b = tuple(pair)
            ma, mb = self._media(a), self._media(b)
            if ma is None or mb is None:
                continue
            try:
                ma.startTransmit(mb)
                mb.startTransmit(ma)
            except Exception:
                log.exception("could not connect %s and %s", a, b)
                continue
            self._made.add(pair)

    def _unlink(self, pair: frozenset[LegId]) -> None:
        self._made.discard(pair)
        a, b = tuple(pair)
        ma, mb = self._media(a), self._media(b)
        for src, dst in ((ma, mb), (mb, ma)):
            if src is None or dst is None:
                continue
            try:
                src.stopTransmit(dst)
            except Exception:  # the call's media may already be gone
                log.debug("stopTransmit %s failed", pair, exc_info=True)

    def _drop_links_of(self, leg: LegId) -> None:
        for pair in [p for p in self._made if leg in p]:
            self._unlink(pair)
