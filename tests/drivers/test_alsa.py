"""Line audio through ALSA: the real pyalsaaudio binding against ``type file`` PCMs, and the
port thread's xrun and failure handling against scripted PCMs.

ALSA's file plugin reads a prepared raw file and writes what it is given, but is not paced
in real time, so the test paces it: one ``pump()`` per codec period, one bridge frame per
20 ms of pumping. It runs in a child process whose ALSA configuration is only the test's
asoundrc (``ALSA_CONFIG_PATH``).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from board_helpers import wait_until

from drivers.alsa import AlsaAudio, AlsaError
from drivers.alsa.pcm import Pcm

ROOT = Path(__file__).resolve().parents[2]
FRAMES = 150  # 3 s of bridge frames

ASOUNDRC = """
pcm.linecap {{
    type file
    slave.pcm {{ type null }}
    file "{dir}/cap-tee.raw"
    infile "{dir}/line-in.raw"
    format "raw"
}}
pcm.lineplay {{
    type file
    slave.pcm {{ type null }}
    file "{dir}/line-out.raw"
    format "raw"
}}
"""

CHILD = """
import json, struct, sys
from drivers.alsa import AlsaAudio, AlsaError
period_ms, frames, out_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
audio = AlsaAudio("linecap", "lineplay", name="line", period_ms=period_ms)
audio.open()
heard = bytearray()
for i in range(frames):
    for _ in range(20 // period_ms):
        audio.pump()
    heard += audio.read_frame()
    audio.write_frame(b"".join(struct.pack("<h", 1 + (i * 160 + k) % 30000)
                               for k in range(160)))
audio.close()
open(out_dir + "/heard.raw", "wb").write(heard)
try:
    AlsaAudio("no_such_pcm", "no_such_pcm").open()
    missing = ""
except AlsaError as exc:
    missing = str(exc)
stats = audio.stats()
print(json.dumps({"periods": stats.periods, "rx_corrections": stats.rx.corrections,
                  "tx_corrections": stats.tx.corrections, "rx_underruns": stats.rx.underruns,
                  "capture_xruns": stats.capture_xruns, "missing": missing}))
"""


def samples(data: bytes) -> list[int]:
    return [v for (v,) in struct.iter_unpack("<h", data)]


def strip_leading_silence(values: list[int]) -> list[int]:
    i = 0
    while i < len(values) and values[i] == 0:
        i += 1
    return values[i:]


@pytest.mark.parametrize("period_ms", [20, 10])
def test_frames_in_and_out_through_pyalsaaudio(tmp_path: Path, period_ms: int) -> None:
    pytest.importorskip("alsaaudio")
    line_in = [1 + (7 * k) % 30000 for k in range(FRAMES * 160 + 8000)]
    (tmp_path / "line-in.raw").write_bytes(struct.pack(f"<{len(line_in)}h", *line_in))
    (tmp_path / "asoundrc").write_text(ASOUNDRC.format(dir=tmp_path))
    env = {**os.environ, "ALSA_CONFIG_PATH": str(tmp_path / "asoundrc"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(period_ms), str(FRAMES),
                           str(tmp_path)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["periods"] == FRAMES * 20 // period_ms
    assert result["rx_corrections"] == 0 and result["tx_corrections"] == 0
    assert result["rx_underruns"] == 0 and result["capture_xruns"] == 0
    assert "no_such_pcm" in result["missing"]

    # Line to bridge: after the priming silence, the line's samples in order, none lost.
    heard = strip_leading_silence(samples((tmp_path / "heard.raw").read_bytes()))
    assert len(heard) >= (FRAMES - 10) * 160
    assert heard == line_in[: len(heard)]

    # Bridge to line: after the prefill and priming silence, the frames as written.
    played = strip_leading_silence(samples((tmp_path / "line-out.raw").read_bytes()))
    written = [1 + k % 30000 for k in range(FRAMES * 160)]
    assert len(played) >= (FRAMES - 10) * 160
    assert played == written[: len(played)]


# --- the port thread against scripted PCMs ---------------------------------------------

class ScriptedPcm:
    """A PCM paced by sleeping one period, with scripted overruns and underruns."""

    def __init__(self, device: str, capture: bool, period_frames: int) -> None:
        self.device = device
        self.capture = capture
        self.period_frames = period_frames
        self.xrun_reads: set[int] = set()
        self.xrun_writes: set[int] = set()
        self.reads = 0
        self.written = bytearray()
        self.writes = 0
        self.closed = False

    def read(self) -> tuple[int, bytes]:
        time.sleep(self.period_frames / 8000)
        self.reads += 1
        if self.reads in self.xrun_reads:
            return -32, b""
        return self.period_frames, struct.pack("<h", 1000) * self.period_frames

    def write(self, data: bytes) -> int:
        self.writes += 1
        self.written += data
        return len(data) // 2

    def in_xrun(self) -> bool:
        return self.writes + 1 in self.xrun_writes

    def close(self) -> None:
        self.closed = True


class Opener:
    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls = 0
        self.pcms: list[ScriptedPcm] = []
        self.lock = threading.Lock()

    def __call__(self, device: str, capture: bool, period_frames: int, periods: int) -> Pcm:
        with self.lock:
            self.calls += 1
            if self.calls <= self.fail_first:
                raise AlsaError(f"cannot open ALSA device {device!r}: unplugged")
            pcm = ScriptedPcm(device, capture, period_frames)
            if capture:
                pcm.xrun_reads = {10}
            else:
                pcm.xrun_writes = {12}
            self.pcms.append(pcm)
            return pcm


def test_thread_moves_audio_and_survives_xruns() -> None:
    opener = Opener()
    audio = AlsaAudio("cap", "play", name="fxs1", period_ms=10, opener=opener)
    audio.start()
    try:
        assert wait_until(lambda: audio.stats().periods >= 30)
        assert wait_until(lambda: audio.read_frame() == struct.pack("<h", 1000) * 160)
        for _ in range(10):
            audio.write_frame(struct.pack("<h", 77) * 160)
        assert wait_until(lambda: struct.pack("<h", 77) in bytes(opener.pcms[1].written))
        stats = audio.stats()
        assert stats.running
        assert stats.capture_xruns == 1 and stats.playback_xruns == 1
        assert stats.errors == 0
    finally:
        audio.close()
    assert not audio.stats().running
    assert all(p.closed for p in opener.pcms)


def test_a_codec_that_fails_to_open_is_retried() -> None:
    opener = Opener(fail_first=1)
    audio = AlsaAudio("cap", "play", name="fxo1", period_ms=20, opener=opener, retry_s=0.05)
    audio.start()
    try:
        assert audio.read_frame() == bytes(320)  # nothing yet: silence, never blocks
        assert wait_until(lambda: audio.stats().periods >= 5)
        assert audio.stats().errors == 1
    finally:
        audio.close()


def test_pump_before_open_is_an_error() -> None:
    with pytest.raises(AlsaError):
        AlsaAudio("cap", "play", opener=Opener()).pump()
