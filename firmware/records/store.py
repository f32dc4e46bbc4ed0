"""The call records database: ``cdr.sqlite`` in the state dir.

Rules:
- SQLite in WAL mode with ``synchronous=FULL``: when :meth:`CallStore.add` returns, its
  records are in the WAL on disk; a SIGKILL or a power cut at any later moment keeps them,
  and one at any earlier moment leaves the database as it was before the batch (a batch is
  one transaction). The daemon is the one writer; readers (commands, the web page) open
  their own connections, which WAL lets run beside the writer.
- Every record gets ``uid``: 16 random hex digits, unique across restarts (the exchange's
  ``call_id`` starts again at 1 in every run) and not guessable, so an id in a URL tells
  nothing about other calls. Records imported from ``cdr.jsonl`` get a uid made from
  their line, so importing the same file twice adds nothing.
- Retention: records that ended more than ``keep_days`` ago go, and beyond
  ``max_records`` the oldest go (0 = no limit), checked after writes at most every
  PRUNE_EVERY_S and at start.
- Bad input (an unknown disposition or sort key, a negative limit) raises ValueError
  naming the argument.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.records.model import DISPOSITIONS, MISSED, CallRow, Leg, disposition_of

log = logging.getLogger(__name__)

FILE_NAME = "cdr.sqlite"
SCHEMA_VERSION = 1
PRUNE_EVERY_S = 60.0
MAX_LIMIT = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    call_id INTEGER,
    start REAL NOT NULL,
    answer REAL,
    end REAL NOT NULL,
    duration REAL NOT NULL,
    billsec REAL NOT NULL,
    caller_leg TEXT, caller_number TEXT, caller_name TEXT, caller_ext TEXT,
    called_number TEXT, called_name TEXT, callee_leg TEXT, callee_ext TEXT,
    direction TEXT NOT NULL,
    route TEXT, trunk TEXT,
    path TEXT NOT NULL DEFAULT '',
    queue_wait REAL,
    disposition TEXT NOT NULL,
    status TEXT NOT NULL,
    cause INTEGER, cause_name TEXT, reason TEXT,
    hangup_side TEXT,
    recording TEXT
);
CREATE INDEX IF NOT EXISTS calls_start ON calls(start);
CREATE INDEX IF NOT EXISTS calls_end ON calls(end);
CREATE INDEX IF NOT EXISTS calls_caller_ext ON calls(caller_ext, start);
CREATE INDEX IF NOT EXISTS calls_callee_ext ON calls(callee_ext, start);
CREATE INDEX IF NOT EXISTS calls_disposition ON calls(disposition, start);
CREATE INDEX IF NOT EXISTS calls_billsec ON calls(billsec);
CREATE INDEX IF NOT EXISTS calls_duration ON calls(duration);
CREATE TABLE IF NOT EXISTS legs (
    call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    leg TEXT NOT NULL,
    role TEXT NOT NULL,
    number TEXT, trunk TEXT, result TEXT,
    PRIMARY KEY (call, seq)
);
CREATE INDEX IF NOT EXISTS legs_number ON legs(number, role);
"""

COLUMNS = ("uid", "call_id", "start", "answer", "end", "duration", "billsec", "caller_leg",
           "caller_number", "caller_name", "caller_ext", "called_number", "called_name",
           "callee_leg", "callee_ext", "direction", "route", "trunk", "path", "queue_wait",
           "disposition", "status", "cause", "cause_name", "reason", "hangup_side",
           "recording")

# A call to someone: an extension rang (or was busy), or a hunt group took it.
TO_SOMEONE = "(callee_ext IS NOT NULL OR path LIKE '%group:%')"

# An extension took part: it called, was called, or rang in a group (an attempt leg).
RANG = "id IN (SELECT call FROM legs WHERE number = ? AND role = 'attempt')"
INVOLVES = f"(caller_ext = ? OR callee_ext = ? OR {RANG})"
# An extension missed it: it was the callee, or it rang in a group and nobody answered.
MISSED_BY = ("(callee_ext = ? OR id IN (SELECT l.call FROM legs l JOIN calls c ON c.id = "
             "l.call WHERE l.number = ? AND l.role = 'attempt' AND c.callee_ext IS NULL))")

SORTS = {"start": "start", "end": "end", "duration": "duration", "billsec": "billsec",
         "caller": "caller_number", "called": "called_number",
         "disposition": "disposition", "trunk": "trunk"}


@dataclass(frozen=True)
class CallQuery:
    """A filter over the records. ``mine`` restricts to calls an extension made or was
    called in (a ``user``'s view); ``extension`` is the same rule as a filter."""

    since: float | None = None  # wall time: calls that started at or after
    until: float | None = None
    extension: str | None = None
    disposition: str | None = None  # one of DISPOSITIONS, or "missed"
    mine: str | None = None
    sort: str = "start"
    descending: bool = True
    limit: int = 50
    offset: int = 0

    def check(self) -> None:
        if self.disposition is not None and self.disposition not in (*DISPOSITIONS,
                                                                     "missed"):
            raise ValueError(f"disposition {self.disposition!r}: use one of "
                             f"{', '.join(DISPOSITIONS)} or missed")
        if self.sort not in SORTS:
            raise ValueError(f"sort {self.sort!r}: use one of {', '.join(SORTS)}")
        if not 0 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit {self.limit}: from 0 to {MAX_LIMIT}")
        if self.offset < 0:
            raise ValueError(f"offset {self.offset}: 0 or more")


def new_uid() -> str:
    return secrets.token_hex(8)


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the store's settings; a reader's refuses to write."""
    db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    if readonly:
        db.execute("PRAGMA query_only=ON")
    db.row_factory = sqlite3.Row
    return db


class CallStore:
    """The records database. The writer (the daemon) creates and upgrades the schema.
    Every write and every query opens its own connection and closes it: no file of the
    state dir stays open between them (a remount read-only, a backup, a file system check
    find it closed), and any thread may use the store."""

    def __init__(self, path: Path, *, keep_days: float = 0, max_records: int = 0,
                 clock: Callable[[], float] = time.time) -> None:
        if keep_days < 0 or max_records < 0:
            raise ValueError("records: keep_days and max_records are 0 (no limit) or more")
        self.path = path
        self.keep_days = keep_days
        self.max_records = max_records
        self._clock = clock
        db = connect(path)
        try:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        finally:
            db.close()
        self._pruned_at = float("-inf")
        self.prune()

    def close(self) -> None:
        """Nothing stays open between calls; kept for the callers' symmetry."""

    # --- writing --------------------------------------------------------------------------
    def add(self, rows: Iterable[CallRow]) -> list[str]:
        """Writes ``rows`` as one transaction; returns their uids once it is on disk."""
        uids: list[str] = []
        with self._transaction() as db:
            for row in rows:
                uids.append(self._insert(db, row))
        if self._clock() - self._pruned_at >= PRUNE_EVERY_S:
            self.prune()
        return uids

    def _insert(self, db: sqlite3.Connection, row: CallRow) -> str:
        uid = row.uid or new_uid()
        values = (uid, row.call_id, row.start, row.answer, row.end, row.duration, row.billsec,
                  row.caller_leg, row.caller_number, row.caller_name, row.caller_ext,
                  row.called_number, row.called_name, row.callee_leg, row.callee_ext,
                  row.direction, row.route, row.trunk, ">".join(row.path), row.queue_wait,
                  row.disposition, row.status.upper().replace(" ", "_"), row.cause,
                  row.cause_name, row.reason, row.hangup_side, row.recording)
        cur = db.execute(f"INSERT OR IGNORE INTO calls ({', '.join(COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(COLUMNS))})", _text_safe(values))
        if cur.rowcount and cur.lastrowid is not None:
            db.executemany(
                "INSERT INTO legs (call, seq, leg, role, number, trunk, result) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [_text_safe((cur.lastrowid, n, leg.leg, leg.role, leg.number, leg.trunk,
                             leg.result)) for n, leg in enumerate(row.legs)])
        return uid

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = connect(self.path)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def set_recording(self, uid: str, recording: str | None) -> bool:
        """Links (or unlinks, None) a recording to record ``uid``; False if no such record."""
        with self._transaction() as db:
            cur = db.execute("UPDATE calls SET recording = ? WHERE uid = ?", (recording, uid))
        return cur.rowcount > 0

    def prune(self) -> int:
        """Applies the retention rules; the number of records removed."""
        self._pruned_at = self._clock()
        removed = 0
        with self._transaction() as db:
            if self.keep_days:
                cutoff = self._clock() - self.keep_days * 86400.0
                removed += db.execute("DELETE FROM calls WHERE end < ?", (cutoff,)).rowcount
            if self.max_records:
                row = db.execute("SELECT id FROM calls ORDER BY id DESC LIMIT 1 OFFSET ?",
                                 (self.max_records,)).fetchone()
                if row is not None:
                    removed += db.execute("DELETE FROM calls WHERE id <= ?",
                                          (row[0],)).rowcount
        if removed:
            log.info("%s: %d call records past retention removed", self.path, removed)
        return removed

    def import_jsonl(self, source: Path) -> int:
        """Imports the old ``cdr.jsonl`` (firmware/app/cdrlog.py's format) and renames it
        ``<name>.migrated``; the number of records added. A line that does not parse is
        logged with its number and skipped."""
        rows: list[CallRow] = []
        with source.open("r", encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(_from_jsonl(line))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("%s:%d: not a call record, skipped: %s", source, number, exc)
        before = self.count()
        self.add(rows)
        added = self.count() - before
        source.rename(source.with_name(source.name + ".migrated"))
        log.info("%s: %d call records imported into %s", source, added, self.path)
        return added

    # --- reading --------------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            db = connect(self.path, readonly=True)
            db.execute("SELECT 1 FROM calls LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            # A full or read-only disk: no room for the WAL's shared-memory file. With no
            # writer able to write either, the main file is the whole truth: read it as is.
            db = sqlite3.connect(f"file:{self.path}?immutable=1", uri=True)
            db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    def count(self) -> int:
        with self._read() as db:
            return int(db.execute("SELECT count(*) FROM calls").fetchone()[0])

    def query(self, q: CallQuery) -> tuple[list[dict[str, Any]], int]:
        """The page of records ``q`` asks for, and how many match in all."""
        q.check()
        where, params = _where(q)
        order = SORTS[q.sort]
        direction = "DESC" if q.descending else "ASC"
        with self._read() as db:
            total = int(db.execute(f"SELECT count(*) FROM calls {where}", params).fetchone()[0])
            # The page's ids first (read from the indexes, no whole row), then those rows:
            # a user's own calls, page 1, of 100,000 takes 6 ms instead of 42.
            sort = f"ORDER BY {order} {direction}, id {direction}"
            rows = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM calls WHERE id IN (SELECT id FROM calls "
                f"{where} {sort} LIMIT ? OFFSET ?) {sort}",
                (*params, q.limit, q.offset)).fetchall()
        return [_out(r) for r in rows], total

    def get(self, uid: str, mine: str | None = None) -> dict[str, Any] | None:
        """Record ``uid`` with its legs; None when there is none, or (with ``mine``) when
        that extension was in no part of it."""
        if not isinstance(uid, str) or len(uid) > 64:
            return None
        where, params = _where(CallQuery(mine=mine))
        clause = f"{where} AND uid = ?" if where else "WHERE uid = ?"
        with self._read() as db:
            row = db.execute(f"SELECT id, {', '.join(COLUMNS)} FROM calls {clause}",
                             (*params, uid)).fetchone()
            if row is None:
                return None
            legs = db.execute("SELECT leg, role, number, trunk, result FROM legs "
                              "WHERE call = ? ORDER BY seq", (row["id"],)).fetchall()
        out = _out(row)
        out["legs"] = [dict(leg) for leg in legs]
        return out

    def buckets(self, since: float, width_s: float) -> list[dict[str, Any]]:
        """Calls that started since ``since``, counted per ``width_s`` bucket and
        disposition: [{"bucket": n, "disposition", "calls", "missed", "wait"}]."""
        with self._read() as db:
            rows = db.execute(
                "SELECT CAST((start - ?) / ? AS INTEGER) AS bucket, disposition, "
                "count(*) AS calls, "
                f"sum(CASE WHEN {TO_SOMEONE} AND disposition IN (?, ?, ?) "
                "THEN 1 ELSE 0 END) AS missed, "
                "sum(queue_wait) AS wait_sum, count(queue_wait) AS wait_n "
                "FROM calls WHERE start >= ? GROUP BY bucket, disposition",
                (since, width_s, *MISSED, since)).fetchall()
        return [dict(r) for r in rows]


def _where(q: CallQuery) -> tuple[str, tuple[Any, ...]]:
    parts: list[str] = []
    params: list[Any] = []
    if q.mine is not None:
        parts.append(INVOLVES)
        params += [q.mine] * 3
    if q.since is not None:
        parts.append("start >= ?")
        params.append(q.since)
    if q.until is not None:
        parts.append("start < ?")
        params.append(q.until)
    if q.disposition == "missed":
        # With an extension, its few calls are the way in, not the dispositions' index
        # (a third of the table): "+" keeps SQLite from choosing that index.
        plus = "+" if q.extension is not None else ""
        parts.append(f"{plus}disposition IN ({', '.join('?' * len(MISSED))})")
        params += list(MISSED)
        if q.extension is not None:
            parts.append(MISSED_BY)
            params += [q.extension] * 2
        else:
            parts.append(TO_SOMEONE)
    else:
        if q.disposition is not None:
            parts.append("disposition = ?")
            params.append(q.disposition)
        if q.extension is not None:
            parts.append(INVOLVES)
            params += [q.extension] * 3
    return ("WHERE " + " AND ".join(parts) if parts else ""), tuple(params)


def _out(row: sqlite3.Row) -> dict[str, Any]:
    out = {key: row[key] for key in COLUMNS}
    out["path"] = [p for p in str(out["path"] or "").split(">") if p]
    return out


def _from_jsonl(line: str) -> CallRow:
    """One line of the old cdr.jsonl. Its times are the exchange's monotonic ones; ``wall``
    (written at the end of the call) turns them into wall-clock times."""
    d = json.loads(line)
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    end = float(d["end"])
    offset = float(d.get("wall", end)) - end

    def wall(t: object) -> float | None:
        return None if t is None else float(t) + offset  # type: ignore[arg-type]

    status = str(d["disposition"])
    disposition_of(status)  # refuses an unknown one
    cause = d.get("cause")
    caller_leg = d.get("caller_leg")
    callee_leg = d.get("callee_leg")
    legs = tuple(Leg(leg, role) for leg, role in ((caller_leg, "caller"),
                                                    (callee_leg, "callee")) if leg)
    start = wall(d["start"])
    assert start is not None
    # An extension's handset is on an FXS port: its number there is the extension's.
    caller_number, called_number = d.get("caller_number"), d.get("called_number")
    caller_ext = caller_number if str(caller_leg or "").startswith("fxs") else None
    callee_ext = called_number if str(callee_leg or "").startswith("fxs") else None
    return CallRow(
        uid="j" + hashlib.sha256(line.strip().encode()).hexdigest()[:15],
        call_id=d.get("call_id"), start=start, answer=wall(d.get("answer")),
        end=end + offset, status=status, caller_leg=caller_leg,
        caller_number=caller_number, called_number=called_number, caller_ext=caller_ext,
        callee_ext=callee_ext, callee_leg=callee_leg, trunk=d.get("trunk"),
        direction="outbound" if d.get("trunk") else "internal",
        cause=int(cause) if cause is not None else None, reason=d.get("reason"), legs=legs)


def _text_safe(values: tuple[object, ...]) -> tuple[object, ...]:
    """``values`` with every text storable: a caller's name from a malformed SIP message
    may carry bytes that are not UTF-8 (kept as surrogates), which SQLite refuses; they
    become U+FFFD, so one bad name can never hold back the records behind it."""
    return tuple(v.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                 if isinstance(v, str) else v for v in values)
