"""The FXO port on the simulated board: a PSTN call rings the configured extension with
the caller ID the exchange sent between rings; answering seizes the line; audio flows both
ways; the far end hanging up (loop current drop) ends the call. And out: a route through
the line seizes it and dials the number as DTMF."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from tests.e2e.harness import Daemon, dominant_hz, free_even_port, sine, tones_in

pytestmark = pytest.mark.slow

CONFIG = """
[box]
country = "us"
[sip]
port = 0
rtp_port = {rtp}
[[fxs]]
port = 1
extension = "101"
name = "Front desk"
[[fxs]]
port = 2
extension = "102"
[[fxo]]
port = 1
extension = "101"
[[outbound]]
pattern = "8x."
trunk = "fxo1"
strip = 1
"""


@pytest.fixture
def pbx(daemon_factory) -> Daemon:  # type: ignore[no-untyped-def]
    return daemon_factory(CONFIG.format(rtp=free_even_port()))  # type: ignore[no-any-return]


def line_speak(box: Daemon, samples: np.ndarray) -> None:
    box.call("sim.line.play", port=1, pcm=base64.b64encode(samples.astype("<i2").tobytes())
             .decode())


def line_hear(box: Daemon, seconds: float) -> np.ndarray:
    result = box.call("sim.line.record", port=1, seconds=seconds, timeout=seconds + 30)
    return np.frombuffer(base64.b64decode(result["pcm"]), dtype="<i2")


def test_pstn_call_in_with_caller_id(pbx: Daemon) -> None:
    pbx.call("sim.line.ring", port=1, cid_number="5557777", cid_name="Carol")
    pbx.wait_for("phone 1 to ring", lambda: pbx.port("fxs1")["ringing"], timeout=12)
    status = pbx.wait_for("caller ID on phone 1",
                          lambda: (s := pbx.phone_status(1))["caller_id"] and s, timeout=12)
    assert status["caller_id"]["number"] == "5557777"
    assert status["caller_id"]["name"] == "Carol"
    pbx.phone(1, "offhook")
    pbx.wait_for("the line to be seized", lambda: pbx.port("fxo1")["seized"])
    pbx.wait_for("the call", lambda: pbx.port("fxs1")["with"] == "fxo1")

    line_speak(pbx, sine(700, 2.0))
    assert abs(dominant_hz(pbx.hear(1, 0.8)) - 700) < 10
    pbx.speak(1, sine(1100, 2.0))
    assert abs(dominant_hz(line_hear(pbx, 0.8)) - 1100) < 10

    pbx.call("sim.line.hangup", port=1)
    pbx.wait_for("the call to end", lambda: pbx.port("fxs1")["with"] is None)
    assert "busy" in tones_in(pbx.hear(1, 3.0))
    pbx.wait_for("the line released", lambda: not pbx.port("fxo1")["seized"])


def test_call_out_through_the_pstn_line(pbx: Daemon) -> None:
    pbx.phone(2, "offhook")
    pbx.dial(2, "85551234")
    pbx.wait_for("the line to be seized", lambda: pbx.port("fxo1")["seized"], timeout=10)
    status = pbx.wait_for(
        "the number dialled on the line",
        lambda: (s := pbx.call("sim.line.status", port=1))["dialled"] == "5551234" and s,
        timeout=15)
    assert status["seized"]
    pbx.wait_for("the call", lambda: pbx.port("fxs2")["with"] == "fxo1", timeout=10)
    pbx.phone(2, "onhook")
    pbx.wait_for("the line released", lambda: not pbx.port("fxo1")["seized"])


def test_busy_tone_from_the_exchange_ends_the_call(pbx: Daemon) -> None:
    """Some exchanges never drop loop current: their busy tone is the disconnect signal."""
    from firmware.dsp.profiles import load_profile
    from firmware.dsp.tones import generate_tone

    pbx.call("sim.line.ring", port=1)
    pbx.wait_for("phone 1 to ring", lambda: pbx.port("fxs1")["ringing"], timeout=12)
    pbx.phone(1, "offhook")
    pbx.wait_for("the call", lambda: pbx.port("fxs1")["with"] == "fxo1")
    line_speak(pbx, generate_tone(load_profile("us").tone("busy"), 8.0))
    pbx.wait_for("the call to end on busy tone", lambda: pbx.port("fxs1")["with"] is None,
                 timeout=12)
    pbx.wait_for("the line released", lambda: not pbx.port("fxo1")["seized"])
