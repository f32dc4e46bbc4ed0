"""The recordings store: the disk floor and retention arithmetic, safe uids, the files."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from firmware.media.recstore import (
    FLOOR_MIN_BYTES,
    RecordingInfo,
    RecordingStore,
    floor_bytes,
    may_record,
    to_delete,
)
from firmware.media.recwav import WavWriter, interleave

MB = 1024 * 1024
GB = 1024 * MB
DAY = 86400.0


@pytest.mark.parametrize(("total", "floor"), [
    (8 * MB, 200 * MB),  # a tiny disk: 200 MB is more than it has, nothing records
    (1 * GB, 200 * MB),  # 10 % is 102 MB: 200 MB is larger
    (2000 * MB, 200 * MB),  # exactly where the two meet
    (32 * GB, int(32 * GB * 0.1)),  # an SD card: 10 %
])
def test_floor_is_ten_percent_or_200_mb_whichever_is_larger(total: int, floor: int) -> None:
    assert floor_bytes(total) == floor


def test_may_record_keeps_the_floor_free() -> None:
    total = 32 * GB
    floor = floor_bytes(total)
    assert may_record(floor + 1000, total, needed=1000)
    assert not may_record(floor + 1000, total, needed=1001)
    assert not may_record(floor - 1, total)
    assert not may_record(100 * MB, 300 * MB)  # under 200 MB free
    assert may_record(FLOOR_MIN_BYTES, 300 * MB)


def _info(uid: str, started: float, size: int, state: str = "ready") -> RecordingInfo:
    return RecordingInfo(uid=uid, call_id=1, a="fxs1", b="fxs2", started=started, ended=None,
                         duration_s=1.0, bytes=size, format="ogg/opus", channels="stereo",
                         state=state, path=f"2026-01-01/{uid}.opus")


def test_retention_deletes_expired_then_oldest_until_under_the_budget() -> None:
    now = 100 * DAY
    items = [_info("new", now - 1 * DAY, 40), _info("old", now - 40 * DAY, 10),
             _info("mid", now - 10 * DAY, 30), _info("mid2", now - 5 * DAY, 30),
             _info("live", now - 100, 50, state="recording")]
    # keep_days alone: only what is older than 30 days.
    assert [i.uid for i in to_delete(items, max_bytes=0, keep_days=30, now=now)] == ["old"]
    # A budget of 130 bytes: "live" (50, never deleted) + the kept ones must fit:
    # 50 + 40 + 30 + 30 = 150, so the oldest kept one, "mid", goes too.
    gone = to_delete(items, max_bytes=130, keep_days=30, now=now)
    assert [i.uid for i in gone] == ["old", "mid"]
    gone = to_delete(items, max_bytes=90, keep_days=30, now=now)
    assert [i.uid for i in gone] == ["old", "mid", "mid2"]
    # Nothing set: nothing goes.
    assert to_delete(items, max_bytes=0, keep_days=0, now=now) == []


def test_a_recording_being_recorded_or_encoded_is_never_deleted() -> None:
    items = [_info("a", 0.0, 10**9, state="recording"), _info("b", 1.0, 10**9,
                                                              state="encoding")]
    assert to_delete(items, max_bytes=1, keep_days=1, now=10 * DAY) == []


def test_store_refuses_malformed_uids(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    info = store.create(7, "fxs1", "sip3", "stereo", now=1_765_000_000.0)
    assert store.get(info.uid) == info
    for bad in ("../../etc/passwd", info.uid + "/..", info.uid.upper(), "", "x" * 80,
                info.uid[:-1] + "g"):
        assert store.get(bad) is None and store.file(bad) is None and not store.delete(bad)


def test_store_plays_only_ready_files_and_deletes_everything(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    info = store.create(7, "fxs1", "fxs2", "stereo", now=1_765_000_000.0)
    store.wav_path(info).write_bytes(b"RIFF")
    store.wav_path(info).with_name(f"{info.uid}.0a.wav").write_bytes(b"RIFF")  # a SIP side
    assert store.file(info.uid) is None  # still recording
    store.opus_path(info).write_bytes(b"OggS")
    info = store.update(info, state="ready", path=f"{info.day}/{info.uid}.opus", bytes=4)
    assert store.file(info.uid) == store.opus_path(info)
    assert [i.uid for i in store.list()] == [info.uid]
    assert store.delete(info.uid)
    assert store.get(info.uid) is None and list(tmp_path.iterdir()) == []


def test_enforce_deletes_oldest_files(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    made = []
    for i in range(3):
        info = store.create(i, "fxs1", "fxs2", "mono", now=1_765_000_000.0 + i * 100)
        store.opus_path(info).write_bytes(b"x" * 100)
        made.append(store.update(info, state="ready", bytes=100,
                                 path=f"{info.day}/{info.uid}.opus"))
    assert store.enforce(max_bytes=250, keep_days=0) == [made[0].uid]
    assert [i.uid for i in store.list()] == [made[1].uid, made[2].uid]
    assert not store.opus_path(made[0]).exists()


def test_wav_writer_stereo_channels_and_header(tmp_path: Path) -> None:
    left = (np.arange(160) * 10).astype("<i2").tobytes()
    right = (-np.arange(160)).astype("<i2").tobytes()
    w = WavWriter(tmp_path / "x.wav", 2)
    w.write(interleave([(left, right), (None, right), (left, None)], 2))
    w.close()
    with wave.open(str(tmp_path / "x.wav")) as f:
        assert (f.getnchannels(), f.getframerate(), f.getnframes()) == (2, 8000, 480)
        data = np.frombuffer(f.readframes(480), "<i2").reshape(-1, 2)
    assert list(data[:160, 0]) == list(np.arange(160) * 10)
    assert list(data[:160, 1]) == list(-np.arange(160))
    assert not data[160:320, 0].any() and not data[320:, 1].any()  # missing = silence


def test_mono_mix_saturates() -> None:
    loud = np.full(160, 30000, "<i2").tobytes()
    mixed = np.frombuffer(interleave([(loud, loud)], 1), "<i2")
    assert mixed.max() == 32767 and len(mixed) == 160


def test_dataclass_roundtrip_keeps_unknown_keys_out(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    info = store.create(1, "fxs1", "fxs2", "stereo")
    changed = replace(info, note="disk floor")
    store.save(changed)
    assert store.get(info.uid) == changed
