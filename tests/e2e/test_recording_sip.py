"""Recorded calls with baresip (an independent SIP user agent whose microphone is a 440 Hz
sine): each side's tone in its own channel of the decoded Ogg Opus file, the inbound
route's and the trunk's record settings, and an on-demand code that never reaches the far
end as RFC 4733 digits."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, sine
from tests.e2e.peers import Peers, box_config, loud_part, trunk_to
from tests.e2e.recording_support import decode, tone_power, wait_ready

pytestmark = pytest.mark.slow

BARESIP_USER = "5550123"


def connected(box: Daemon) -> bool:
    return bool(box.port("fxs1")["exchange_state"] == "connected")


def test_inbound_sip_call_recorded_caller_left_handset_right(
        daemon_factory: Callable[..., Daemon], peers: Peers, tmp_path: Path) -> None:
    bare = peers.baresip(tone_hz=440)
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", bare.sip_port)],
        inbound=[{"did": "5551000", "extension": "101", "record": "always"}]))
    root = box.state / "recordings"
    reply = bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")
    assert reply["ok"], reply
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    box.phone(1, "offhook")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    box.wait_for("the call to connect", lambda: connected(box))
    box.wait_for("the recording to start",
                 lambda: box.call("status")["recording"]["active"] == 1)
    box.speak(1, sine(1000, 3.0))
    time.sleep(3.3)
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    [meta] = wait_ready(box, root)
    assert meta["state"] == "ready", meta
    assert meta["a"].startswith("sip") and meta["b"] == "fxs1"
    audio, _ = decode(root / meta["path"], tmp_path)
    caller, callee = audio[:, 0], audio[:, 1]
    assert tone_power(caller, 440) > 0.5 and tone_power(caller, 1000) < 0.05
    # 0.8, not 0.5: a channel with every second 20 ms frame silent (the pump's two-frame
    # wake-ups once dropped one for the recorder) holds only about half its tone's power.
    assert tone_power(callee, 1000) > 0.8 and tone_power(callee, 440) < 0.05


def test_outbound_on_demand_code_records_and_stays_in_the_box(
        daemon_factory: Callable[..., Daemon], peers: Peers, tmp_path: Path) -> None:
    bare = peers.baresip(tone_hz=440, user=BARESIP_USER)
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", bare.sip_port, record="on_demand")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}]))
    root = box.state / "recordings"
    box.phone(1, "offhook")
    box.dial(1, "9" + BARESIP_USER + "#")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    box.wait_for("the call to connect", lambda: connected(box), timeout=10)
    box.dial(1, "5")  # an ordinary digit goes out
    box.dial(1, "*1")
    box.wait_for("the code to start recording",
                 lambda: box.call("status")["recording"]["active"] == 1)
    box.speak(1, sine(1000, 2.0))
    time.sleep(2.3)
    box.dial(1, "*1")
    box.wait_for("the code to stop recording",
                 lambda: box.call("status")["recording"]["active"] == 0)
    box.dial(1, "7")
    box.wait_for("two digits at baresip",
                 lambda: len(bare.ctrl.events_of("CALL_DTMF_START")) >= 2, timeout=10)
    time.sleep(0.5)
    digits = "".join(e["param"] for e in bare.ctrl.events_of("CALL_DTMF_START"))
    assert digits == "57", "the record code must not reach the far end as digits"
    box.phone(1, "onhook")
    [meta] = wait_ready(box, root)
    audio, _ = decode(root / meta["path"], tmp_path)
    assert meta["a"] == "fxs1" and meta["b"].startswith("out")
    assert tone_power(audio[:, 0], 1000) > 0.3
    assert tone_power(audio[:, 1], 440) > 0.5


PHONE_PASSWORD = "phone-110-pass"
PHONE = (f'[[sip_user]]\nextension = "110"\npassword = "{PHONE_PASSWORD}"\n'
         'name = "Desk IP"\n')


def test_ip_phone_to_trunk_call_recorded_with_pjsua2_recorders(
        daemon_factory: Callable[..., Daemon], peers: Peers, tmp_path: Path) -> None:
    """No line leg: an IP phone (baresip, 440 Hz) calls out through a trunk recorded
    always (baresip as the provider, 600 Hz); each side in its own channel."""
    provider = peers.baresip(tone_hz=600, user=BARESIP_USER)
    text = box_config(trunks=[trunk_to("far", provider.sip_port, record="always")],
                      outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}])
    box = daemon_factory(text + "\n" + PHONE)
    root = box.state / "recordings"
    phone = peers.baresip(tone_hz=440, account=(
        f"<sip:110@127.0.0.1:{box.sip_port}>;auth_pass={PHONE_PASSWORD};regint=60;"
        "answermode=auto;audio_codecs=PCMU"))
    box.wait_for("the phone's registration",
                 lambda: bool(box.call("status")["sip"]["phones"]["110"]["contacts"]),
                 timeout=15)
    assert phone.ctrl.command("dial", "9" + BARESIP_USER)["ok"]
    provider.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    box.wait_for("the recording to start",
                 lambda: box.call("status")["recording"]["active"] == 1)
    time.sleep(3.0)
    phone.ctrl.command("hangup")
    provider.ctrl.wait_event("CALL_CLOSED", timeout=10)
    [meta] = wait_ready(box, root)
    assert meta["state"] == "ready", meta
    assert meta["duration_s"] > 2.0
    audio, _ = decode(root / meta["path"], tmp_path)
    caller, callee = audio[:, 0], audio[:, 1]
    assert tone_power(caller, 440) > 0.5 and tone_power(caller, 600) < 0.05
    assert tone_power(callee, 600) > 0.5 and tone_power(callee, 440) < 0.05
    assert not list(root.glob("*/*a.wav")), "the per-side files are merged and removed"


def test_consent_notice_reaches_the_sip_caller_before_recording(
        daemon_factory: Callable[..., Daemon], peers: Peers, tmp_path: Path) -> None:
    bare = peers.baresip(tone_hz=440)
    text = box_config(trunks=[trunk_to("far", bare.sip_port)],
                      inbound=[{"did": "5551000", "extension": "101", "record": "always"}])
    box = daemon_factory(text + '\n[recording]\nconsent = "builtin:recording_notice"\n')
    root = box.state / "recordings"
    box.wait_for("the prompt cache", lambda: "prompts ready" in box.log(), timeout=90)
    assert bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")["ok"]
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    box.phone(1, "offhook")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    assert box.call("status")["recording"]["active"] == 0  # the notice plays first
    box.wait_for("the recording to start after the notice",
                 lambda: box.call("status")["recording"]["active"] == 1, timeout=15)
    box.speak(1, sine(1000, 1.5))
    time.sleep(1.8)
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = bare.heard()
    voice = loud_part(samples, rate=rate)
    # baresip heard the notice (speech, before the handset's tone) and then the tone.
    speech = voice[: int(0.8 * rate)]
    assert speech.size == int(0.8 * rate)
    assert tone_power(speech, 1000, rate) < 0.2, "the start of what baresip heard is speech"
    [meta] = wait_ready(box, root)
    assert meta["state"] == "ready"
