"""Calls between a handset and baresip (an independent SIP user agent) in both directions:
audio both ways checked by tone (baresip's microphone is a 440 Hz sine; what it decodes is
dumped to a WAV file), and digits pressed on the handset reaching baresip as RFC 4733
telephone events."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine
from tests.e2e.peers import Peers, box_config, loud_part, trunk_to

pytestmark = pytest.mark.slow

BARESIP_USER = "5550123"  # baresip's account user: the number the box dials



def connected(box: Daemon) -> bool:
    return bool(box.port("fxs1")["exchange_state"] == "connected")


def test_call_to_baresip_audio_both_ways_and_rfc4733_digits(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    bare = peers.baresip(tone_hz=440, user=BARESIP_USER)
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", bare.sip_port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}]))
    box.phone(1, "offhook")
    box.dial(1, "9" + BARESIP_USER + "#")
    established = bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)  # auto answer
    assert established["direction"] == "incoming"
    assert established["peeruri"].startswith("sip:5551000@"), established
    box.wait_for("the call to connect at the box", lambda: connected(box), timeout=10)

    # baresip -> handset: its 440 Hz sine.
    heard = box.hear(1, 1.0)
    assert abs(dominant_hz(heard) - 440) < 10
    assert level_dbfs(heard) > -30

    # Handset -> baresip: 1000 Hz, then the digits 1 2 3 as RFC 4733 events.
    box.speak(1, sine(1000, 1.5))
    box.dial(1, "123")
    bare.ctrl.wait_event("CALL_DTMF_START")
    box.wait_for("three digits at baresip",
                 lambda: len(bare.ctrl.events_of("CALL_DTMF_START")) >= 3, timeout=10)
    digits = "".join(e["param"] for e in bare.ctrl.events_of("CALL_DTMF_START"))
    assert digits == "123"

    box.phone(1, "onhook")
    closed = bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    assert closed["id"] == established["id"]
    samples, rate = bare.heard()
    voice = loud_part(samples, rate=rate)
    assert voice.size >= rate, "baresip heard less than 1 s of the handset"
    assert abs(dominant_hz(voice, rate) - 1000) < 10


def test_call_from_baresip_rings_and_is_answered(daemon_factory: Callable[..., Daemon],
                                                 peers: Peers) -> None:
    bare = peers.baresip(tone_hz=440)
    box = daemon_factory(box_config(trunks=[trunk_to("far", bare.sip_port)],
                                    inbound=[{"did": "5551000", "extension": "101"}]))
    reply = bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")
    assert reply["ok"], reply
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    bare.ctrl.wait_event("CALL_RINGING", timeout=10)
    assert not bare.ctrl.events_of("CALL_ESTABLISHED")

    box.phone(1, "offhook")
    established = bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    assert established["direction"] == "outgoing"
    box.wait_for("the call to connect at the box", lambda: connected(box))
    assert not box.port("fxs1")["ringing"]
    heard = box.hear(1, 1.0)
    assert abs(dominant_hz(heard) - 440) < 10

    box.phone(1, "onhook")
    closed = bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    assert closed["id"] == established["id"]
    box.wait_for("the SIP call to go", lambda: box.call("status")["sip"]["calls"] == {})
