"""A native line port's playback rules, with its C rings driven directly (no bridge, no
pump thread): a tone's first frame goes out at once on a line with no partner, a source
stopped mid-way is flushed (barge-in), and one that ran out by itself plays its tail."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware.media.sources import PcmSource
from firmware.sip.nativelib import FRAME_BYTES, NativeLib, RingPort, load
from firmware.sip.nativeport import PLAY_AHEAD, NativeLinePort

ROOT = Path(__file__).resolve().parents[2]


class StubPump:
    """Records what the port asks of the pump."""

    def __init__(self) -> None:
        self.updates = 0

    def update(self, port: NativeLinePort) -> None:
        self.updates += 1


@pytest.fixture(scope="module")
def lib() -> NativeLib:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)
    return load()


@pytest.fixture
def port(lib: NativeLib) -> Iterator[tuple[NativeLinePort, StubPump]]:
    ring = RingPort(lib, "p1", 8, 16, 64, 2)
    pump = StubPump()
    written: list[bytes] = []
    p = NativeLinePort("p1", ring, -1, None, lambda: bytes(FRAME_BYTES), written.append,
                       pump)  # type: ignore[arg-type]
    p.written = written  # type: ignore[attr-defined]
    yield p, pump
    ring.free()


def frames(*values: int) -> bytes:
    return b"".join(np.full(160, v, "<i2").tobytes() for v in values)


def heard_values(ring: RingPort, ticks: int) -> list[int]:
    for t in range(ticks):
        ring.drive_put(None, 1000 + t * 160)
    pcm = ring.hear()
    return [int(np.frombuffer(pcm[i:i + FRAME_BYTES], "<i2")[0])
            for i in range(0, len(pcm), FRAME_BYTES)]


def test_first_frame_goes_out_at_once_on_a_line_with_no_partner(
        port: tuple[NativeLinePort, StubPump]) -> None:
    p, pump = port
    p.source = PcmSource(frames(1, 2, 3, 4, 5, 6))
    assert p.written == [frames(1)]  # type: ignore[attr-defined]
    assert pump.updates == 1
    assert p.ring.play_queued == PLAY_AHEAD
    assert heard_values(p.ring, 3) == [2, 3, 4]


def test_a_line_with_a_partner_waits_for_the_tick(
        port: tuple[NativeLinePort, StubPump]) -> None:
    p, _ = port
    p.linked = True
    p.source = PcmSource(frames(1, 2, 3))
    assert p.written == []  # type: ignore[attr-defined]
    assert heard_values(p.ring, 3) == [1, 2, 3]


def test_stopping_mid_way_flushes_what_was_queued(
        port: tuple[NativeLinePort, StubPump]) -> None:
    p, _ = port
    p.source = PcmSource(frames(1, 2, 3, 4, 5, 6, 7, 8))
    p.source = None
    assert heard_values(p.ring, 4) == []


def test_a_source_that_ran_out_plays_its_tail(port: tuple[NativeLinePort, StubPump]) -> None:
    p, _ = port
    done: list[bool] = []
    p.source = PcmSource(frames(1, 2, 3), lambda: done.append(True))
    p.fill()  # the pump tops up: the source runs out, its end is told
    assert done == [True] and p.source is None
    p.source = None  # the box stops what has ended: nothing is cut
    assert heard_values(p.ring, 3) == [2, 3]


def test_replacing_a_source_drops_the_old_ones_queue(
        port: tuple[NativeLinePort, StubPump]) -> None:
    p, _ = port
    p.linked = True
    p.source = PcmSource(frames(1, 2, 3, 4, 5))
    p.source = PcmSource(frames(9, 9))
    assert heard_values(p.ring, 3) == [9, 9]
