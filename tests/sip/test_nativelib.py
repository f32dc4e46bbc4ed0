"""The native line port's rings and callbacks, driven through ctypes with no pjsua2: the
tests call get_frame and put_frame as the bridge's clock thread would."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware.sip.nativelib import FRAME_BYTES, NativeLib, NativeUnavailable, RingPort, load

ROOT = Path(__file__).resolve().parents[2]
SILENCE = bytes(FRAME_BYTES)


@pytest.fixture(scope="module")
def lib() -> NativeLib:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)
    return load()


@pytest.fixture
def port(lib: NativeLib) -> Iterator[RingPort]:
    p = RingPort(lib, "t1", say_cap=4, hear_cap=4, play_cap=8, say_keep=2)
    yield p
    p.free()


def frame(n: int) -> bytes:
    """A frame whose samples all read ``n`` (tells frames apart)."""
    return np.full(160, n, "<i2").tobytes()


def value(pcm: bytes) -> int:
    samples = np.frombuffer(pcm, "<i2")
    assert (samples == samples[0]).all()
    return int(samples[0])


def test_built_against_the_pinned_headers(lib: NativeLib) -> None:
    assert lib.built_version == "2.15.1"


def test_missing_library_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(NativeUnavailable, match=str(tmp_path / "none.so")):
        load(tmp_path / "none.so")


def test_underrun_gives_silence(port: RingPort) -> None:
    assert port.drive_get() == SILENCE
    assert port.stats()["say_underruns"] == 1


def test_say_frames_come_out_in_order_and_wrap(port: RingPort) -> None:
    # Capacity 4: ten rounds go round the ring several times.
    for i in range(10):
        assert port.say(frame(2 * i) + frame(2 * i + 1)) == 2
        assert value(port.drive_get()) == 2 * i
        assert value(port.drive_get()) == 2 * i + 1
    assert port.drive_get() == SILENCE


def test_say_full_ring_drops_the_newest(port: RingPort) -> None:
    pcm = b"".join(frame(i) for i in range(6))
    assert port.say(pcm) == 4  # frames 4 and 5 did not fit
    assert port.stats()["say_overflows"] == 2
    # The read keeps only the newest two (say_keep): 0 and 1 are trimmed, 2 plays.
    assert value(port.drive_get()) == 2
    assert value(port.drive_get()) == 3
    assert port.stats()["say_trimmed"] == 2


def test_put_frame_passes_bridged_audio_to_hear(port: RingPort) -> None:
    port.drive_put(frame(7), 0)
    port.drive_put(None, 160)  # no transmitter: nothing for the line
    port.drive_put(frame(9), 320)
    heard = port.hear()
    assert [value(heard[i:i + FRAME_BYTES]) for i in range(0, len(heard), FRAME_BYTES)] == [7, 9]
    assert port.hear() == b""


def test_hear_full_ring_drops_the_newest(port: RingPort) -> None:
    for i in range(6):
        port.drive_put(frame(i), i * 160)
    heard = port.hear()
    assert [value(heard[i:i + FRAME_BYTES]) for i in range(0, len(heard), FRAME_BYTES)] == \
        [0, 1, 2, 3]
    assert port.stats()["hear_overflows"] == 2


def test_playback_mixes_with_saturation(port: RingPort) -> None:
    assert port.play(frame(30000) + frame(-5)) == 2
    port.drive_put(frame(10000), 0)  # saturates at 32767
    port.drive_put(None, 160)  # playback alone
    port.drive_put(None, 320)  # nothing left: the line hears nothing
    heard = port.hear()
    assert len(heard) == 2 * FRAME_BYTES
    assert value(heard[:FRAME_BYTES]) == 32767
    assert value(heard[FRAME_BYTES:]) == -5


def test_playback_flush_drops_what_was_queued_before_it(port: RingPort) -> None:
    port.play(frame(1) + frame(2) + frame(3))
    port.flush_play()
    port.play(frame(4))  # after the flush: plays
    port.drive_put(None, 0)
    port.drive_put(None, 160)
    heard = port.hear()
    assert [value(heard[i:i + FRAME_BYTES]) for i in range(0, len(heard), FRAME_BYTES)] == [4]
    assert port.play_queued == 0


def test_playback_full_ring_refuses_the_newest(port: RingPort) -> None:
    assert port.play(b"".join(frame(i) for i in range(10))) == 8
    assert port.play_room == 0
    assert port.stats()["play_overflows"] == 2


def test_partial_frames_are_refused(port: RingPort) -> None:
    with pytest.raises(ValueError, match="whole 320-byte frames"):
        port.play(bytes(100))


def test_wait_tick_returns_on_a_tick_and_times_out_without(lib: NativeLib,
                                                           port: RingPort) -> None:
    seen, _ = lib.wait_tick(0, 0, 0)
    assert lib.wait_tick(seen, 10, 0)[0] == seen  # nothing ticked: timed out
    result: list[int] = []
    waiter = threading.Thread(target=lambda: result.append(lib.wait_tick(seen, 5000, 0)[0]))
    waiter.start()
    port.drive_put(None, 123456)  # a new bridge timestamp: a tick
    waiter.join(10)
    assert result and result[0] > seen


def test_spsc_threads_lose_and_reorder_nothing(lib: NativeLib) -> None:
    """A producer thread and a consumer thread hammer the say ring; every frame that the
    producer was told fitted comes out, in order."""
    p = RingPort(lib, "spsc", say_cap=8, hear_cap=4, play_cap=4, say_keep=0)
    total = 5000
    accepted: list[int] = []
    got: list[int] = []
    done = threading.Event()

    def produce() -> None:
        for i in range(total):
            if p.say(frame(i % 30000)):
                accepted.append(i % 30000)
        done.set()

    def consume() -> None:
        while not done.is_set() or p.say_queued:
            if p.say_queued:
                got.append(value(p.drive_get()))

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    p.free()
    assert got == accepted
    assert len(accepted) > 0
