"""Internal calls through the whole daemon on the simulated board: dial tone, DTMF and
pulse dialling detected from audio and hook timing, ringing with caller ID between rings
(checked by spandsp, an independent decoder), audio both ways, and the tones after."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine, tones_in
from tests.ref.spandsp_adsi import ADSI_STANDARD_CLASS, spandsp_decode

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def hang_up_all(box: Daemon) -> None:
    for port in (1, 2):
        if box.port(f"fxs{port}")["hook"] == "off":
            box.phone(port, "onhook")
    box.wait_for("every line idle",
                 lambda: all(p["line_state"] == "idle" for p in box.call("status")["ports"]),
                 timeout=5)


def ring_and_answer(box: Daemon, digits: str = "102", pulse: bool = False) -> None:
    box.phone(1, "offhook")
    box.dial(1, digits, pulse=pulse)
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(2, "offhook")
    box.wait_for("the call to connect", lambda: box.port("fxs1")["with"] == "fxs2")


def test_offhook_gives_the_country_dial_tone(box: Daemon) -> None:
    box.phone(1, "offhook")
    heard = box.hear(1, 1.0)
    assert "dial" in tones_in(heard)
    # US dial tone is 350 + 440 Hz; the strongest component is one of them.
    assert abs(dominant_hz(heard) - 350) < 15 or abs(dominant_hz(heard) - 440) < 15


def test_dtmf_call_rings_with_caller_id_and_connects_both_ways(box: Daemon) -> None:
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    # The caller hears ringback (440 + 480 Hz) while the callee rings.
    ringback = box.hear(1, 1.5)
    assert min(abs(dominant_hz(ringback) - f) for f in (440, 480)) < 15
    # Caller ID is sent between the first and second ring; wait for it to be heard.
    status = box.wait_for("caller ID on phone 2",
                          lambda: (s := box.phone_status(2))["caller_id"] and s, timeout=8)
    assert status["caller_id"]["number"] == "101"
    assert status["caller_id"]["standard"] == "bell202"
    box.phone(2, "offhook")
    box.wait_for("the call to connect", lambda: box.port("fxs1")["with"] == "fxs2")

    box.speak(2, sine(1000, 2.0))
    heard_by_1 = box.hear(1, 1.0)
    assert abs(dominant_hz(heard_by_1) - 1000) < 10
    assert level_dbfs(heard_by_1) > -30

    box.speak(1, sine(600, 2.0))
    heard_by_2 = box.hear(2, 1.0)
    assert abs(dominant_hz(heard_by_2) - 600) < 10
    assert level_dbfs(heard_by_2) > -30


def test_callee_hangs_up_caller_hears_busy(box: Daemon) -> None:
    ring_and_answer(box)
    box.phone(2, "onhook")
    assert "busy" in tones_in(box.hear(1, 3.0))


# The simulated handset times its pulses with real sleeps (late wakes on a loaded machine
# run digits together): alone, in the serial part of `make test`.
@pytest.mark.serial
def test_pulse_dialling_reaches_the_extension(box: Daemon) -> None:
    ring_and_answer(box, "102", pulse=True)
    assert box.port("fxs2")["with"] == "fxs1"


def test_hook_flash_is_not_a_hang_up(box: Daemon) -> None:
    ring_and_answer(box)
    box.phone(1, "flash")  # holds 2 (docs/services.md): recall dial tone, no hang-up
    time.sleep(1.5)  # well past the flash window: an on-hook would have cleared by now
    assert box.port("fxs2")["exchange_state"] == "connected"
    box.phone(1, "flash")  # nothing dialled: back to 2
    box.wait_for("1 to talk to 2 again", lambda: box.port("fxs1")["with"] == "fxs2")
    box.speak(2, sine(1000, 1.5))
    assert abs(dominant_hz(box.hear(1, 0.8)) - 1000) < 10


def test_busy_extension_gives_busy_tone(box: Daemon) -> None:
    box.phone(2, "offhook")  # 102 is off-hook: busy
    box.phone(1, "offhook")
    box.dial(1, "102")
    assert "busy" in tones_in(box.hear(1, 3.0))


def test_unknown_number_gives_congestion(box: Daemon) -> None:
    box.phone(1, "offhook")
    box.dial(1, "999")
    assert "congestion" in tones_in(box.hear(1, 3.0))


def test_caller_id_decodes_in_spandsp(box: Daemon) -> None:
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    onhook = box.hear(2, 5.5)  # first ring, then the silence that carries the caller ID
    messages = spandsp_decode(np.asarray(onhook, dtype=np.int16), ADSI_STANDARD_CLASS)
    assert len(messages) == 1, messages
    fields = dict(messages[0][1:])  # after the message-type field: MDMF parameters
    assert fields[0x02] == b"101", messages  # calling line number
    assert fields[0x07] == b"Extension 101", messages  # calling name: the port name


def test_ringing_follows_the_country_profile(daemon_factory) -> None:  # type: ignore[no-untyped-def]
    """Germany: 25 Hz ringing, 1 s on 4 s off, V.23 caller ID after the first ring."""
    from tests.e2e.harness import free_even_port

    de: Daemon = daemon_factory(
        f'[box]\ncountry = "de"\n[sip]\nport = 0\nrtp_port = {free_even_port()}\n'
        '[[fxs]]\nport = 1\nextension = "21"\nname = "Anna"\n'
        '[[fxs]]\nport = 2\nextension = "22"\n', name="de")
    de.phone(1, "offhook")
    assert "dial" in tones_in(de.hear(1, 2.0), "de")
    de.dial(1, "22")
    ringing = de.wait_for("phone 2 to ring",
                          lambda: (s := de.phone_status(2))["ringing"] and s)
    assert ringing["ring_hz"] == 25.0
    assert ringing["ring_cadence_ms"] == [1000, 4000]
    status = de.wait_for("caller ID", lambda: (s := de.phone_status(2))["caller_id"] and s,
                         timeout=8)
    assert status["caller_id"]["standard"] == "v23"
    assert status["caller_id"]["number"] == "21"
    de.phone(1, "onhook")


def test_every_call_leaves_a_record(box: Daemon) -> None:
    from tests.e2e.faults_support import records

    before = len(records(box))
    ring_and_answer(box)
    box.phone(1, "onhook")
    box.wait_for("the record", lambda: len(records(box)) > before)
    record = records(box)[-1]
    assert record["caller_leg"] == "fxs1" and record["callee_leg"] == "fxs2"
    assert record["called_number"] == "102" and record["disposition"] == "answered"
    assert record["answer"] is not None and record["end"] >= record["answer"]
