"""Soak: many calls through the real daemon in mixed patterns, as fast as it takes them,
then a check that nothing leaked (issue 12 section 4).

The box: the simulated board with 8 handsets (extensions 1..8: one digit, so dialing
is short) and one PSTN line (FXO, answered by 8), a trunk "far" to a sipp that answers
and echoes RTP ("9" + number goes out there), and an inbound route from the trunk's
number to 6. Four workers, each owning two handsets, place calls one after another in a fixed mix:

- internal: answered, busy (the callee is off-hook), abandoned (the caller hangs up while
  it rings), no answer (rings until [dialplan] no_answer_s, 5 s, so one in 40);
- SIP out through the trunk (worker 1 only: the pjsua2 wheel allows 4 calls at once);
- SIP in from a sipp client (worker 3), FXO in from the virtual PSTN line (worker 4).

After the run: every line idle, no call, SIP call, bridge link or SIP media port left
(``status.counts``), one record in cdr.sqlite per call placed, resident memory after
warm-up (the first tenth of the calls) against the end, and open file descriptors
(/proc/PID/fd) likewise. Figures are printed (and returned to the slow test, which
asserts the leak checks, never the rate).

    .venv/bin/python tools/bench_soak.py [--calls N] [--json FILE]

The full soak is 2,000 calls (``make bench-soak``); the test runs fewer (tests/e2e/
test_soak.py) to keep within its time on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.procstat import cpu_seconds, rss_mb  # noqa: E402

from tests.e2e.harness import Daemon, die_with_parent, free_port  # noqa: E402
from tests.e2e.peers import box_config, scenario, trunk_to  # noqa: E402

FULL_CALLS = 2000
DID = "5551000"
NO_ANSWER_S = 5.0
PHONES = 8
# An on-hook is taken as a hang-up once it outlasts the longest hook flash (900 ms by
# default); the soak's handsets never flash, so their ports wait 200 ms.
FLASH_MAX_MS = 200
# One in this many calls of an internal worker is left to ring out (it holds two phones
# for no_answer_s, so it is kept rare).
NO_ANSWER_EVERY = 40

Pattern = Callable[["Worker"], None]


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def config(trunk_port: int) -> str:
    fxs = [{"port": i, "extension": str(i), "flash_max_ms": FLASH_MAX_MS}
           for i in range(1, PHONES + 1)]
    text = box_config(trunks=[trunk_to("far", trunk_port)],
                      outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
                      inbound=[{"did": DID, "extension": "6"}], fxs=fxs)
    text = text.replace("[web]\nport = 0\n", "[web]\nenabled = false\n")
    return text + (f'\n[dialplan]\nno_answer_s = {NO_ANSWER_S}\n'
                   '\n[[fxo]]\nport = 1\nextension = "8"\n')


class Worker:
    """Two handsets of the box and the calls between them (one at a time)."""

    def __init__(self, box: Daemon, a: int, b: int, patterns: list[Pattern],
                 work: Path) -> None:
        self.box, self.a, self.b = box, a, b
        self.patterns = patterns
        self.work = work
        self.done: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.sip_port = box.sip_port

    # --- what a person does ---------------------------------------------------------------
    def port(self, n: int) -> dict[str, Any]:
        return self.box.port(f"fxs{n}")

    def until(self, what: str, pred: Callable[[], object], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {self.a}/{self.b}: timed out waiting for {what}")
            time.sleep(0.03)

    def idle(self, *phones: int) -> None:
        for n in phones:
            self.until(f"phone {n} idle", lambda n=n: self.port(n)["line_state"] == "idle"
                       and self.port(n)["exchange_state"] == "idle")

    def hook(self, n: int, action: str) -> None:
        self.box.phone(n, action)

    def ring_b(self) -> None:
        self.hook(self.a, "offhook")
        self.box.dial(self.a, str(self.b))
        self.until("the callee to ring", lambda: self.port(self.b)["ringing"])

    # --- the patterns ---------------------------------------------------------------------
    def answered(self) -> None:
        self.ring_b()
        self.hook(self.b, "offhook")
        self.until("the call", lambda: self.port(self.a)["with"] == f"fxs{self.b}")
        self.hook(self.a, "onhook")
        self.hook(self.b, "onhook")

    def busy(self) -> None:
        self.hook(self.b, "offhook")
        self.hook(self.a, "offhook")
        self.box.dial(self.a, str(self.b))
        self.until("busy tone", lambda: self.port(self.a)["playing"] == "tone:busy")
        self.hook(self.a, "onhook")
        self.hook(self.b, "onhook")

    def abandoned(self) -> None:
        self.ring_b()
        self.hook(self.a, "onhook")

    def no_answer(self) -> None:
        self.ring_b()
        self.until("the ringing to give up",
                   lambda: self.port(self.a)["playing"] == "tone:congestion",
                   timeout=NO_ANSWER_S + 20)
        self.hook(self.a, "onhook")

    def sip_out(self) -> None:
        self.hook(self.a, "offhook")
        self.box.dial(self.a, "95551234#")
        self.until("the trunk call", lambda: self.port(self.a)["exchange_state"] == "connected")
        self.hook(self.a, "onhook")

    def sip_in(self) -> None:
        sc = scenario(self.work, "uac_call", From=f'"Soak" <sip:555{self.b}@127.0.0.1>',
                      headers="", answer_timeout_ms=20000, hold_ms=100)
        sipp = subprocess.Popen(
            ["sipp", "-sf", str(sc), f"127.0.0.1:{self.sip_port}", "-s", DID, "-i",
             "127.0.0.1", "-p", str(free_port()), "-m", "1", "-nostdin", "-timeout", "30s"],
            cwd=self.work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        try:
            self.until("phone 6 to ring", lambda: self.port(6)["ringing"])
            self.hook(6, "offhook")
            code = sipp.wait(30)  # sipp hangs up after 100 ms of talk
            if code != 0:
                raise AssertionError(f"sipp's inbound call failed (exit {code})")
        finally:
            if sipp.poll() is None:
                sipp.kill()
                sipp.wait()
        self.hook(6, "onhook")
        sc.unlink()

    def fxo_in(self) -> None:
        self.box.call("sim.line.ring", port=1, cid_number="5557777")
        self.until("phone 8 to ring", lambda: self.port(8)["ringing"])
        self.hook(8, "offhook")
        self.until("the PSTN call", lambda: self.port(8)["with"] == "fxo1")
        self.box.call("sim.line.hangup", port=1)
        self.until("the line released",
                   lambda: self.box.port("fxo1")["line_state"] == "idle")
        self.hook(8, "onhook")

    # --- the run --------------------------------------------------------------------------
    def run(self, take: Callable[[], bool]) -> None:
        try:
            for pattern in itertools.cycle(self.patterns):
                if not take():
                    return
                pattern(self)
                self.idle(self.a, self.b)
                if pattern is Worker.fxo_in:
                    self.until("the PSTN line idle",
                               lambda: self.box.port("fxo1")["line_state"] == "idle")
                self.done[pattern.__name__] += 1
        except BaseException as exc:  # reported by the main thread
            self.error = exc


def mix(sip_out: bool = False, sip_in: bool = False, fxo_in: bool = False) -> list[Pattern]:
    base: list[Pattern] = [Worker.answered, Worker.busy, Worker.answered, Worker.abandoned]
    extra: list[Pattern] = []
    if sip_out:
        extra.append(Worker.sip_out)
    if sip_in:
        extra.append(Worker.sip_in)
    if fxo_in:
        extra.append(Worker.fxo_in)
    patterns = (base + extra) * (NO_ANSWER_EVERY // len(base + extra))
    patterns.append(Worker.no_answer)
    return patterns


def soak(calls: int, work: Path, say: Callable[[str], None] = print) -> dict[str, Any]:
    uas = subprocess.Popen(
        ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(trunk_port := free_port()),
         "-mi", "127.0.0.1", "-mp", str(free_port()), "-rtp_echo", "-nostdin"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent)
    box = Daemon(work, config(trunk_port), env={"MINIPBX_SIM_RECORD_S": "2"})
    try:
        box.wait_ready()
        return _run(box, calls, work, say)
    finally:
        box.stop()
        uas.kill()
        uas.wait()


def _run(box: Daemon, calls: int, work: Path, say: Callable[[str], None]) -> dict[str, Any]:
    pid = box.proc.pid
    lock = threading.Lock()
    placed = 0
    warm_at = max(calls // 10, 8)
    warm: dict[str, float] = {}

    def take() -> bool:
        nonlocal placed
        with lock:
            if placed >= calls:
                return False
            placed += 1
            if placed == warm_at:
                warm.update(rss_mb=rss_mb(pid), fds=fds(pid), t=time.monotonic(),
                            placed=placed)
            return True

    # Each worker's own two phones; SIP in rings 6 and the PSTN line 8, each the
    # callee of the worker that places those calls.
    workers = [Worker(box, 1, 2, mix(sip_out=True), work),
               Worker(box, 3, 4, mix(), work),
               Worker(box, 5, 6, mix(sip_in=True), work),
               Worker(box, 7, 8, mix(fxo_in=True), work)]
    rss0, fds0 = rss_mb(pid), fds(pid)
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    threads = [threading.Thread(target=w.run, args=(take,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - t0
    cpu_share = (cpu_seconds(pid) - cpu0) / seconds
    errors = [w.error for w in workers if w.error is not None]
    if errors:
        raise AssertionError(f"soak stopped: {errors[0]}\n{box.log()[-4000:]}") from errors[0]
    done: Counter[str] = Counter()
    for w in workers:
        done.update(w.done)
    time.sleep(1.0)  # the last records and tone timers settle
    status = box.call("status")
    db = sqlite3.connect(f"file:{box.state / 'cdr.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    records = [{"disposition": r["status"]} for r in db.execute("SELECT status FROM calls")]
    db.close()
    made = sum(done.values())
    after_warm = time.monotonic() - warm.get("t", t0)
    result = {
        "calls": made, "patterns": dict(sorted(done.items())), "seconds": round(seconds, 1),
        "calls_per_s": round(made / seconds, 2),
        "calls_per_s_after_warmup": round((made - warm.get("placed", 0)) / after_warm, 2)
        if after_warm > 0 else None,
        "daemon_cpu_share": round(cpu_share, 3),
        "records": len(records),
        "records_by_disposition": dict(Counter(r["disposition"] for r in records)),
        "rss_mb": {"start": round(rss0, 1), "warm": round(warm.get("rss_mb", rss0), 1),
                   "end": round(rss_mb(pid), 1)},
        "fds": {"start": fds0, "warm": warm.get("fds", fds0), "end": fds(pid)},
        "counts": status["counts"], "status": status,
    }
    say(f"soak: {made} calls in {result['seconds']} s = {result['calls_per_s']} calls/s "
        f"({result['calls_per_s_after_warmup']} after warm-up); {result['patterns']}")
    say(f"  the daemon used {cpu_share:.0%} of one core meanwhile")
    say(f"  records {len(records)} {result['records_by_disposition']}")
    say(f"  RSS MiB {result['rss_mb']}; fds {result['fds']}; counts {status['counts']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=FULL_CALLS,
                        help=f"calls to place (default {FULL_CALLS})")
    parser.add_argument("--quick", action="store_true", help="200 calls (a smoke run)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    calls = 200 if args.quick else args.calls
    with TemporaryDirectory(prefix="soak-") as tmp:
        result = soak(calls, Path(tmp))
    result.pop("status")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
