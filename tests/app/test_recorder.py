"""The recorder between the exchange's Record events and the files, driven by hand (no
threads, no pjsua2): channel order, drops when the writer falls behind, the disk floor,
and the link the call records use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware.app import recorder as rec
from firmware.app.recorder import Recorder, RecordingSettings
from firmware.core.events import Record
from firmware.media.recstore import RecordingStore

Sink = Callable[[bytes | None, bytes | None], None]


class FakeSwitch:
    def __init__(self, lines: tuple[str, ...] = ("fxs1", "fxs2")) -> None:
        self.lines = lines
        self.taps: dict[str, Sink | None] = {}

    def record(self, leg: str, sink: Sink | None) -> None:
        self.taps[leg] = sink

    def can_record(self, leg: str) -> bool:
        return leg in self.lines

    def record_media(self, leg: str, path: str | None) -> bool:
        return path is None  # no SIP call media here


class NowLoop:
    """call_soon_threadsafe runs at once (the test is the only thread)."""

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)


def frame(value: int) -> bytes:
    return np.full(160, value, "<i2").tobytes()


def make(tmp_path: Path, channels: str = "stereo",
         lines: tuple[str, ...] = ("fxs1", "fxs2")) -> tuple[Recorder, FakeSwitch]:
    switch = FakeSwitch(lines)
    r = Recorder(NowLoop(), switch, RecordingStore(tmp_path),  # type: ignore[arg-type]
                 RecordingSettings(channels=channels))
    return r, switch


def wav_of(r: Recorder, uid: str) -> np.ndarray:
    """The samples written so far (the header's sizes are put right at the close)."""
    info = r.store.get(uid)
    assert info is not None
    raw = r.store.wav_path(info).read_bytes()[44:]
    return np.frombuffer(raw, "<i2").reshape(-1, 2 if info.channels == "stereo" else 1)


def test_the_callee_line_records_with_the_caller_left(tmp_path: Path) -> None:
    """A SIP caller (sip3) to fxs2: fxs2's port carries the call, and its own voice is the
    callee's, so it goes right."""
    r, switch = make(tmp_path, lines=("fxs2",))
    r.handle(Record(5, "sip3", "fxs2", True))
    sink = switch.taps["fxs2"]
    assert sink is not None
    sink(frame(100), frame(-200))  # (what fxs2 says, what it hears from sip3)
    r._write_pass()
    uid = r.uid_for(5)
    assert uid is not None and r.uid_for(6) is None
    data = wav_of(r, uid)
    assert (data[:, 0] == -200).all() and (data[:, 1] == 100).all()


def test_frames_beyond_the_queue_are_dropped_and_counted(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setattr(rec, "MAX_QUEUED_FRAMES", 5)
    r, switch = make(tmp_path)
    r.handle(Record(1, "fxs1", "fxs2", True))
    sink = switch.taps["fxs1"]
    assert sink is not None
    for _ in range(8):  # the writer has not run: 3 frames too many
        sink(frame(1), frame(2))
    assert r.status()["dropped_frames"] == 3
    r._write_pass()
    assert len(wav_of(r, r.uid_for(1) or "")) == 5 * 160


def test_off_pauses_and_on_continues_the_same_file(tmp_path: Path) -> None:
    r, switch = make(tmp_path, channels="mono")
    r.handle(Record(1, "fxs1", "fxs2", True))
    tap = switch.taps["fxs1"]
    assert tap is not None
    tap(frame(10), frame(20))
    r.handle(Record(1, "fxs1", "fxs2", False))
    assert switch.taps["fxs1"] is None
    tap(frame(99), frame(99))  # a late frame after the stop is not recorded
    r.handle(Record(1, "fxs1", "fxs2", True))
    tap2 = switch.taps["fxs1"]
    assert tap2 is not None
    tap2(frame(1), frame(2))
    r._write_pass()
    data = wav_of(r, r.uid_for(1) or "")[:, 0]
    assert list(data[::160]) == [30, 3]  # mono: both voices summed


def test_disk_floor_stops_the_recording_and_reports_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    r, switch = make(tmp_path)
    total = 1_000_000_000_000
    floor = int(total * 0.1)
    free = [floor + 5000]
    monkeypatch.setattr(r.store, "disk", lambda: (free[0], total))
    r.handle(Record(1, "fxs1", "fxs2", True))
    sink = switch.taps["fxs1"]
    assert sink is not None
    sink(frame(1), frame(2))  # 640 bytes: fits above the floor
    r._write_pass()
    for _ in range(10):  # 6400 bytes: would cross it
        sink(frame(1), frame(2))
    r._write_pass()
    status = r.status()
    assert status["stopped_by_disk"] == 1 and not status["ok"]
    assert "disk floor" in status["error"] and status["active"] == 0
    assert switch.taps["fxs1"] is None  # the tap is off: the call goes on without it
    assert len(wav_of(r, r.uid_for(1) or "")) == 160
    # A new call while below the floor is refused; once space is back, it records.
    free[0] = floor - 1
    r._write_pass()
    r.handle(Record(2, "fxs2", "fxs1", True))
    assert r.status()["refused"] == 1 and r.uid_for(2) is None
    free[0] = floor + 50_000_000
    r._write_pass()
    assert r.status()["ok"]
    r.handle(Record(3, "fxs2", "fxs1", True))
    assert r.uid_for(3) is not None


def test_a_call_without_a_line_leg_is_not_recorded(tmp_path: Path) -> None:
    r, _ = make(tmp_path, lines=())
    r.handle(Record(1, "sip1", "out2", True))
    assert r.status()["refused"] == 1 and r.uid_for(1) is None


def test_sweep_ends_a_recording_whose_legs_left(tmp_path: Path) -> None:
    r, switch = make(tmp_path)
    r.handle(Record(1, "fxs1", "sip4", True))
    states = {"fxs1": "connected", "sip4": "connected"}
    r.sweep(states.__getitem__)
    assert switch.taps["fxs1"] is not None
    states["sip4"] = "unknown"  # the SIP leg is gone, and no Unbridge came
    r.sweep(states.__getitem__)
    assert switch.taps["fxs1"] is None and r.status()["active"] == 0


def test_status_text_shows_a_recording_storage_problem() -> None:
    from firmware.app.status_text import format_status

    bad = {"ok": False, "error": "call 3: recording stopped: disk floor: 190 MB free",
           "free_bytes": 190_000_000, "floor_bytes": 200_000_000}
    text = format_status({"recording": bad})
    assert ("Recording: call 3: recording stopped: disk floor: 190 MB free; 190 MB free, "
            "recording stops below 200 MB (calls go on)") in text
    assert "Recording" not in format_status({"recording": {**bad, "ok": True}})


def test_a_call_recorded_again_after_an_unbridge_keeps_both_files(tmp_path: Path) -> None:
    r, switch = make(tmp_path)
    r.handle(Record(1, "fxs1", "fxs2", True))
    first = r.uid_for(1)
    tap = switch.taps["fxs1"]
    assert tap is not None
    tap(frame(5), frame(6))
    r.call_over("fxs1", "fxs2")  # finishing, not yet written
    r.handle(Record(1, "fxs1", "fxs3", True))  # the same call, a new partner
    second = r.uid_for(1)
    tap2 = switch.taps["fxs1"]
    assert tap2 is not None and second != first
    tap2(frame(7), frame(8))
    r._write_pass()  # writes both; finishes the first
    assert r.store.get(first or "") is not None and r.store.get(second or "") is not None
    assert r.status()["active"] == 1
