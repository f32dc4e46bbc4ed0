"""What ``minipbx status`` shows of the running box: each line port, the calls, the media
switch's counts, and what the daemon added (call recording, the co-processor's link).

:func:`box_status` only reads; ``Box.status`` calls it for every status (polled every
0.2 s).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from firmware.app.lineecho import LineEcho
from firmware.pbx.exchange import Exchange
from firmware.sip.switch import MediaSwitch

if TYPE_CHECKING:  # the box's own types (box.py imports this module)
    from firmware.app.box import FxoSlot, FxsSlot, RecorderSide


@runtime_checkable
class LinkedBoard(Protocol):
    """A board whose ports sit behind a link of its own (the line co-processor's UART):
    its state and history show in ``status`` and ``hw ports``."""

    def link_status(self) -> dict[str, object]: ...


def box_status(fxs: Iterable[FxsSlot], fxo: Iterable[FxoSlot], echo: Mapping[str, LineEcho],
               exchange: Exchange, switch: MediaSwitch, started: float,
               recorder: RecorderSide | None, linked: LinkedBoard | None) -> dict[str, Any]:
    """The status of a box that started at monotonic ``started``: its line ports (``fxs``,
    ``fxo``, with each line's canceller in ``echo``), the calls the ``exchange`` holds,
    what the media ``switch`` has bridged; the ``recorder``'s and the ``linked`` board's
    status when there is one."""
    partners: dict[str, str] = {}
    for a, b in switch.bridged():
        partners[a], partners[b] = b, a
    ports: list[dict[str, Any]] = []
    for slot in fxs:
        ports.append({"leg": slot.leg, **slot.port.describe(),
                      # The interface's own words, whatever the backend describes.
                      "hook": "off" if slot.port.offhook else "on",
                      "ringing": slot.port.ringing, "extension": slot.extension,
                      "line_state": slot.line.state,
                      "exchange_state": exchange.leg_state(slot.leg),
                      "playing": slot.playing, "with": partners.get(slot.leg),
                      **_echo_status(echo, slot.leg)})
    for oslot in fxo:
        ports.append({"leg": oslot.leg, **oslot.port.describe(),
                      "seized": oslot.port.seized, "extension": oslot.extension,
                      "line_state": oslot.line.state,
                      "exchange_state": exchange.leg_state(oslot.leg),
                      "playing": oslot.playing, "with": partners.get(oslot.leg),
                      **_echo_status(echo, oslot.leg)})
    calls = [{"id": c.call_id, "legs": list(c.legs), "state": c.state,
              "number": c.digits, "since": c.since} for c in exchange.calls()]
    counts = {"calls": len(calls), **switch.counts()}
    status = {"ports": ports, "calls": calls, "bridged": switch.bridged(),
              "counts": counts,
              "uptime_s": time.monotonic() - started,
              "audio_errors": switch.port_errors(),
              # Native (C) or Python line ports on the bridge, and why (issue 13).
              "line_ports": switch.line_ports.status(),
              # Calls out per trunk and the spending guard (firmware/pbx/tollguard.py).
              "outbound": exchange.outbound_status(time.monotonic())}
    if recorder is not None:  # call recording and its disk (firmware/app/recorder.py)
        status["recording"] = recorder.status()
    if linked is not None:  # the co-processor's UART link
        link = linked.link_status()
        status["link"] = link
        for port in ports:  # a port behind a lost link is down, whatever it last said
            port["link"] = link["state"]
    return status


def _echo_status(echo: Mapping[str, LineEcho], leg: str) -> dict[str, Any]:
    canceller = echo.get(leg)
    return {} if canceller is None else {"echo": canceller.status()}
