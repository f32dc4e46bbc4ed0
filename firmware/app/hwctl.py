"""Installer diagnostics (``minipbx hw ...``), on whatever board the box runs.

They act on a port only while it is not in a call, and hand it back as they found it:
a mistake here must not disturb a call in progress.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np

from drivers.base import (
    FxsPort,
    HookEdge,
    HookFlash,
    LineSignal,
    LoopCurrent,
    PolarityReversal,
    PulseDigit,
    RingBurst,
)
from drivers.errors import DriverError
from firmware.app.box import Box
from firmware.core.errors import CommandError, NotFoundError
from firmware.dsp.levels import signal_dbm0
from firmware.dsp.tones import ToneGenerator, ToneSpec, ToneStep
from firmware.media.sources import GeneratorSource

MAX_SECONDS = 300.0
# The loopback test: a 1 kHz tone at -10 dBm0 for this long, then listen a little longer.
LOOPBACK_TONE_S = 1.0
LOOPBACK_LISTEN_S = 1.5
LOOPBACK_HZ = 1000.0
TEST_TONE = ToneSpec("1000hz", (ToneStep((LOOPBACK_HZ,), None, -10.0),))


class HwControl:
    def __init__(self, box: Box) -> None:
        self._box = box

    def ports(self) -> list[dict[str, Any]]:
        status = self._box.status()
        link = status.get("link")  # a co-processor board: its link's state on every row
        out = []
        for p in status["ports"]:
            row = {**p, "board": self._box.board.name}
            if link is not None:
                row["link"] = link["state"]
            out.append(row)
        return out

    async def ring(self, port: int, seconds: float) -> dict[str, Any]:
        slot = self._idle_fxs(port)
        _check_seconds(seconds)
        ring = self._box.profile.ring
        try:
            slot.port.start_ringing(ring.cadence_ms, ring.frequency_hz)
        except DriverError as exc:
            raise CommandError(f"fxs{port} did not ring: {exc}") from exc
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline and slot.port.ringing:
            await asyncio.sleep(0.05)
        tripped = not slot.port.ringing
        if not tripped:
            slot.port.stop_ringing()
        return {"port": port, "rang_s": round(time.monotonic() - started, 2),
                "cadence_ms": list(ring.cadence_ms), "frequency_hz": ring.frequency_hz,
                "ring_trip": tripped}

    async def tone(self, port: int, which: str, seconds: float) -> dict[str, Any]:
        leg = self._free_leg(port)
        _check_seconds(seconds)
        if which == "dial":
            spec = self._box.profile.tone("dial")
        elif which == "1000hz":
            spec = TEST_TONE
        else:
            raise CommandError(f"unknown test tone {which!r}; use dial or 1000hz")
        self._box.play(leg, GeneratorSource(ToneGenerator(spec)), f"test:{which}")
        try:
            await asyncio.sleep(seconds)
        finally:
            self._box.play(leg, None, "")
        return {"port": port, "tone": which, "seconds": seconds}

    async def loopback(self, port: int) -> dict[str, Any]:
        """Play a 1 kHz tone into the port and record what comes back from the line: on a
        real two-wire port the hybrid returns part of it; level and delay tell the installer
        whether the audio path works both ways."""
        leg = self._free_leg(port)
        heard: list[tuple[float, bytes]] = []
        lock = threading.Lock()

        def tap(frame: bytes) -> None:
            with lock:
                heard.append((time.monotonic(), frame))

        self._box.diag_taps[leg] = tap
        self._box.sync_taps()
        started = time.monotonic()
        self._box.play(leg, GeneratorSource(ToneGenerator(TEST_TONE)), "test:loopback")
        try:
            await asyncio.sleep(LOOPBACK_TONE_S)
        finally:
            self._box.play(leg, None, "")
        await asyncio.sleep(LOOPBACK_LISTEN_S - LOOPBACK_TONE_S)
        self._box.diag_taps.pop(leg, None)
        self._box.sync_taps()
        with lock:
            frames = list(heard)
        return _loopback_report(port, started, frames)

    def hook_events(self, port: int | None, since: int) -> dict[str, Any]:
        events = []
        last_edge: dict[int, float] = {}
        for seq, sig in self._box.signal_log:
            row = _describe(sig)
            if isinstance(sig, HookEdge):
                prev = last_edge.get(sig.port)
                if prev is not None:
                    row["after_ms"] = round((sig.at - prev) * 1000.0, 1)
                last_edge[sig.port] = sig.at
            if seq <= since or (port is not None and row.get("port") != port):
                continue
            events.append({"seq": seq, **row})
        return {"events": events, "last": self._box.signal_seq}

    # --- helpers ---------------------------------------------------------------------------
    def _idle_fxs(self, port: int) -> Any:
        leg = f"fxs{port}"
        slot = self._box.fxs.get(leg)
        if slot is None or not isinstance(slot.port, FxsPort):
            raise NotFoundError(f"no FXS port {port} on board {self._box.board.name}")
        if slot.line.state != "idle" or slot.port.offhook:
            raise CommandError(f"fxs{port} is {slot.line.state}; ring it when it is idle "
                               "and on-hook")
        return slot

    def _free_leg(self, port: int) -> str:
        for leg in (f"fxs{port}", f"fxo{port}"):
            if leg in self._box.fxs or leg in self._box.fxo:
                break
        else:
            raise NotFoundError(f"no port {port} on board {self._box.board.name}")
        state = self._box.exchange.leg_state(leg)
        if state not in ("idle", "off-hook", "unknown"):
            raise CommandError(f"{leg} is {state}; test it when no call uses it")
        return leg


def _check_seconds(seconds: float) -> None:
    if not 0 < seconds <= MAX_SECONDS:
        raise CommandError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}")


def _describe(sig: LineSignal) -> dict[str, Any]:
    row: dict[str, Any] = {"type": type(sig).__name__, "port": sig.port,
                           "at": round(sig.at, 4)}
    if isinstance(sig, HookEdge):
        row.update(hook="off" if sig.offhook else "on", debounced=sig.debounced)
    elif isinstance(sig, PulseDigit):
        row["digit"] = sig.digit
    elif isinstance(sig, RingBurst):
        row.update(on=sig.on, kind=sig.kind)
    elif isinstance(sig, LoopCurrent):
        row["present"] = sig.present
    elif isinstance(sig, HookFlash | PolarityReversal):
        pass
    else:
        row["what"] = getattr(sig, "what", "")
    return row


def _loopback_report(port: int, started: float,
                     frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    if not frames:
        return {"port": port, "returned": False, "level_dbm0": None, "delay_ms": None,
                "note": "no audio came back from the line (no hybrid echo, or no codec)"}
    pcm = np.frombuffer(b"".join(f for _, f in frames), dtype="<i2").astype(np.float64)
    level = float(signal_dbm0(pcm))
    # The first frame well above the noise floor marks the tone's return.
    per_frame = [float(np.sqrt(np.mean(np.frombuffer(f, "<i2").astype(np.float64) ** 2)))
                 for _, f in frames]
    peak = max(per_frame)
    onset = next((t for (t, _), rms in zip(frames, per_frame, strict=True)
                  if peak > 0 and rms > peak / 4), None)
    returned = peak > 30.0  # about -60 dBm0: above the noise of a quiet line
    return {
        "port": port,
        "returned": returned,
        "level_dbm0": round(level, 1),
        "delay_ms": round((onset - started) * 1000.0, 1) if returned and onset else None,
        "note": "" if returned else "no 1 kHz came back from the line",
    }
