"""An Amharic voice menu through the whole daemon: a SIP caller (baresip) hears the menu's
prompt (checked against the cached prompt by normalized cross-correlation, after G.711
both ways) and chooses by RFC 4733; a handset reaches the same menu by its number, hears
it, and chooses by DTMF while the prompt plays (barge-in, measured on the board's frames).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware.dsp.resample import resample
from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to
from tests.e2e.prompt_support import (
    BARGE_IN_S,
    LEVEL,
    MATCH,
    MISMATCH,
    best_ncc,
    cached,
    key_to_silence,
    lift,
)
from tests.e2e.rtpcap import RtpCapture, box_ports, first_key, last_sound

pytestmark = pytest.mark.slow

PROMPT = "say:am:እንኳን ደህና መጡ። ለሽያጭ አንድን ይጫኑ። ለቢሮ ሁለትን ይጫኑ።"
MENU = f"""
[[menu]]
name = "main"
number = "500"
prompt = "{PROMPT}"
language = "am"
choices = {{ "1" = "ext:101", "2" = "ext:102" }}
timeout_s = 5
repeats = 1

[[menu]]
name = "tune"
number = "501"
prompt = "builtin:music"
choices = {{ "1" = "ext:101" }}
"""


def menu_box(daemon_factory: Callable[..., Daemon], trunks: list[dict[str, object]]) -> Daemon:
    config = box_config(trunks=trunks, inbound=[{"did": "5551000", "to": "menu:main"},
                                                {"did": "5552000", "to": "menu:tune"}],
                        fxs=[{"port": 1, "extension": "101"}, {"port": 2, "extension": "102"},
                             {"port": 3, "extension": "103"}]) + MENU
    box = daemon_factory(config)
    box.wait_for("the menu's prompt", lambda: any(
        r["name"] == PROMPT and r["cached"] for r in box.call("prompt.list")), timeout=60)
    return box


def test_a_sip_caller_hears_the_amharic_menu_and_chooses_by_rfc4733(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    bare = peers.baresip(tone_hz=440)
    box = menu_box(daemon_factory, [trunk_to("far", bare.sip_port)])
    reply = bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")
    assert reply["ok"], reply
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)  # the menu answers
    seconds = cached(box, PROMPT, "am").size / 8000
    time.sleep(seconds + 0.5)
    bare.ctrl.command("sndcode", "2")
    box.wait_for("the choice to ring phone 2", lambda: box.port("fxs2")["ringing"],
                 timeout=10)
    bare.ctrl.command("hangup")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = bare.heard()
    heard = resample(samples.astype(np.float64), rate, 8000)
    right = best_ncc(heard, cached(box, PROMPT, "am"))
    wrong = best_ncc(heard, cached(box, "builtin:goodbye", "am"))
    assert right > MATCH, (right, wrong)
    assert wrong < MISMATCH, (right, wrong)
    assert box.call("prompt.status")["done"] >= 1  # the menu's prompt played to its end


def test_a_handset_dials_the_menu_hears_it_and_chooses_by_dtmf(
        daemon_factory: Callable[..., Daemon]) -> None:
    box = menu_box(daemon_factory, [])
    lift(box, 3)
    box.dial(3, "500")
    heard = box.hear(3, 3.0)
    # Its second second: the recording may start a little after the prompt did.
    assert best_ncc(heard, cached(box, PROMPT, "am")[8000:16000]) > MATCH
    assert best_ncc(heard, cached(box, "builtin:goodbye", "am")) < MISMATCH
    box.dial(3, "1")  # while the prompt plays
    box.wait_for("the choice to ring phone 1", lambda: box.port("fxs1")["ringing"],
                 timeout=10)
    box.phone(3, "onhook")
    box.wait_for("phone 1 to stop ringing", lambda: not box.port("fxs1")["ringing"])

    # Barge-in, on a menu whose prompt never pauses (the box's tune); three keys, as in
    # tests/e2e/test_prompts.py: the best within 100 ms, none as late as the decoded digit.
    delays = []
    for _ in range(3):
        lift(box, 3)
        box.dial(3, "501")
        time.sleep(1.0)
        t0 = time.monotonic()
        box.dial(3, "1")
        time.sleep(0.3)
        timing = box.call("sim.phone.timing", port=3, since=t0, level=LEVEL)
        delays.append(key_to_silence(timing))
        box.phone(3, "onhook")
        box.wait_for("phone 3 idle", lambda: box.port("fxs3")["line_state"] == "idle")
    assert all(d > 0.0 for d in delays), delays
    assert min(delays) < BARGE_IN_S, delays
    assert max(delays) < 2 * BARGE_IN_S, delays


def test_an_rfc4733_key_stops_the_prompt_to_a_sip_caller_within_100_ms(
        daemon_factory: Callable[..., Daemon], peers: Peers, tmp_path: Path) -> None:
    bare = peers.baresip(tone_hz=440)
    box = menu_box(daemon_factory, [trunk_to("far", bare.sip_port)])
    rtp_port = int(box.call("config.get", path="sip.rtp_port")["value"])
    capture = RtpCapture(tmp_path, rtp_port)
    try:
        reply = bare.ctrl.command("dial", f"sip:5552000@127.0.0.1:{box.sip_port}")
        assert reply["ok"], reply
        bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
        time.sleep(2.0)  # the tune plays
        bare.ctrl.command("sndcode", "1")
        box.wait_for("the choice to ring phone 1", lambda: box.port("fxs1")["ringing"],
                     timeout=10)
        time.sleep(0.5)
    finally:
        packets = capture.stop()
    key = first_key(packets, box_ports(rtp_port))
    assert key is not None, "no RFC 4733 event captured"
    playing = last_sound(packets, box_ports(rtp_port), key - 0.5, until=key)
    assert playing is not None and playing > key - 0.1, "the tune was not playing"
    # The tune's last sample sent, on or after the key (the box often stops it before its
    # next packet: then this is the one just before the key). Choice 1 waits the
    # interdigit time (101 starts with 1), then the caller hears ringback: look at the
    # second after the key only.
    stopped = last_sound(packets, box_ports(rtp_port), key - 0.5, until=key + 1.0)
    assert stopped is not None
    assert stopped - key < BARGE_IN_S, stopped - key
