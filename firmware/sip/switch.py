"""The media switch: pjsua2's conference bridge, with the connection map kept in Python.

Every line is one bridge port (:class:`LineBridgePort`), created at start-up and kept until
shutdown (destroying an AudioMediaPort while the clock runs is a use-after-free in pjsua2
2.15.1). What the box itself plays into a line (tones, caller ID, DTMF) is mixed in by the
port; the detectors tap the line's audio there too. pjmedia asks a port for its audio only
while something listens to it, so a tapped line with no call partner is linked to the null
sound device, whose clock drives the bridge.

SIP call legs join with the AudioMedia of their call once its media is active. Connects and
disconnects take effect on the bridge's next tick, so the desired state lives here and is
applied whenever either end appears or goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.core.events import LegId
from firmware.sip.callrec import MediaRecorders
from firmware.sip.frames import FrameIO, select_frame_io
from firmware.sip.lineports import LinePorts, choose_line_ports
from firmware.sip.nativeport import NativeLinePort
from firmware.sip.player import PromptPlayer
from firmware.sip.ports import FrameSink, FrameSource, LineBridgePort, RecordSink

log = logging.getLogger(__name__)


@dataclass
class _Line:
    port: LineBridgePort | NativeLinePort
    # Linked to the null device so that pjmedia asks for the line's audio (for the tap).
    listened: bool = False


class MediaSwitch:
    def __init__(self, null_sink: Any, line_ports: LinePorts | None = None) -> None:
        """``null_sink``: the AudioMedia of the null sound device (the bridge's master);
        ``line_ports``: native or Python ports (firmware/sip/lineports.py; chosen here by
        default, which needs the bridge's clock running)."""
        self.io: FrameIO = select_frame_io()
        self.line_ports: LinePorts = line_ports or choose_line_ports()
        self._null_sink: Any | None = null_sink
        self._lines: dict[LegId, _Line] = {}
        self._calls: dict[LegId, Any] = {}  # leg -> pjsua2 AudioMedia of the call
        self._wanted: set[frozenset[LegId]] = set()
        self._made: set[frozenset[LegId]] = set()
        self._players: dict[LegId, PromptPlayer] = {}  # prompts into SIP calls
        self.media_recorders = MediaRecorders()  # SIP-to-SIP call recording

    # --- ports ---------------------------------------------------------------------------
    def add_line(self, leg: LegId, read: Callable[[], bytes], write: FrameSink) -> None:
        if leg in self._lines:
            raise ValueError(f"line {leg} is already on the bridge")
        self._lines[leg] = _Line(self.line_ports.make(leg, self.io, read, write))

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
        if (player := self._players.get(leg)) is not None:
            player.connect(media)  # a prompt asked for before the call's media was up

    def forget(self, leg: LegId) -> None:
        """A SIP leg ended: drop its media and every link it wanted."""
        self.stop_files(leg)
        self.media_recorders.stop(leg)
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

    def partners(self, leg: LegId) -> set[LegId]:
        """The legs ``leg`` is to be bridged with (made or waiting for media)."""
        return {x for pair in self._wanted if leg in pair for x in pair if x != leg}

    def bridged(self) -> list[tuple[LegId, LegId]]:
        return sorted(tuple(sorted(p)) for p in self._made)  # type: ignore[misc]

    def play(self, leg: LegId, source: FrameSource | None) -> None:
        """Play ``source`` into a line (None stops). The source runs on the clock thread."""
        self._lines[leg].port.source = source

    def play_files(self, leg: LegId, files: Sequence[Path], loop: bool,
                   on_end: Callable[[], None] | None) -> None:
        """Play cached 8 kHz WAV files into SIP call ``leg`` (firmware/sip/player.py);
        ``on_end`` runs on the clock thread when a non-looping list ends."""
        self.stop_files(leg)
        player = PromptPlayer(f"prompt-{leg}", files, loop, on_end)
        self._players[leg] = player
        if (media := self._calls.get(leg)) is not None:
            player.connect(media)

    def files_playing(self) -> set[LegId]:
        return set(self._players)

    def stop_files(self, leg: LegId) -> bool:
        """Stop the prompt playing into SIP call ``leg``; False if none played."""
        player = self._players.pop(leg, None)
        if player is None:
            return False
        player.disconnect()  # the player itself goes with the last reference, on the loop
        return True

    def tap(self, leg: LegId, sink: FrameSink | None) -> None:
        """Send the line's own audio to ``sink`` (on the clock thread); None stops."""
        entry = self._lines[leg]
        entry.port.tap = sink
        # A native port's line is read by its pump, listened to or not.
        want = sink is not None and self._null_sink is not None \
            and not isinstance(entry.port, NativeLinePort)
        if want and not entry.listened:
            entry.port.startTransmit(self._null_sink)
            entry.listened = True
        elif not want and entry.listened:
            entry.port.stopTransmit(self._null_sink)
            entry.listened = False

    def record(self, leg: LegId, sink: RecordSink | None) -> None:
        """Give a call recording (on the clock thread) the line's own audio and what the
        bridge sends it, once a tick; None stops. Only a line leg can be recorded here."""
        self._lines[leg].port.record = sink

    def can_record(self, leg: LegId) -> bool:
        return leg in self._lines

    def record_media(self, leg: LegId, path: str | None) -> bool:
        """A SIP leg's far-end voice to a WAV at ``path`` (firmware/sip/callrec.py), for a
        call with no line leg; None stops. False when the leg has no call media."""
        if path is None:
            return self.media_recorders.stop(leg)
        media = self._calls.get(leg)
        if media is None:
            return False
        self.media_recorders.start(leg, media, path)
        return True

    def counts(self) -> dict[str, int]:
        """What the bridge holds, for leak checks (the soak test): line ports (fixed),
        SIP call media joined, links wanted and links made."""
        return {"line_ports": len(self._lines), "call_ports": len(self._calls),
                "links_wanted": len(self._wanted), "links_made": len(self._made)}

    def port_errors(self) -> int:
        return sum(e.port.errors for e in self._lines.values())

    def close(self) -> None:
        """Drop every link and port (before the SIP library goes)."""
        for pair in list(self._made):
            self._unlink(pair)
        for leg in list(self._players):
            self.stop_files(leg)
        self.media_recorders.close()
        for leg in list(self._lines):
            self.play(leg, None)
            self.tap(leg, None)
        self._calls.clear()
        self._lines.clear()
        self._null_sink = None
        self.line_ports.close()

    # --- internals -----------------------------------------------------------------------
    def _media(self, leg: LegId) -> Any | None:
        entry = self._lines.get(leg)
        if entry is None:
            return self._calls.get(leg)
        # pjsua2 connects AudioMedia objects: a native port's is pjsua2's for its slot.
        return entry.port.media if isinstance(entry.port, NativeLinePort) else entry.port

    def _mark_linked(self, pair: frozenset[LegId]) -> None:
        """Tell native ports whether they have a partner (their pump reads the line)."""
        for leg in pair:
            entry = self._lines.get(leg)
            if entry is not None and isinstance(entry.port, NativeLinePort):
                mine = [p for p in self._made if leg in p]
                entry.port.internal = any(all(x in self._lines for x in p) for p in mine)
                entry.port.linked = bool(mine)

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
            self._mark_linked(pair)

    def _unlink(self, pair: frozenset[LegId]) -> None:
        self._made.discard(pair)
        self._mark_linked(pair)
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
