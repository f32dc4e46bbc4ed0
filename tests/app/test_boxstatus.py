"""What ``minipbx status`` shows of the box's lines (firmware/app/boxstatus.py), from fakes
of the exchange, the media switch and the line slots."""

from __future__ import annotations

import time
from types import SimpleNamespace as NS
from typing import Any

from firmware.app.boxstatus import LinkedBoard, box_status


def _port(**kw: Any) -> NS:
    return NS(describe=lambda: {"index": 1, "backend": "sim"}, **kw)


FXS = [NS(leg="fxs1", port=_port(offhook=True, ringing=False), line=NS(state="offhook"),
          extension="101", playing="tone:dial"),
       NS(leg="fxs2", port=_port(offhook=False, ringing=True), line=NS(state="ringing"),
          extension="102", playing=None)]
FXO = [NS(leg="fxo1", port=_port(seized=True), line=NS(state="connected"), extension="9",
          playing=None)]
EXCHANGE = NS(leg_state=lambda leg: f"state of {leg}",
              calls=lambda: [NS(call_id=7, legs=("fxs1", "fxo1"), state="connected",
                                digits="90", since=12.5)],
              outbound_status=lambda now: {"calls_out": {"fxo1": 1}})
SWITCH = NS(bridged=lambda: [("fxs1", "fxo1")], counts=lambda: {"line_ports": 3},
            port_errors=lambda: 2, line_ports=NS(status=lambda: {"native": False}))
ECHO = {"fxo1": NS(status=lambda: {"enabled": True, "active": True})}


def _status(recorder: Any = None, linked: Any = None) -> dict[str, Any]:
    return box_status(FXS, FXO, ECHO, EXCHANGE, SWITCH,  # type: ignore[arg-type]
                      time.monotonic() - 60, recorder, linked)


def test_ports_show_the_interface_the_machines_and_the_partner() -> None:
    status = _status()
    fxs1, fxs2, fxo1 = status["ports"]
    assert fxs1 == {"leg": "fxs1", "index": 1, "backend": "sim", "hook": "off",
                    "ringing": False, "extension": "101", "line_state": "offhook",
                    "exchange_state": "state of fxs1", "playing": "tone:dial",
                    "with": "fxo1"}
    assert fxs2["hook"] == "on" and fxs2["ringing"] and fxs2["with"] is None
    assert fxo1["seized"] and fxo1["with"] == "fxs1"
    assert fxo1["echo"] == {"enabled": True, "active": True}  # only a line with a canceller
    assert "echo" not in fxs1
    assert status["calls"] == [{"id": 7, "legs": ["fxs1", "fxo1"], "state": "connected",
                                "number": "90", "since": 12.5}]
    assert status["counts"] == {"calls": 1, "line_ports": 3}
    assert status["audio_errors"] == 2 and status["outbound"] == {"calls_out": {"fxo1": 1}}
    assert 59 < status["uptime_s"] < 70
    assert "recording" not in status and "link" not in status


def test_a_lost_link_marks_every_port() -> None:
    linked = NS(link_status=lambda: {"state": "lost", "resets": 3})
    assert isinstance(linked, LinkedBoard)
    status = _status(recorder=NS(status=lambda: {"active": 0}), linked=linked)
    assert status["recording"] == {"active": 0}
    assert status["link"] == {"state": "lost", "resets": 3}
    assert [p["link"] for p in status["ports"]] == ["lost", "lost", "lost"]
