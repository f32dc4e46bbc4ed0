"""The records database survives SIGKILL at any moment: a child process writes batches as
fast as it can and prints each batch's uids once ``add`` returned; it is killed at a
random instant, again and again on the same file. After every kill the database opens,
passes SQLite's integrity check, and holds every record whose commit returned."""

from __future__ import annotations

import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from firmware.records.store import CallStore

WRITER = r"""
import random, sys
from pathlib import Path
from firmware.records.model import CallRow, Leg
from firmware.records.store import CallStore

store = CallStore(Path(sys.argv[1]), max_records=int(sys.argv[2]))
print("ready", flush=True)
n = 0
while True:
    batch = []
    for _ in range(random.randint(1, 5)):
        n += 1
        batch.append(CallRow(
            start=1e9 + n, end=1e9 + n + 5, status="ANSWERED", answer=1e9 + n,
            caller_ext="101", callee_ext="102", reason="x" * random.randint(0, 3000),
            legs=(Leg("fxs1", "caller"), Leg("fxs2", "callee"))))
    uids = store.add(batch)
    print(" ".join(uids), flush=True)
"""

ROUNDS = 12


def test_nothing_committed_is_lost_to_sigkill(tmp_path: Path) -> None:
    db_path = tmp_path / "cdr.sqlite"
    rng = random.Random(10)
    committed: set[str] = set()
    for round_ in range(ROUNDS):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), "0"],
                                 stdout=subprocess.PIPE, text=True, bufsize=1)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        kill_at = time.monotonic() + rng.uniform(0.0, 0.6)
        printed: list[str] = []
        while time.monotonic() < kill_at:
            ready, _, _ = select.select([child.stdout], [], [], 0.01)
            if ready:
                printed.append(child.stdout.readline())
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()  # what it printed before dying: committed too
        child.wait()
        assert child.returncode == -signal.SIGKILL
        committed |= {u for ln in [*printed, *rest.splitlines()] for u in ln.split()}
        db = sqlite3.connect(db_path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        store = CallStore(db_path)  # the daemon's next start
        with store._read() as r:
            present = {row[0] for row in r.execute("SELECT uid FROM calls")}
            # A batch is whole or absent: no record without its two legs, no stray leg.
            orphans = r.execute("SELECT count(*) FROM legs WHERE call NOT IN "
                                "(SELECT id FROM calls)").fetchone()[0]
            half = r.execute("SELECT count(*) FROM calls c WHERE (SELECT count(*) FROM legs "
                             "WHERE call = c.id) != 2").fetchone()[0]
        store.close()
        assert committed <= present, f"round {round_}: lost {committed - present}"
        assert orphans == 0 and half == 0
    assert len(committed) > ROUNDS
