"""The drift buffer between a codec's clock and the bridge's, on simulated clocks."""

from __future__ import annotations

import itertools
import struct

import pytest

from drivers.alsa.clocksim import simulate_drift
from drivers.alsa.driftbuffer import DriftBuffer

RATE = 8000


def ramp(start: int, n: int) -> bytes:
    return b"".join(struct.pack("<h", (start + i) % 30000) for i in range(n))


def samples(data: bytes) -> list[int]:
    return [v for (v,) in struct.iter_unpack("<h", data)]


def test_primes_before_giving_audio_and_keeps_order() -> None:
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    assert buf.pop(160) == bytes(320)  # priming silence, not an underrun
    buf.push(ramp(0, 480))
    out = samples(buf.pop(160))
    assert out == list(range(160))
    assert buf.depth == 320
    assert buf.stats().underruns == 0


def test_underrun_gives_what_there_is_then_silence_and_primes_again() -> None:
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    buf.push(ramp(1, 480))
    buf.pop(160)
    buf.pop(160)
    out = samples(buf.pop(240))  # 160 left, 240 wanted
    assert out[:160] == list(range(321, 481)) and out[160:] == [0] * 80
    stats = buf.stats()
    assert stats.underruns == 1 and not stats.primed
    assert buf.pop(160) == bytes(320)


def test_overrun_drops_the_oldest_and_never_grows_past_capacity() -> None:
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    for k in range(20):
        buf.push(ramp(k * 160, 160))
        assert buf.depth <= 1600
    stats = buf.stats()
    assert stats.overruns > 0 and stats.overrun_samples == 20 * 160 - 1600
    assert samples(buf.pop(160))[0] == 20 * 160 - 1600  # the newest 1600 were kept


def test_a_deep_buffer_drops_single_samples_spread_through_each_frame() -> None:
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    buf.push(ramp(0, 1400))  # far deeper than target + band once primed
    out = samples(buf.pop(160))
    gaps = [b - a for a, b in itertools.pairwise(out)]
    assert len(out) == 160
    assert set(gaps) == {1, 2}  # single samples dropped, never two side by side
    assert sum(g - 1 for g in gaps) == buf.max_step == buf.stats().dropped


def test_a_shallow_buffer_repeats_single_samples() -> None:
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    buf.push(ramp(0, 480))
    buf.pop(160)  # primed with 320 left
    fed = 480
    for k in range(60):  # the producer falls behind (150 in per 160 out), then keeps up
        n = 150 if k < 30 else 160
        buf.push(ramp(fed, n))
        fed += n
        out = samples(buf.pop(160))
        gaps = [b - a for a, b in itertools.pairwise(out)]
        assert set(gaps) <= {0, 1}
    stats = buf.stats()
    assert stats.repeated > 0 and stats.dropped == 0 and stats.underruns == 0


@pytest.mark.parametrize("ppm", [100, -100, 10_000, -10_000],
                         ids=["+100ppm", "-100ppm", "+1%", "-1%"])
@pytest.mark.parametrize("push", [160, 80], ids=["20ms-periods", "10ms-periods"])
def test_drift_stays_bounded_and_is_corrected(ppm: int, push: int) -> None:
    seconds = 600 if abs(ppm) < 1000 else 60
    buf = DriftBuffer(target=320, band=120, capacity=1600)
    run = simulate_drift(buf, ppm=ppm, seconds=seconds, push_samples=push)
    stats = run.stats
    assert stats.underruns == 0 and stats.overruns == 0
    # Bounded: within the band plus one transfer period of sawtooth and a little jitter.
    assert run.min_depth > 0
    assert run.max_depth <= buf.target + buf.band + 2 * push
    # Every surplus sample is either dropped or still in the buffer (and vice versa).
    drift = ppm * 1e-6 * RATE * seconds
    net = stats.dropped - stats.repeated
    assert abs(net - drift) <= buf.band + 2 * push + 32
    if ppm > 0:
        assert stats.dropped > 0 and stats.repeated <= stats.dropped // 10
    else:
        assert stats.repeated > 0 and stats.dropped <= stats.repeated // 10


def test_no_drift_no_corrections() -> None:
    run = simulate_drift(DriftBuffer(), ppm=0, seconds=300, push_samples=160)
    assert run.stats.corrections == 0 and run.stats.underruns == 0


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError):
        DriftBuffer(target=100, band=120, capacity=1600)
    with pytest.raises(ValueError):
        DriftBuffer(target=320, band=120, capacity=400)
    with pytest.raises(ValueError):
        DriftBuffer().push(b"\x00")
