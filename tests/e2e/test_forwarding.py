"""Forwarding and do-not-disturb by star codes through the daemon (issue 11): a handset
sets them by dialling, hears the confirmation and then stutter dial tone, callers follow
them, `minipbx status` shows them, and they survive a restart of the box."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from firmware.app.status_text import format_status
from tests.e2e.harness import Daemon, dominant_hz, sine, tones_in
from tests.e2e.peers import box_config

pytestmark = pytest.mark.slow

HANDSETS = [{"port": 1, "extension": "101", "name": "Reception"},
            {"port": 2, "extension": "102", "name": "Office"},
            {"port": 3, "extension": "103", "name": "Store"}]


def config() -> str:
    # A short interdigit timeout: a code with a number ends after it.
    return box_config(fxs=HANDSETS) + "\n[dialplan]\ninterdigit_s = 2\n"


def key_in(box: Daemon, port: int, digits: str) -> list[str]:
    """Lift, dial ``digits``, wait for the code to end; the tones heard after it."""
    box.phone(port, "offhook")
    box.dial(port, digits)
    box.wait_for("the code to be taken",
                 lambda: box.port(f"fxs{port}")["exchange_state"] != "dialling", timeout=8)
    heard = tones_in(box.hear(port, 1.5))
    hang_up(box, port)
    return heard


def dial_tone_of(box: Daemon, port: int) -> list[str]:
    box.phone(port, "offhook")
    heard = tones_in(box.hear(port, 1.2))
    hang_up(box, port)
    return heard


def hang_up(box: Daemon, port: int) -> None:
    """On-hook for longer than a hook flash (900 ms), so the next lift is a new call."""
    box.phone(port, "onhook")
    time.sleep(1.2)


def test_forward_always_and_dnd_by_star_codes(daemon_factory: Callable[..., Daemon]) -> None:
    box = daemon_factory(config())
    assert "stutter" in key_in(box, 2, "*72103")
    assert "stutter" in dial_tone_of(box, 2), "no reminder tone with forwarding on"
    assert "Forwarding:" in format_status(box.call("status"))
    assert "102: forward always to 103" in format_status(box.call("status"))

    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("103 to ring instead of 102", lambda: box.port("fxs3")["ringing"], timeout=8)
    assert not box.port("fxs2")["ringing"]
    shown = box.wait_for("caller ID at 103",
                         lambda: (s := box.phone_status(3))["caller_id"] and s, timeout=8)
    assert shown["caller_id"]["number"] == "101"
    hang_up(box, 1)
    box.wait_for("103 to stop ringing", lambda: not box.port("fxs3")["ringing"], timeout=8)

    assert "stutter" in key_in(box, 2, "*73")
    assert "dial" in dial_tone_of(box, 2) and "stutter" not in dial_tone_of(box, 2)

    assert "stutter" in key_in(box, 3, "*78")  # 103: do not disturb
    box.phone(1, "offhook")
    box.dial(1, "103")
    box.wait_for("busy tone for 101", lambda: "busy" in tones_in(box.hear(1, 2.0)), timeout=10)
    assert not box.port("fxs3")["ringing"]
    hang_up(box, 1)

    # A code that leads nowhere is refused with congestion, and changes nothing.
    assert "congestion" in key_in(box, 1, "*72999")
    saved = json.loads((box.state / "features.json").read_text())
    assert saved["103"]["current"]["dnd"] is True
    assert saved["101"]["current"]["forward_always"] == ""


def test_forwarding_survives_a_restart(daemon_factory: Callable[..., Daemon]) -> None:
    box = daemon_factory(config())
    assert "stutter" in key_in(box, 2, "*72103")
    assert box.stop() == 0
    again = daemon_factory(config())  # the same state dir
    assert "102: forward always to 103" in format_status(again.call("status"))
    again.phone(1, "offhook")
    again.dial(1, "102")
    again.wait_for("103 to ring", lambda: again.port("fxs3")["ringing"], timeout=8)
    again.phone(1, "onhook")


def test_pickup_hotline_and_hidden_number(daemon_factory: Callable[..., Daemon]) -> None:
    """103 answers 102's ringing with *8; 101 is a hotline to 102; *67 hides 103's number."""
    handsets = [dict(HANDSETS[0], hotline="102"), HANDSETS[1], HANDSETS[2]]
    box = daemon_factory(box_config(fxs=handsets) + "\n[dialplan]\ninterdigit_s = 2\n")
    box.phone(1, "offhook")  # a hotline: 102 rings at once, no digit keyed
    box.wait_for("102 to ring", lambda: box.port("fxs2")["ringing"], timeout=8)
    box.phone(3, "offhook")
    box.dial(3, "*8")
    box.wait_for("103 to pick up", lambda: box.port("fxs3")["exchange_state"] == "connected",
                 timeout=8)
    assert not box.port("fxs2")["ringing"]
    box.speak(3, sine(1000, 1.0))
    assert abs(dominant_hz(box.hear(1, 0.8)) - 1000) < 15
    hang_up(box, 1)
    hang_up(box, 3)

    box.phone(3, "offhook")
    box.dial(3, "*67102")
    box.wait_for("102 to ring", lambda: box.port("fxs2")["ringing"], timeout=8)
    shown = box.wait_for("caller ID at 102",
                         lambda: (s := box.phone_status(2))["caller_id"] and s, timeout=8)
    assert shown["caller_id"]["number"] in (None, "")  # withheld: "P" (private)
    hang_up(box, 3)
