"""The records database on its own: schema, queries and access filter, retention, the
cdr.jsonl import, and live load figures from it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from firmware.records.model import CallRow, Leg, disposition_of
from firmware.records.since import parse_since
from firmware.records.store import CallQuery, CallStore

T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def row(start: float, status: str = "ANSWERED", a: str | None = "101", b: str | None = "102",
        **more: object) -> CallRow:
    answer = start + 2 if status == "ANSWERED" else None
    return CallRow(start=start, end=start + 30, answer=answer, status=status, caller_ext=a,
                   callee_ext=b, caller_number=a, called_number=b, **more)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> CallStore:
    return CallStore(tmp_path / "cdr.sqlite", clock=Clock())


def test_the_schema_is_wal_with_full_sync_and_a_version(store: CallStore) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = {r[1] for r in db.execute("PRAGMA table_info(calls)")}
    assert {"uid", "start", "answer", "end", "duration", "billsec", "caller_number",
            "caller_name", "called_number", "called_name", "route", "trunk", "path",
            "disposition", "cause", "hangup_side", "recording", "queue_wait"} <= columns
    with store._transaction() as writer:
        assert writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_record_comes_back_with_its_legs_times_and_a_random_uid(store: CallStore) -> None:
    legs = (Leg("fxs1", "caller"), Leg("out1", "attempt", trunk="a", result="failed"),
            Leg("out2", "callee", trunk="b", result="answered"))
    (uid,) = store.add([row(T0, path=("menu:main", "group:sales"), legs=legs, trunk="b",
                            cause=16, cause_name="NORMAL_CLEARING", hangup_side="callee")])
    got = store.get(uid)
    assert got is not None
    assert (got["duration"], got["billsec"], got["disposition"]) == (30.0, 28.0, "answered")
    assert got["path"] == ["menu:main", "group:sales"]
    assert [(x["leg"], x["role"], x["trunk"]) for x in got["legs"]] == [
        ("fxs1", "caller", None), ("out1", "attempt", "a"), ("out2", "callee", "b")]
    (uid2,) = store.add([row(T0)])
    assert len(uid) == 16 and uid != uid2 and int(uid, 16) >= 0


def test_dispositions_map_from_the_exchange(store: CallStore) -> None:
    assert [disposition_of(s) for s in ("ANSWERED", "NO_ANSWER", "NO ANSWER", "BUSY",
                                        "ABANDONED", "FAILED", "CONGESTION", "DENIED")] == [
        "answered", "no answer", "no answer", "busy", "abandoned", "failed", "failed",
        "failed"]
    with pytest.raises(ValueError, match="unknown call outcome 'LOST'"):
        disposition_of("LOST")


def test_filters_sort_and_pages(store: CallStore) -> None:
    store.add([row(T0 - 7200, "ANSWERED"), row(T0 - 60, "NO_ANSWER"),
               row(T0 - 50, "BUSY", a="103", b="101"), row(T0 - 40, "ABANDONED", b="104"),
               row(T0 - 30, "CONGESTION", b=None), row(T0 - 20, "NO_ANSWER", a=None)])
    rows, total = store.query(CallQuery())
    assert total == 6 and [r["start"] for r in rows] == sorted(
        (r["start"] for r in rows), reverse=True)
    _, n = store.query(CallQuery(since=T0 - 3600))
    assert n == 5
    missed, n = store.query(CallQuery(disposition="missed"))
    assert n == 4 and {r["disposition"] for r in missed} == {"no answer", "busy", "abandoned"}
    # A group call nobody answered is missed too (by the group, not by one extension).
    store.add([row(T0 - 10, "NO_ANSWER", b=None, path=("group:sales",))])
    _, n = store.query(CallQuery(disposition="missed"))
    assert n == 5
    # Missed *to* 102: not the busy call 101 got, not 104's.
    rows, n = store.query(CallQuery(disposition="missed", extension="102"))
    assert n == 2 and all(r["callee_ext"] == "102" for r in rows)
    rows, n = store.query(CallQuery(extension="101"))
    assert n == 6  # as caller or callee
    page, total = store.query(CallQuery(limit=2, offset=2, sort="start", descending=False))
    assert total == 7 and [r["start"] for r in page] == [T0 - 50, T0 - 40]
    for bad, match in ((CallQuery(disposition="lost"), "disposition 'lost'"),
                       (CallQuery(sort="secret"), "sort 'secret'"),
                       (CallQuery(limit=-1), "limit -1")):
        with pytest.raises(ValueError, match=match):
            store.query(bad)


def test_mine_sees_only_calls_of_that_extension_and_get_hides_the_rest(
        store: CallStore) -> None:
    theirs, ours = store.add([row(T0, a="103", b="104"), row(T0, a="103", b="101")])
    rows, n = store.query(CallQuery(mine="101"))
    assert n == 1 and rows[0]["uid"] == ours
    assert store.get(theirs, mine="101") is None
    assert store.get(ours, mine="101") is not None
    assert store.get(theirs) is not None
    # Asking for another extension does not widen a user's view.
    _, n = store.query(CallQuery(mine="101", extension="104"))
    assert n == 0
    assert store.get("' OR 1=1 --", mine="101") is None


def test_retention_by_days_and_by_count(tmp_path: Path) -> None:
    clock = Clock()
    store = CallStore(tmp_path / "cdr.sqlite", keep_days=2, clock=clock)
    store.add([row(T0 - 3 * 86400), row(T0 - 86400), row(T0)])
    assert store.count() == 3  # pruned at most every minute
    clock.t += 61
    store.add([row(T0 + 60)])
    assert store.count() == 3
    store.close()
    store = CallStore(tmp_path / "cdr.sqlite", max_records=2, clock=clock)  # prunes at start
    assert store.count() == 2
    rows, _ = store.query(CallQuery())
    assert [r["start"] for r in rows] == [T0 + 60, T0]
    with pytest.raises(ValueError, match="keep_days and max_records"):
        CallStore(tmp_path / "x.sqlite", keep_days=-1)


def test_the_jsonl_import_keeps_times_and_runs_once(tmp_path: Path, store: CallStore,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    old = tmp_path / "cdr.jsonl"
    good = {"call_id": 3, "caller_leg": "fxs1", "caller_number": "101",
            "called_number": "0049301234", "callee_leg": "sip9", "start": 10.0,
            "answer": None, "end": 25.0, "disposition": "NO_ANSWER", "cause": 19,
            "reason": "no answer in 60 s", "trunk": "provider", "wall": T0}
    old.write_text(json.dumps(good) + "\n\n[1, 2]\n" + json.dumps({**good, "call_id": 4,
                                                                      "disposition": "X"}))
    assert store.import_jsonl(old) == 1
    assert "cdr.jsonl:3: not a call record" in caplog.text
    assert "cdr.jsonl:4: not a call record" in caplog.text
    assert not old.exists() and (tmp_path / "cdr.jsonl.migrated").exists()
    (r,), _ = store.query(CallQuery())
    assert (r["start"], r["end"], r["answer"]) == (T0 - 15, T0, None)
    assert (r["disposition"], r["trunk"], r["direction"], r["caller_ext"]) == (
        "no answer", "provider", "outbound", "101")
    # The same file again (a crash between the import and the rename) adds nothing.
    (tmp_path / "cdr.jsonl.migrated").rename(old)
    assert store.import_jsonl(old) == 0


def test_recordings_link_to_records(store: CallStore) -> None:
    (uid,) = store.add([row(T0)])
    assert store.set_recording(uid, "20261207T101010Z-c1-0123456789abcdef")
    assert store.get(uid)["recording"] == "20261207T101010Z-c1-0123456789abcdef"  # type: ignore[index]
    assert not store.set_recording("nope", "x")


def test_buckets_count_per_minute(store: CallStore) -> None:
    store.add([row(T0 - 30, "ANSWERED"), row(T0 - 20, "NO_ANSWER"),
               row(T0 - 90, "BUSY", b=None), row(T0 - 7200)])
    got = {(b["bucket"], b["disposition"]): (b["calls"], b["missed"])
           for b in store.buckets(T0 - 120, 60.0)}
    assert got == {(1, "answered"): (1, 0), (1, "no answer"): (1, 1), (0, "busy"): (1, 0)}


def test_since_reads_durations_days_and_dates() -> None:
    assert parse_since("1h", T0) == T0 - 3600
    assert parse_since("30m", T0) == T0 - 1800
    assert parse_since("7d", T0) == T0 - 7 * 86400
    assert parse_since("2026-12-07T10:00:00+00:00", T0) == 1796637600.0
    with pytest.raises(ValueError, match="since 'yesterday'"):
        parse_since("yesterday", T0)


def test_group_calls_belong_to_the_members_they_rang(store: CallStore) -> None:
    rang = (Leg("sip1", "caller"), Leg("fxs2", "attempt", number="102", result="not answered"),
            Leg("fxs3", "attempt", number="103", result="not answered"))
    nobody, taken = store.add([
        CallRow(start=T0, end=T0 + 30, status="NO_ANSWER", path=("group:sales",), legs=rang),
        CallRow(start=T0 + 60, end=T0 + 90, answer=T0 + 65, status="ANSWERED",
                callee_ext="103", path=("group:sales",),
                legs=(rang[0], rang[1], Leg("fxs3", "callee", number="103")))])
    mine, _ = store.query(CallQuery(mine="102"))
    assert {r["uid"] for r in mine} == {nobody, taken}  # both rang 102's phone
    assert store.get(nobody, mine="102") is not None and store.get(nobody, mine="104") is None
    missed, _ = store.query(CallQuery(disposition="missed", extension="102"))
    assert [r["uid"] for r in missed] == [nobody]  # 103 took the other one
    assert store.query(CallQuery(disposition="missed", extension="103"))[1] == 1
    assert store.query(CallQuery(extension="104"))[1] == 0


def test_a_name_that_is_not_utf8_is_stored_and_holds_nothing_back(store: CallStore) -> None:
    """A malformed SIP From name arrives with undecodable bytes (as surrogates); SQLite
    refuses such text, so the store replaces them and the records after it are kept."""
    bad = row(T0, caller_name="Bob\udcff\udcfe", legs=(Leg("sip1\udcff", "caller"),))
    uids = store.add([bad, row(T0 + 1)])
    got = store.get(uids[0])
    assert got is not None and got["caller_name"] == "Bob\ufffd\ufffd"
    assert store.get(uids[1]) is not None
