"""The calls commands' rules, through the command table with a real store and a small
stand-in for the recorder's store: who sees which record and recording, what a stranger's
id answers, and the arguments' errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from firmware.app.load import LoadMeter
from firmware.commands.builtin import table
from firmware.commands.caller import Caller
from firmware.core.errors import CommandError, NotFoundError, PermissionDeniedError
from firmware.records.model import CallRow
from firmware.records.store import CallStore

T0 = 1_800_000_000.0
ADMIN = Caller("boss", "admin", "api")
INSTALLER = Caller("ian", "installer", "api")
ALICE = Caller("alice", "user", "api", "101")
BOB = Caller("bob", "user", "api", "102")
NOBODY = Caller("nemo", "user", "api")


class Info:
    def __init__(self, state: str) -> None:
        self.state, self.duration_s, self.bytes, self.channels = state, 12.0, 4000, "stereo"


class Recordings:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = {"rec-a": root / "a.opus", "rec-b": root / "b.opus"}
        for f in self.files.values():
            f.write_bytes(b"OggS" + bytes(100))
        self.states = {uid: "ready" for uid in self.files}

    def get(self, uid: str) -> Info | None:
        return Info(self.states[uid]) if uid in self.files else None

    def busy(self, uid: str) -> bool:
        return uid in self.files and self.states[uid] in ("recording", "encoding")

    def file(self, uid: str) -> Path | None:
        return self.files.get(uid)

    def delete(self, uid: str) -> bool:
        return self.files.pop(uid, None) is not None


class System:
    def __init__(self, tmp: Path) -> None:
        self.store = CallStore(tmp / "cdr.sqlite")
        self.recs = Recordings(tmp)
        self.meter = LoadMeter(lambda: self.store, lambda: {"calls": [], "ports": []})

    def records(self) -> CallStore:
        return self.store

    def recordings(self) -> Recordings:
        return self.recs

    def load(self) -> LoadMeter:
        return self.meter


@pytest.fixture
def system(tmp_path: Path) -> tuple[System, dict[str, str]]:
    s = System(tmp_path)
    a, b = s.store.add([
        CallRow(start=T0, end=T0 + 60, answer=T0 + 5, status="ANSWERED", caller_ext="101",
                callee_ext="103", caller_number="101", called_number="103",
                recording="rec-a"),
        CallRow(start=T0 + 100, end=T0 + 130, status="NO_ANSWER", caller_number="5557777",
                callee_ext="102", called_number="102", direction="inbound",
                recording="rec-b")])
    return s, {"alice": a, "bob": b}


def run(system: Any, caller: Caller, name: str, **args: Any) -> Any:
    return asyncio.run(table.call(system, name, args, caller))


def test_each_sees_their_own_and_managers_see_all(system: tuple[System, dict[str, str]]) -> None:
    s, uids = system
    assert [r["uid"] for r in run(s, ALICE, "calls")["calls"]] == [uids["alice"]]
    assert [r["uid"] for r in run(s, BOB, "calls")["calls"]] == [uids["bob"]]
    assert run(s, NOBODY, "calls")["calls"] == []
    assert run(s, ADMIN, "calls")["total"] == run(s, INSTALLER, "calls")["total"] == 2
    assert run(s, BOB, "calls", disposition="missed")["total"] == 1
    assert run(s, ALICE, "calls", extension="102")["total"] == 0


def test_a_strangers_record_is_not_found_like_a_missing_one(
        system: tuple[System, dict[str, str]]) -> None:
    s, uids = system
    for name in ("calls.get", "calls.recording"):
        with pytest.raises(NotFoundError) as theirs:
            run(s, ALICE, name, uid=uids["bob"])
        with pytest.raises(NotFoundError) as missing:
            run(s, ALICE, name, uid="0" * 16)
        assert str(theirs.value).replace(uids["bob"], "X") == str(missing.value).replace(
            "0" * 16, "X")
    with pytest.raises(NotFoundError):  # the recording's own uid is no record id
        run(s, ALICE, "calls.recording", uid="rec-a")
    got = run(s, ALICE, "calls.recording", uid=uids["alice"])
    assert got["mime"] == "audio/ogg; codecs=opus"
    assert got["url"] == f"/calls/{uids['alice']}/recording" and "file" not in got
    # The web page's own handler (via "web") gets the file it streams.
    web_alice = Caller("alice", "user", "web", "101")
    assert Path(run(s, web_alice, "calls.recording", uid=uids["alice"])["file"]).name == (
        "a.opus")


def test_recordings_are_for_their_people_and_admins(
        system: tuple[System, dict[str, str]]) -> None:
    s, uids = system
    assert run(s, INSTALLER, "calls.get", uid=uids["alice"])["recording"] is None
    with pytest.raises(NotFoundError):
        run(s, INSTALLER, "calls.recording", uid=uids["alice"])
    assert run(s, ADMIN, "calls.get", uid=uids["bob"])["recording"]["state"] == "ready"
    with pytest.raises(PermissionDeniedError):
        run(s, BOB, "calls.recording.delete", uid=uids["bob"])
    s.recs.states["rec-b"] = "encoding"  # still being written: refused, kept
    with pytest.raises(CommandError, match="still being recorded or encoded"):
        run(s, ADMIN, "calls.recording.delete", uid=uids["bob"])
    assert "rec-b" in s.recs.files
    s.recs.states["rec-b"] = "ready"
    assert run(s, ADMIN, "calls.recording.delete", uid=uids["bob"])["deleted"]
    assert run(s, BOB, "calls.get", uid=uids["bob"])["recording"] == {"state": "deleted"}
    with pytest.raises(NotFoundError):
        run(s, ADMIN, "calls.recording.delete", uid=uids["bob"])


def test_bad_arguments_say_what_and_how(system: tuple[System, dict[str, str]]) -> None:
    s, _ = system
    for args, text in (({"disposition": "lost"}, "disposition 'lost': use one of"),
                       ({"sort": "password"}, "sort 'password': use one of"),
                       ({"order": "up"}, "order 'up': use asc or desc"),
                       ({"since": "soon"}, "since 'soon': write a duration"),
                       ({"limit": 5000}, "limit 5000: from 0 to 1000")):
        with pytest.raises(CommandError, match=text):
            run(s, ADMIN, "calls", **args)


def test_stats_count_the_last_hour(system: tuple[System, dict[str, str]]) -> None:
    s, _ = system
    s.meter = LoadMeter(lambda: s.store, lambda: {"calls": [{"state": "connected"}],
                                                  "ports": []}, clock=lambda: T0 + 200)
    stats = run(s, ALICE, "load")
    assert stats["calls_in_progress"] == 1
    assert {k: stats["windows"]["60m"][k] for k in ("calls", "answered", "missed")} == {
        "calls": 2, "answered": 1, "missed": 1}
