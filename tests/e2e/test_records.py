"""Call records through the daemon (issue 10, section 2): virtual handsets and a SIP peer
(sipp) make answered, busy, unanswered and abandoned calls; each leaves one record in
cdr.sqlite with its disposition, parties, hang-up side and times; ``minipbx calls``
filters them and prints them as a table, JSON and CSV; ``minipbx stats`` counts them.
An old cdr.jsonl in the state dir is imported once at start."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.faults_support import records
from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to

DID = "5551000"  # rings extension 101


def config() -> str:
    return box_config(trunks=[trunk_to("provider", 5060)],
                      inbound=[{"did": DID, "extension": "101"}]) + (
        "\n[dialplan]\nno_answer_s = 5.0\n")


def cli(box: Daemon, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "firmware.app.cli", "--state-dir",
                           str(box.state), *args], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def wait_records(box: Daemon, n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = box.wait_for(
        f"{n} call records", lambda: r if len(r := records(box)) >= n else None,
        timeout=20)
    return rows


def at_rest(box: Daemon) -> None:
    for port in (1, 2):
        box.phone(port, "onhook")
    box.wait_for("no call in progress", lambda: not box.call("status")["calls"], timeout=10)


@pytest.fixture
def box(daemon_factory: Callable[..., Daemon]) -> Daemon:
    return daemon_factory(config())


def test_answered_busy_missed_and_abandoned_calls_leave_their_records(
        box: Daemon, peers: Peers) -> None:
    # Answered: 101 calls 102, 102 answers, 101 hangs up.
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(2, "offhook")
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2")
    box.phone(1, "onhook")
    (answered,) = wait_records(box, 1)
    at_rest(box)

    # Busy: 102 is off hook when 101 calls it.
    box.phone(2, "offhook")
    box.phone(1, "offhook")
    box.dial(1, "102")
    busy = wait_records(box, 2)[-1]
    at_rest(box)

    # No answer: 102 rings for no_answer_s (5 s) and nobody lifts it.
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    missed = wait_records(box, 3)[-1]
    at_rest(box)

    # Abandoned: 101 gives up while 102 rings.
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(1, "onhook")
    abandoned = wait_records(box, 4)[-1]
    at_rest(box)

    # A SIP call in from sipp, answered on phone 1, ended by sipp's BYE.
    sipp = peers.sipp_uac(f"127.0.0.1:{box.sip_port}", DID, peers.scenario(
        "uac_call", From='"Carol" <sip:5557777@127.0.0.1>', headers="",
        answer_timeout_ms=30000, hold_ms=1000))
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    box.phone(1, "offhook")
    assert sipp.wait(20) == 0, sipp.describe()
    inbound = wait_records(box, 5)[-1]
    at_rest(box)

    assert answered["disposition"] == "answered" and answered["status"] == "ANSWERED"
    assert (answered["caller_ext"], answered["callee_ext"]) == ("101", "102")
    assert (answered["caller_name"], answered["called_name"]) == ("Reception", "Office")
    assert answered["hangup_side"] == "caller" and answered["direction"] == "internal"
    assert answered["start"] <= answered["answer"] <= answered["end"]
    assert answered["billsec"] > 0 and answered["duration"] >= answered["billsec"]

    assert (busy["disposition"], busy["callee_ext"], busy["answer"]) == ("busy", "102", None)
    assert busy["cause"] == 17 and busy["hangup_side"] == "box"
    assert (missed["disposition"], missed["callee_ext"]) == ("no answer", "102")
    assert missed["duration"] >= 5.0 and missed["billsec"] == 0
    assert (abandoned["disposition"], abandoned["hangup_side"]) == ("abandoned", "caller")

    assert inbound["direction"] == "inbound" and inbound["disposition"] == "answered"
    assert (inbound["caller_number"], inbound["caller_name"]) == ("5557777", "Carol")
    assert (inbound["callee_ext"], inbound["called_number"]) == ("101", DID)
    assert inbound["hangup_side"] == "caller" and inbound["route"] == f"number {DID}"

    uids = {r["uid"] for r in records(box)}
    assert len(uids) == 5 and all(len(u) == 16 for u in uids)

    # minipbx calls: the filters, newest first.
    table = cli(box, "calls")
    assert table.splitlines()[0].startswith("start") and len(table.splitlines()) == 6
    assert "5557777 (Carol)" in table and "no answer" in table
    mine = json.loads(cli(box, "calls", "--extension", "102", "--json"))
    assert [r["disposition"] for r in mine] == ["abandoned", "no answer", "busy", "answered"]
    missed_102 = json.loads(cli(box, "calls", "--extension", "102", "--disposition",
                                "missed", "--json"))
    assert [r["disposition"] for r in missed_102] == ["abandoned", "no answer", "busy"]
    assert json.loads(cli(box, "calls", "--extension", "101", "--disposition", "missed",
                          "--json")) == []
    rows = list(csv.DictReader(io.StringIO(cli(box, "calls", "--csv", "--since", "1h"))))
    assert len(rows) == 5 and rows[0]["caller_number"] == "5557777"
    assert rows[-1]["disposition"] == "answered" and rows[-1]["start"][:4].isdigit()
    assert cli(box, "calls", "--since", "2099-01-01").strip() == "No calls."

    # minipbx stats: the same calls, counted.
    stats = json.loads(cli(box, "stats", "--json"))
    w = stats["windows"]["60m"]
    assert (w["calls"], w["answered"], w["missed"]) == (5, 2, 3), stats
    assert stats["calls_in_progress"] == 0
    assert "Last 5m:" in cli(box, "stats")


def test_an_old_cdr_jsonl_is_imported_once(tmp_path: Path,
                                           daemon_factory: Callable[..., Daemon]) -> None:
    state = tmp_path / "box" / "state"
    state.mkdir(parents=True)
    line = {"call_id": 1, "caller_leg": "fxs1", "caller_number": "101",
            "called_number": "102", "callee_leg": "fxs2", "start": 100.0, "answer": 103.0,
            "end": 160.0, "disposition": "ANSWERED", "cause": 16,
            "reason": "callee hung up", "trunk": None, "wall": 1_700_000_060.0}
    (state / "cdr.jsonl").write_text(json.dumps(line) + "\n" + "{torn\n")
    box = daemon_factory(config())
    assert box.state == state
    (row,) = records(box)
    assert (row["start"], row["answer"], row["end"]) == (1_700_000_000.0, 1_700_000_003.0,
                                                         1_700_000_060.0)
    assert (row["caller_ext"], row["callee_ext"], row["disposition"]) == ("101", "102",
                                                                         "answered")
    assert not (state / "cdr.jsonl").exists()
    assert (state / "cdr.jsonl.migrated").exists()
    assert "not a call record, skipped" in box.log()


def test_a_recorded_call_links_its_recording(daemon_factory: Callable[..., Daemon]) -> None:
    text = config().replace('name = "Reception"\n', 'name = "Reception"\nrecord = "always"\n')
    box = daemon_factory(text)
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(2, "offhook")
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2")
    box.hear(1, 1.5)  # a little audio to record
    box.phone(1, "onhook")
    (row,) = wait_records(box, 1)
    assert row["recording"], row
    shown = box.wait_for("the recording encoded", lambda: (c := box.call(
        "calls.get", uid=row["uid"]))["recording"]["state"] == "ready" and c, timeout=30)
    assert shown["recording"]["seconds"] > 0
    found = box.call("calls.recording", uid=row["uid"])
    assert found["mime"] == "audio/ogg; codecs=opus"
    assert Path(found["file"]).read_bytes()[:4] == b"OggS"
    box.call("calls.recording.delete", uid=row["uid"])
    assert box.call("calls.get", uid=row["uid"])["recording"]["state"] == "deleted"


def test_a_group_call_records_its_path_and_the_load_counts_the_group(
        daemon_factory: Callable[..., Daemon]) -> None:
    phones = [{"port": n, "extension": f"10{n}", "name": f"Phone {n}"} for n in (1, 2, 3)]
    text = box_config(fxs=phones) + (
        '\n[[group]]\nname = "sales"\nnumber = "600"\nmembers = ["102", "103"]\n'
        'strategy = "ringall"\n')
    box = daemon_factory(text)
    box.phone(1, "offhook")
    box.dial(1, "600")
    box.wait_for("both members ring", lambda: box.port("fxs2")["ringing"]
                 and box.port("fxs3")["ringing"])
    stats = box.call("load")
    assert stats["channels"]["group"] == {"sales": 2}, stats
    box.phone(3, "offhook")
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs3")
    box.phone(3, "onhook")
    (row,) = wait_records(box, 1)
    box.phone(1, "onhook")
    assert "group:sales" in row["path"].split(">"), row
    assert (row["disposition"], row["callee_ext"], row["hangup_side"]) == (
        "answered", "103", "callee")
    got = box.call("calls.get", uid=row["uid"])
    roles = {leg["leg"]: leg["role"] for leg in got["legs"]}
    assert roles == {"fxs1": "caller", "fxs2": "attempt", "fxs3": "callee"}, got["legs"]
    assert "group:sales" in cli(box, "calls")


def test_records_survive_a_sigkill_of_the_daemon(tmp_path: Path) -> None:
    """Written records stay through SIGKILL at a random moment of a busy box (calls
    ending while it dies); the next start opens the database and adds to it."""
    import random
    import signal
    import time

    box = Daemon(tmp_path, config())
    try:
        box.wait_ready()
        for n in range(3):
            box.phone(1, "offhook")
            box.dial(1, "102")
            box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
            box.phone(1, "onhook")
            wait_records(box, n + 1)
        written = {r["uid"] for r in records(box)}
        box.phone(1, "offhook")
        box.dial(1, "102")
        box.phone(1, "onhook")  # its record is being written as the daemon dies
        time.sleep(random.uniform(0.0, 0.3))
        box.proc.send_signal(signal.SIGKILL)
        box.proc.wait(10)
    finally:
        if box.proc.poll() is None:
            box.proc.kill()
        box.stop()
    again = Daemon(tmp_path, config())
    try:
        again.wait_ready()
        kept = {r["uid"] for r in records(again)}  # integrity checked by records()
        assert written <= kept and len(kept) in (3, 4)
        again.phone(1, "offhook")
        again.dial(1, "102")
        again.wait_for("phone 2 to ring", lambda: again.port("fxs2")["ringing"])
        again.phone(1, "onhook")
        assert len(wait_records(again, len(kept) + 1)) == len(kept) + 1
    finally:
        assert again.stop() == 0, again.log()
