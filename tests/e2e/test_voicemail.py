"""Voicemail through the daemon on the simulated board (issue 11 §2): 101 calls 102, nobody
answers, the box takes a message (the caller's handset speaks a tone, the stored message
holds that tone); 102's on-hook handset gets the message-waiting indication (VMWI, decoded
by spandsp) and stutter dial tone; the message is kept as Ogg Opus; *98 with the PIN
plays the message at 102's handset; 7 deletes it and the lamp goes off (VMWI off, decoded
by spandsp)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from firmware.app.status_text import format_status
from firmware.media.vmstore import MailboxStore
from tests.e2e.harness import MINIPBX, Daemon, dominant_hz, free_even_port, sine, tones_in
from tests.e2e.peers import Peers, box_config, trunk_to
from tests.ref.spandsp_adsi import ADSI_STANDARD_CLASS, ADSI_STANDARD_CLIP, spandsp_decode

pytestmark = pytest.mark.slow

MWI_MDMF = 0x82
VISUAL_INDICATOR = 0x0B
TONE_HZ = 700.0

HANDSETS = [{"port": 1, "extension": "101", "name": "Reception"},
            {"port": 2, "extension": "102", "name": "Office", "voicemail": True,
             "voicemail_pin": "1234", "voicemail_after_s": 3.0}]


def hear_while(box: Daemon, port: int, seconds: float, action: Callable[[], None]
               ) -> np.ndarray:
    """What handset ``port`` hears for ``seconds``, with ``action`` done just after the
    recording starts."""
    heard: list[np.ndarray] = []
    listener = threading.Thread(target=lambda: heard.append(box.hear(port, seconds)))
    listener.start()
    time.sleep(0.3)
    action()
    listener.join()
    return heard[0]


def lamp(samples: np.ndarray) -> list[bool]:
    """The VMWI messages spandsp finds: True for lamp on, False for off."""
    found = []
    for message in spandsp_decode(np.asarray(samples, dtype=np.int16), ADSI_STANDARD_CLASS):
        fields = dict(message[1:])
        assert message[0][0] == MWI_MDMF, message
        found.append(fields[VISUAL_INDICATOR] == b"\xff")
    return found


def messages(box: Daemon) -> list[Path]:
    """The facts files of 102's messages."""
    return sorted((box.state / "voicemail" / "102").glob("2*.json"))


def decoded(opus: Path, tmp: Path) -> np.ndarray:
    out = tmp / "decoded.wav"
    subprocess.run(["opusdec", "--quiet", "--force-wav", "--rate", "8000", str(opus),
                    str(out)], check=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_message_lamp_listen_and_delete(daemon_factory: Callable[..., Daemon],
                                        tmp_path: Path) -> None:
    box = daemon_factory(box_config(fxs=HANDSETS) + "\n[dialplan]\ninterdigit_s = 2\n")
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("102 to ring", lambda: box.port("fxs2")["ringing"], timeout=8)
    box.wait_for("the greeting to end and the recording to start",
                 lambda: "recording a message for mailbox 102" in box.log(), timeout=30)
    assert not box.port("fxs2")["ringing"]
    box.speak(1, sine(TONE_HZ, 2.5))
    time.sleep(3.0)
    onhook = hear_while(box, 2, 4.0, lambda: box.phone(1, "onhook"))
    assert lamp(onhook) == [True], "no VMWI on at 102"
    [stored] = box.wait_for("the message to be kept", lambda: messages(box), timeout=5)
    opus = stored.with_suffix(".opus")
    box.wait_for("the message in Ogg Opus", opus.exists, timeout=20)
    assert not stored.with_suffix(".wav").exists()
    audio = decoded(opus, tmp_path)
    assert len(audio) >= 8000 * 2
    assert abs(dominant_hz(audio) - TONE_HZ) < 15
    assert box.call("voicemail.list", extension="102")["messages"][0]["caller_number"] == "101"
    listed = subprocess.run([*MINIPBX, "--state-dir", str(box.state), "voicemail", "list",
                             "--json"], capture_output=True, text=True, check=True)
    assert [m["uid"] for m in json.loads(listed.stdout)] == [stored.stem]
    assert "102: 1 new, 0 heard, lamp on" in format_status(box.call("status"))

    box.phone(2, "offhook")
    assert "stutter" in tones_in(box.hear(2, 1.2)), "no stutter dial tone with a message"
    box.dial(2, "*98")
    box.wait_for("the mailbox to answer",
                 lambda: box.port("fxs2")["exchange_state"] == "connected", timeout=8)
    time.sleep(0.5)
    box.dial(2, "1234")
    box.wait_for("the mailbox to open", lambda: "mailbox 102 opened" in box.log(), timeout=8)
    box.dial(2, "1")
    heard = box.hear(2, 4.0)
    windows = [heard[i:i + 4000] for i in range(0, len(heard) - 4000, 2000)]
    assert any(abs(dominant_hz(w) - TONE_HZ) < 15 for w in windows), \
        "the message was not heard at 102"
    box.dial(2, "7")
    box.wait_for("the message to be deleted", lambda: not messages(box), timeout=8)
    offhook_then_on = hear_while(box, 2, 6.0, lambda: box.phone(2, "onhook"))
    assert lamp(offhook_then_on) == [False], "no VMWI off at 102"
    time.sleep(1.2)
    box.phone(2, "offhook")
    assert "stutter" not in tones_in(box.hear(2, 1.2))
    box.phone(2, "onhook")


def test_a_sip_caller_leaves_a_message(daemon_factory: Callable[..., Daemon], peers: Peers,
                                       tmp_path: Path) -> None:
    """A call in from a SIP trunk (baresip sending 440 Hz) to voicemail:102: the message is
    taken from the call's media (a pjsua2 recorder) and holds the tone."""
    bare = peers.baresip(tone_hz=440)
    box = daemon_factory(box_config(trunks=[trunk_to("far", bare.sip_port)],
                                    inbound=[{"did": "5551000", "to": "voicemail:102"}],
                                    fxs=HANDSETS))
    reply = bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")
    assert reply["ok"], reply
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)  # the mailbox answers
    box.wait_for("the recording to start",
                 lambda: "recording a message for mailbox 102" in box.log(), timeout=30)
    time.sleep(3.0)
    bare.ctrl.command("hangup")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    [stored] = box.wait_for("the message to be kept", lambda: messages(box), timeout=10)
    opus = stored.with_suffix(".opus")
    box.wait_for("the message in Ogg Opus", opus.exists, timeout=20)
    audio = decoded(opus, tmp_path)
    assert len(audio) >= 8000 * 2
    assert abs(dominant_hz(audio) - 440) < 15


def test_vmwi_in_v23_in_germany(daemon_factory: Callable[..., Daemon]) -> None:
    """Germany's ports send caller ID in V.23: so does the lamp (spandsp's CLIP decoder)."""
    de: Daemon = daemon_factory(
        f'[box]\ncountry = "de"\n[sip]\nport = 0\nrtp_port = {free_even_port()}\n'
        '[[fxs]]\nport = 1\nextension = "21"\n'
        '[[fxs]]\nport = 2\nextension = "22"\nvoicemail = true\n', name="de")
    store = MailboxStore(de.state / "voicemail")
    first = store.save("22", sine(440, 2.0).astype("<i2").tobytes(), time.time(), "21")
    second = store.save("22", sine(440, 2.0).astype("<i2").tobytes(), time.time(), "21")
    assert first is not None and second is not None
    # A change the box sees (a delete) sends the lamp: still one new message, so on.
    heard = hear_while(de, 2, 4.0, lambda: de.call("voicemail.delete", extension="22",
                                                  uid=first.uid))
    found = spandsp_decode(np.asarray(heard, dtype=np.int16), ADSI_STANDARD_CLIP)
    # Under load the start-up lamp (off: nothing new yet) may fall in the same window.
    assert found and all(f[0][0] == MWI_MDMF for f in found), found
    assert dict(found[-1][1:])[VISUAL_INDICATOR] == b"\xff", found


def test_greeting_recorded_by_phone(daemon_factory: Callable[..., Daemon]) -> None:
    """102 records its greeting by phone (*98, PIN, 0, speak, #); the next caller hears it."""
    box = daemon_factory(box_config(fxs=HANDSETS) + "\n[dialplan]\ninterdigit_s = 2\n")
    box.phone(2, "offhook")
    box.dial(2, "*98")
    box.wait_for("the mailbox to answer",
                 lambda: box.port("fxs2")["exchange_state"] == "connected", timeout=8)
    time.sleep(0.5)
    box.dial(2, "1234")
    box.wait_for("the mailbox to open", lambda: "mailbox 102 opened" in box.log(), timeout=8)
    box.dial(2, "0")
    box.wait_for("the greeting's recording to start",
                 lambda: "recording a greeting for mailbox 102" in box.log(), timeout=20)
    box.speak(2, sine(600.0, 2.0))
    time.sleep(2.3)
    box.dial(2, "#")
    box.wait_for("the greeting to be kept",
                 lambda: list((box.state / "voicemail" / "102").glob("greeting-*.wav")),
                 timeout=8)
    box.phone(2, "onhook")
    time.sleep(1.2)
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("the mailbox to answer 101", lambda: "call 2: to the voicemail of 102"
                 in box.log(), timeout=15)
    heard = box.hear(1, 3.0)
    windows = [heard[i:i + 4000] for i in range(0, len(heard) - 4000, 2000)]
    assert any(abs(dominant_hz(w) - 600.0) < 15 for w in windows), "no greeting heard"
    box.phone(1, "onhook")
