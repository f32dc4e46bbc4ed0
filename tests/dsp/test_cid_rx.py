"""Caller ID reception (firmware.dsp.cid_rx): robustness, errors and streaming use."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from firmware.dsp.callerid import CallerIdError, CallerIdInfo, ChecksumError, NoCarrierError
from firmware.dsp.cid_gen import (
    DEFAULT_FSK_LEVEL_DBM0,
    GR30_MARK_BITS,
    GR30_SEIZURE_BITS,
    dtmf_cid,
    fsk_burst,
    fsk_cid,
    mwi_signal,
    silence,
)
from firmware.dsp.cid_rx import CidReceiver, decode_cid
from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.fsk import BELL202, V23
from firmware.dsp.levels import dbm0_to_amplitude
from firmware.dsp.resample import resample

INFO = CallerIdInfo(number="5551234567", name="ALICE SMITH", datetime="01021230")
FRAME = 160  # 20 ms


def stretched(x: npt.ArrayLike, factor: float) -> npt.NDArray[np.float64]:
    """Play `x` `factor` times faster: every frequency and the bit rate move together."""
    arr = np.asarray(x, dtype=np.float64)
    n = np.arange(int(len(arr) / factor))
    out: npt.NDArray[np.float64] = np.interp(n * factor, np.arange(len(arr)), arr)
    return out


def with_noise(x: npt.ArrayLike, snr_db: float, seed: int = 99) -> npt.NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    power = float(np.mean(arr[arr != 0] ** 2))
    rng = np.random.default_rng(seed)
    return arr + rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(arr))


@pytest.mark.parametrize("standard", ["bell202", "v23"])
@pytest.mark.parametrize("level", [0.0, -13.5, -25.0, -40.0])
def test_levels(standard: str, level: float) -> None:
    signal = fsk_cid(INFO, standard, level_dbm0=level)  # type: ignore[arg-type]
    result = decode_cid(signal.samples, standard)  # type: ignore[arg-type]
    assert result.info == INFO


@pytest.mark.parametrize("factor", [0.99, 1.01])
@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_one_per_cent_frequency_offset(standard: str, factor: float) -> None:
    signal = fsk_cid(INFO, standard)  # type: ignore[arg-type]
    result = decode_cid(stretched(signal.samples, factor), "auto")
    assert result.info == INFO
    assert result.standard == standard


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_twenty_db_signal_to_noise(standard: str) -> None:
    signal = fsk_cid(INFO, standard)  # type: ignore[arg-type]
    for seed in range(5):
        assert decode_cid(with_noise(signal.samples, 20.0, seed)).info == INFO


def test_dtmf_with_noise_and_offset() -> None:
    signal = dtmf_cid(CallerIdInfo(number="0123456789"))
    noisy = with_noise(stretched(signal.samples, 1.01), 20.0)
    assert decode_cid(noisy, "dtmf").info == CallerIdInfo(number="0123456789")


def test_leading_silence_and_idle_line() -> None:
    signal = fsk_cid(INFO, "bell202")
    audio = np.concatenate([silence(3000), signal.samples, silence(1000)])
    assert decode_cid(audio).info == INFO


def test_bit_timing_drift() -> None:
    # Padded, so that the slowed-down end still lies inside the recording.
    x = np.concatenate([fsk_cid(INFO, "bell202").samples, silence(100)]).astype(np.float64)
    n = np.arange(len(x), dtype=np.float64)
    for drift in (-0.02, 0.02):
        warped = np.interp(n + drift * n * n / (2 * len(x)), n, x)
        assert decode_cid(warped).info == INFO


def test_checksum_corruption_raises_checksum_error() -> None:
    message = bytearray(fsk_cid(INFO, "bell202").payload)
    message[-1] ^= 0x55
    audio = np.concatenate([silence(200), fsk_burst(bytes(message), BELL202, GR30_SEIZURE_BITS,
                                                    GR30_MARK_BITS), silence(200)])
    with pytest.raises(ChecksumError, match="checksum"):
        decode_cid(audio, "bell202")


def test_silence_raises_no_carrier() -> None:
    with pytest.raises(NoCarrierError, match="no FSK or DTMF caller ID"):
        decode_cid(np.zeros(16000, dtype=np.int16))


def test_white_noise_raises_no_carrier() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, dbm0_to_amplitude(-20.0), 16000)
    with pytest.raises(NoCarrierError):
        decode_cid(noise, "auto")


def test_a_cut_message_is_not_no_carrier() -> None:
    samples = fsk_cid(INFO, "v23").samples
    cut = samples[: len(samples) - 2000]
    with pytest.raises(CallerIdError, match=r"cut short|framing error") as caught:
        decode_cid(cut, "v23")
    assert not isinstance(caught.value, NoCarrierError)


def test_dtmf_only_standard_ignores_fsk() -> None:
    with pytest.raises(NoCarrierError, match="no DTMF"):
        decode_cid(fsk_cid(INFO, "bell202").samples, "dtmf")


def test_unknown_standard_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of"):
        CidReceiver("bell103")  # type: ignore[arg-type]


def test_streaming_twenty_ms_frames_between_rings() -> None:
    signal = fsk_cid(INFO, "bell202")
    line = np.concatenate([silence(2000), signal.samples, silence(2000)])
    receiver = CidReceiver("auto")
    results = []
    for start in range(0, len(line), FRAME):
        result = receiver.feed(line[start:start + FRAME])
        if result is not None:
            results.append((start, result))
    assert len(results) == 1
    start, result = results[0]
    assert result.info == INFO
    end_ms = 2000 + signal.duration_ms
    # Reported within a demodulator batch (80 ms) and a frame of the message's end.
    assert start * 1000 / 8000 <= end_ms + 100
    assert result.at_ms == pytest.approx(end_ms, abs=15)


def test_streaming_several_messages_in_turn() -> None:
    line = np.concatenate([mwi_signal(True, "v23").samples, silence(500),
                           fsk_cid(INFO, "v23", alert="polarity_reversal_dual_tone").samples,
                           silence(500), dtmf_cid(CallerIdInfo(number="42")).samples,
                           silence(500)])
    receiver = CidReceiver("auto")
    results = [receiver.feed(line)]
    results += [receiver.feed(np.zeros(0)) for _ in range(3)]
    found = [r for r in results if r is not None]
    assert [r.standard for r in found] == ["v23", "v23", "dtmf"]
    assert found[0].mwi is True
    assert found[1].info == INFO
    assert found[2].info == CallerIdInfo(number="42")


def test_receiver_keeps_listening_after_a_bad_message() -> None:
    good = fsk_cid(INFO, "bell202").payload
    bad = bytearray(good)
    bad[4] ^= 0x01
    burst = fsk_burst(bytes(bad), BELL202, 300, 180, DEFAULT_FSK_LEVEL_DBM0)
    receiver = CidReceiver("bell202")
    assert receiver.feed(np.concatenate([burst, silence(300)])) is None
    assert isinstance(receiver.last_error, ChecksumError)
    result = receiver.feed(np.concatenate([fsk_cid(INFO, "bell202").samples, silence(300)]))
    assert result is not None and result.info == INFO


def test_dtmf_pause_drops_a_partial_string() -> None:
    audio = np.concatenate([generate_dtmf("A123", 70, 70), silence(1500),
                            generate_dtmf("456C", 70, 70), silence(300)])
    with pytest.raises(CallerIdError):
        decode_cid(audio, "dtmf")


def test_mark_frequency_names_the_standard_in_auto() -> None:
    for std in (BELL202, V23):
        burst = fsk_burst(fsk_cid(INFO, "bell202").payload, std, 300, 180)
        assert decode_cid(burst, "auto").standard == std.name


def test_other_sample_rates() -> None:
    samples = fsk_cid(INFO, "v23").samples
    wideband = resample(samples, 8000, 16000)
    assert decode_cid(wideband, "auto", sample_rate=16000).info == INFO
