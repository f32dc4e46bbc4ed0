"""Type II caller ID (firmware/app/cwcid.py): the signal split at the phone's ACK, and
the simulated handset's side (drivers/sim/cas.py) that acknowledges the CAS."""

from __future__ import annotations

import time

import numpy as np

from drivers.sim.cas import CasResponder, ack_pcm
from firmware.app.cwcid import AwaitingAck, type_two
from firmware.core.events import Party
from firmware.dsp.cid_rx import decode_cid
from firmware.dsp.dtmf import DtmfDetector

CALLER = Party("103", "Store")


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def strongest_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / 8000)[int(np.argmax(spectrum))])


def test_the_alert_is_the_call_waiting_tone_then_the_cas() -> None:
    signal = type_two(CALLER, "bell202")
    assert signal is not None
    alert = samples(signal.alert)
    assert abs(strongest_hz(alert[:2000]) - 440) < 10  # the 300 ms call-waiting tone
    cas = alert[-480:]  # inside the 80 ms CAS: both of its tones, nothing else
    spectrum = np.abs(np.fft.rfft(cas * np.hanning(cas.size)))
    freqs = np.fft.rfftfreq(cas.size, 1 / 8000)
    top = sorted(float(freqs[i]) for i in np.argsort(spectrum)[-2:])
    assert abs(top[0] - 2130) < 40 and abs(top[1] - 2750) < 40, top
    assert signal.ack_digits == "AD"


def test_the_data_after_the_ack_decodes_to_the_caller() -> None:
    for standard in ("bell202", "v23"):
        signal = type_two(CALLER, standard)
        assert signal is not None
        result = decode_cid(np.frombuffer(signal.data, dtype="<i2"))
        assert result.info is not None and result.standard == standard
        assert (result.info.number, result.info.name) == ("103", "Store")


def test_no_off_hook_form_for_dtmf_caller_id() -> None:
    assert type_two(CALLER, "dtmf") is None
    assert type_two(CALLER, "") is None


def test_the_ack_counts_only_after_the_alert_and_within_its_window() -> None:
    signal = type_two(CALLER, "bell202")
    assert signal is not None
    pending = AwaitingAck(signal)
    now = time.monotonic()
    assert not pending.acknowledges("D", now), "the alert still plays"
    pending.alert_done()
    assert pending.acknowledges("D", time.monotonic())
    assert pending.acknowledges("a", time.monotonic())
    assert not pending.acknowledges("5", time.monotonic())
    assert not pending.acknowledges("D", time.monotonic() + signal.ack_window_s + 0.1)


def test_the_simulated_phone_acknowledges_a_cas_once_with_a_d() -> None:
    signal = type_two(CALLER, "bell202")
    assert signal is not None
    phone = CasResponder()
    frames = [signal.alert[i:i + 320] for i in range(0, len(signal.alert) - 319, 320)]
    answers = [i for i, f in enumerate(frames) if phone.feed(f)]
    assert len(answers) == 1 and answers[0] >= len(frames) - 4, answers  # in the CAS
    detector = DtmfDetector()
    digits = [d.digit for d in detector.feed(np.frombuffer(ack_pcm() + bytes(1600),
                                                           dtype="<i2"))]
    assert digits == ["D"]


def test_the_simulated_phone_ignores_speech_band_tones() -> None:
    phone = CasResponder()
    t = np.arange(8000) / 8000
    for hz in (440.0, 1000.0, 2130.0):  # the call-waiting tone, a voice, one CAS tone
        pcm = (np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes()
        assert not any(phone.feed(pcm[i:i + 320]) for i in range(0, len(pcm), 320)), hz


def test_what_follows_the_ack_decodes_in_spandsp() -> None:
    """An independent decoder (spandsp's ADSI receiver) reads the box's type II message."""
    from tests.ref.spandsp_adsi import ADSI_STANDARD_CLASS, ADSI_STANDARD_CLIP, spandsp_decode

    for standard, klass in (("bell202", ADSI_STANDARD_CLASS), ("v23", ADSI_STANDARD_CLIP)):
        signal = type_two(CALLER, standard)
        assert signal is not None
        messages = spandsp_decode(np.frombuffer(signal.data, dtype="<i2"), klass)
        assert len(messages) == 1, (standard, messages)
        fields = dict(messages[0][1:])
        assert (fields[0x02], fields[0x07]) == (b"103", b"Store"), (standard, messages)
