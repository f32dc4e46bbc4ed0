"""A voice menu in Amharic on the simulated board: chosen by RFC 4733 DTMF from a SIP
caller (baresip), by a handset's DTMF dialling the menu's number, by DTMF a PSTN caller
sends down the line (the FXO port's detector), and a wrong digit
followed by silence (the invalid notice, the prompt again, then the timeout's
destination; the prompts' ends come from the real prompt player)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np
import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to
from tests.e2e.test_office_group import PHONES, table

pytestmark = pytest.mark.slow

DID = "5551000"


def menu_box(daemon_factory: Callable[..., Daemon], trunk_port: int = 5060) -> Daemon:
    config = box_config(trunks=[trunk_to("far", trunk_port)], fxs=PHONES,
                        inbound=[{"did": DID, "to": "menu:main"}])
    config += "\n" + table("menu", {
        "name": "main", "number": "700", "prompt": "builtin:welcome", "language": "am",
        "choices": ["2=ext:102", "3=ext:103"], "dial_extensions": False,
        "timeout_s": 2.0, "repeats": 1, "on_timeout": "ext:105", "on_invalid": "ext:104"})
    return daemon_factory(config)


def rings(box: Daemon, port: int) -> bool:
    return bool(box.port(f"fxs{port}")["ringing"])


def test_a_sip_caller_chooses_by_rfc4733(daemon_factory: Callable[..., Daemon],
                                         peers: Peers) -> None:
    bare = peers.baresip(tone_hz=440)
    box = menu_box(daemon_factory, bare.sip_port)
    assert bare.ctrl.command("dial", f"sip:{DID}@127.0.0.1:{box.sip_port}")["ok"]
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)  # the box answers: the menu
    box.wait_for("the menu", lambda: box.call("status")["calls"][0]["state"] == "menu")
    bare.ctrl.command("sndcode", "2")
    box.wait_for("extension 102 to ring", lambda: rings(box, 2), timeout=10)
    assert not rings(box, 3)
    box.phone(2, "offhook")
    box.wait_for("the call to connect", lambda: box.port("fxs2")["exchange_state"]
                 == "connected", timeout=5)
    bare.ctrl.command("hangup")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)


def test_a_handset_dials_the_menu_and_chooses(daemon_factory: Callable[..., Daemon]) -> None:
    box = menu_box(daemon_factory)
    box.phone(1, "offhook")
    box.dial(1, "700")
    box.wait_for("the menu", lambda: box.port("fxs1")["exchange_state"] == "connected")
    box.dial(1, "3")
    box.wait_for("extension 103 to ring", lambda: rings(box, 3), timeout=10)
    box.phone(1, "onhook")
    box.wait_for("the ringing to stop", lambda: not rings(box, 3), timeout=5)


def test_a_wrong_digit_then_silence_goes_to_on_timeout(
        daemon_factory: Callable[..., Daemon]) -> None:
    box = menu_box(daemon_factory)
    box.phone(1, "offhook")
    box.dial(1, "700")
    box.wait_for("the menu", lambda: box.port("fxs1")["exchange_state"] == "connected")
    box.dial(1, "9")  # no such choice: the invalid notice, the prompt again, silence
    box.wait_for("the timeout's destination, 105, to ring", lambda: rings(box, 5),
                 timeout=40)
    assert not rings(box, 4)  # one wrong digit is not yet on_invalid
    assert "invalid choice '9'" in box.log()


def dtmf(digit: str, seconds: float = 0.15) -> np.ndarray:
    """One key's two tones (ITU-T Q.23), then as much silence."""
    low, high = {"2": (697, 1336), "3": (697, 1477)}[digit]
    t = np.arange(int(8000 * seconds)) / 8000
    tone = 0.25 * 32767 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t)) / 2
    return np.concatenate([tone, np.zeros_like(tone)]).astype("<i2")


def test_a_pstn_caller_chooses_by_dtmf_heard_on_the_line(
        daemon_factory: Callable[..., Daemon]) -> None:
    config = box_config(fxs=PHONES) + "\n" + table("fxo", {"port": 1, "to": "menu:main"})
    config += "\n" + table("menu", {
        "name": "main", "prompt": "builtin:welcome", "language": "am",
        "choices": ["2=ext:102", "3=ext:103"], "dial_extensions": False, "timeout_s": 10.0})
    box = daemon_factory(config)
    box.call("sim.line.ring", port=1, cid_number="5557777")
    box.wait_for("the box to take the line for its menu",
                 lambda: box.port("fxo1")["exchange_state"] == "connected", timeout=20)
    box.wait_for("the line to be seized", lambda: box.port("fxo1")["seized"], timeout=5)
    box.call("sim.line.play", port=1,
             pcm=base64.b64encode(dtmf("3").tobytes()).decode())
    box.wait_for("extension 103 to ring", lambda: rings(box, 3), timeout=10)
    box.call("sim.line.hangup", port=1)
    box.wait_for("the ringing to stop", lambda: not rings(box, 3), timeout=15)
