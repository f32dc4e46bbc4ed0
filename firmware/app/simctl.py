"""The simulated board's verbs for the command table (``minipbx sim ...``).

The virtual devices only move hook edges and samples; the signal work a real handset or
exchange does (DTMF tones, caller ID FSK, decoding what was heard) is done here with the
firmware's own DSP, so the box must detect everything from audio and hook timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from drivers.errors import DriverError
from drivers.sim import SimBoard, SimFxoPort, SimFxsPort
from firmware.core.errors import CommandError, NotFoundError
from firmware.core.events import Party
from firmware.dsp.callerid import CallerIdError
from firmware.dsp.cid_rx import decode_cid
from firmware.dsp.dtmf import detect_dtmf
from firmware.media.signals import caller_id_pcm, dtmf_pcm

# A person leaves a little time between lifting the handset and dialing.
DIAL_LEAD_S = 0.2


class SimControl:
    def __init__(self, board: SimBoard, ring_cadence_ms: Sequence[int],
                 pstn_cid_standard: str = "bell202") -> None:
        self._board = board
        self._cadence = tuple(ring_cadence_ms)
        self._pstn_cid = pstn_cid_standard

    # --- handsets ------------------------------------------------------------------------
    def phone_hook(self, port: int, action: str) -> dict[str, Any]:
        phone = self._phone(port)
        try:
            if action == "offhook":
                phone.lift()
            elif action == "onhook":
                phone.hang_up()
            else:
                phone.flash()
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        return {"port": port, "action": action}

    async def phone_dial(self, port: int, digits: str, pulse: bool) -> dict[str, Any]:
        phone = self._phone(port)
        if not phone.lifted:
            raise CommandError(f"phone {port} is on-hook; lift it (offhook) before dialing")
        try:
            if pulse:
                last_edge = phone.dial_pulses(digits)
                await asyncio.sleep(max(0.0, last_edge - time.monotonic()))
                return {"port": port, "digits": digits, "method": "pulse"}
            await asyncio.sleep(DIAL_LEAD_S)
            queued = phone.speak(dtmf_pcm(digits))
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        await asyncio.sleep(queued)
        return {"port": port, "digits": digits, "method": "dtmf"}

    def phone_play(self, port: int, pcm: bytes) -> dict[str, Any]:
        phone = self._phone(port)
        if not phone.lifted:
            raise CommandError(f"phone {port} is on-hook; its microphone is not on the line")
        return {"port": port, "queued_s": round(phone.speak(pcm), 3)}

    async def phone_record(self, port: int, seconds: float) -> bytes:
        phone = self._phone(port)
        return await asyncio.get_running_loop().run_in_executor(
            None, phone.earpiece.record, seconds)

    def phone_status(self, port: int) -> dict[str, Any]:
        phone = self._phone(port)
        state = phone.describe()
        state["caller_id"], state["caller_id_error"] = _decode(phone.onhook_audio())
        # Type II: what it heard off-hook since it last acknowledged a CAS (call waiting).
        cas_at = phone.cas_at
        state["waiting_caller_id"], _ = _decode(
            phone.earpiece.since(cas_at)[:16000 * 3] if cas_at is not None else b"")
        return state

    def phone_timing(self, port: int, since: float | None, level: int) -> dict[str, Any]:
        """Timing hook for tools/bench_box.py: monotonic instants of the handset's last hook
        edge, and of the first sample of magnitude >= ``level`` the line read from its
        microphone and it heard, from ``since`` on (default: that edge)."""
        phone = self._phone(port)
        edge = phone.last_hook_edge
        start = since if since is not None else (edge if edge is not None else 0.0)
        return {"port": port, "now": time.monotonic(), "hook_edge": edge,
                "spoken": _instant(phone.mic.first_sound(start, level)),
                "heard": _instant(phone.earpiece.first_sound(start, level)),
                "last_heard": _instant(phone.earpiece.last_sound(start, level))}

    # --- PSTN lines ----------------------------------------------------------------------
    def line_ring(self, port: int, cid_number: str | None,
                  cid_name: str | None) -> dict[str, Any]:
        line = self._line(port)
        pcm = b""
        if cid_number or cid_name:
            pcm = caller_id_pcm(Party(cid_number, cid_name), self._pstn_cid)
        try:
            line.ring(self._cadence, pcm)
        except DriverError as exc:
            raise CommandError(str(exc)) from exc
        return {"port": port, "ringing": True, "caller_id": bool(pcm)}

    def line_hangup(self, port: int) -> dict[str, Any]:
        self._line(port).hang_up()
        return {"port": port, "hung_up": True}

    def line_play(self, port: int, pcm: bytes) -> dict[str, Any]:
        line = self._line(port)
        return {"port": port, "queued_s": round(line.speak(pcm), 3)}

    async def line_record(self, port: int, seconds: float) -> bytes:
        line = self._line(port)
        return await asyncio.get_running_loop().run_in_executor(None, line.heard.record,
                                                                seconds)

    def line_status(self, port: int) -> dict[str, Any]:
        line = self._line(port)
        state = line.describe()
        sent = np.frombuffer(line.sent_audio(), dtype="<i2")
        state["dialled"] = "".join(d.digit for d in detect_dtmf(sent)) if sent.size else ""
        return state

    # --- lookup --------------------------------------------------------------------------
    def _phone(self, port: int) -> SimFxsPort:
        return _pick(self._board.sim_fxs, port, "phone", "FXS")

    def _line(self, port: int) -> SimFxoPort:
        return _pick(self._board.sim_fxo, port, "line", "FXO")


_Port = TypeVar("_Port", SimFxsPort, SimFxoPort)


def _pick(ports: list[_Port], port: int, what: str, kind: str) -> _Port:
    for p in ports:
        if p.index == port:
            return p
    have = ", ".join(str(p.index) for p in ports) or "none"
    raise NotFoundError(f"no simulated {what} {port}: the board's {kind} ports are {have}")


def _instant(found: tuple[float, int] | None) -> dict[str, Any] | None:
    return None if found is None else {"at": found[0], "sample": found[1]}


def _decode(pcm: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not pcm:
        return None, None
    try:
        result = decode_cid(np.frombuffer(pcm, dtype="<i2"))
    except CallerIdError as exc:
        return None, str(exc)
    info = result.info
    if info is None:
        return {"mwi": result.mwi, "standard": result.standard}, None
    return {"number": info.number, "name": info.name, "datetime": info.datetime,
            "number_absence": info.number_absence, "name_absence": info.name_absence,
            "standard": result.standard}, None
