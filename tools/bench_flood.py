"""Benchmark of the SIP screen and guard under a flood (issue 12 §2): the real daemon on the
simulated board with two SIP calls up (through the trunk to sipp, echoing) and two
internal calls, each carrying a steady tone, while

1. sipp sends INVITEs at ``--rate`` a second from a stranger's address (127.0.0.66) for
   two thirds of ``--seconds``, with a scanner-like script sending 10,000 datagrams
   (random bytes, start lines without headers, SIPVicious-style OPTIONS, REGISTER
   guesses), and a legitimate call from the trunk's address placed and answered
   meanwhile;
2. sipp sends INVITEs at ``--rate`` a second from the trunk's own address for the last
   third (never banned: cut to its rate with 503).

Printed, never asserted: the rate sipp reached, what the screen and the guard counted,
the daemon's CPU before and during (share of one core, and per INVITE sent), its resident
memory before, between the phases and after, the longest gap each handset heard, and
whether the legitimate call got through.

    .venv/bin/python tools/bench_flood.py [--quick] [--seconds 30] [--rate 2000]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.flood import (  # noqa: E402
    DID,
    LISTENER,
    NOWHERE,
    STRANGER,
    TONES,
    Scanner,
    bring_up_four_calls,
    cpu_seconds,
    four_calls_config,
    longest_gap_ms,
    rss_mb,
    sipp_flood,
    udp_drops,
)
from tests.e2e.harness import Daemon, sine  # noqa: E402
from tests.e2e.peers import Peers  # noqa: E402

LISTENERS = tuple(LISTENER.values())
PIECE_S = 3.0


def start_box(work: Path, peers: Peers) -> Daemon:
    _uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0), calls=2)
    box = Daemon(work / "box", four_calls_config(port))
    box.wait_ready()
    bring_up_four_calls(box)
    return box


def legit_call(box: Daemon, peers: Peers, port: int) -> str:
    sipp = peers.sipp_uac(f"127.0.0.1:{port}", DID, peers.scenario(
        "uac_call", From='"Dora" <sip:5558888@127.0.0.1>', headers="",
        answer_timeout_ms=15000, hold_ms=500))
    try:
        box.wait_for("phone 7 to ring", lambda: box.port("fxs7")["ringing"], timeout=10)
    except AssertionError:
        return "did not ring"
    box.phone(7, "offhook")
    code = sipp.wait(15)
    box.phone(7, "onhook")
    return "answered and ended" if code == 0 else f"sipp exit {code}"


def run(seconds: float, rate: int, work: Path) -> None:
    peers = Peers(work)
    box = start_box(work, peers)
    try:
        pid, port = box.proc.pid, box.sip_port
        stranger_s, trunk_s = seconds * 2 / 3, seconds / 3
        for speaker, hz in TONES.items():
            box.speak(speaker, sine(hz, seconds + 8 * PIECE_S))
        time.sleep(1.0)
        heard: dict[int, list[np.ndarray]] = {n: [] for n in LISTENERS}
        recording = threading.Event()
        recording.set()

        def record(n: int) -> None:
            while recording.is_set():
                heard[n].append(box.hear(n, PIECE_S))

        recorders = [threading.Thread(target=record, args=(n,)) for n in LISTENERS]
        for r in recorders:
            r.start()
        time.sleep(PIECE_S if seconds < 10 else 2 * PIECE_S)  # memory settles
        rss0, cpu0, t0 = rss_mb(pid), cpu_seconds(pid), time.monotonic()
        time.sleep(3.0)
        idle = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)

        before, drops0 = box.call("status")["sip"], udp_drops(port)
        scanner = Scanner(port, count=10_000, rate=10_000 / stranger_s)
        scanning = threading.Thread(target=scanner.run)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        attacker = sipp_flood(port, STRANGER, rate, stranger_s, DID, work)
        scanning.start()
        time.sleep(min(3.0, stranger_s / 3))
        legit = legit_call(box, peers, port)
        attacker.wait(stranger_s + 15)
        s1 = time.monotonic() - t1
        scanning.join()
        mid, rss_mid, drops1 = box.call("status")["sip"], rss_mb(pid), udp_drops(port)
        cpu_mid = cpu_seconds(pid)

        t2 = time.monotonic()
        attacker = sipp_flood(port, "127.0.0.1", rate, trunk_s, NOWHERE, work)
        attacker.wait(trunk_s + 15)
        s2 = time.monotonic() - t2
        cpu_end, flood_s = cpu_seconds(pid), time.monotonic() - t1
        time.sleep(2.0)
        rss1 = rss_mb(pid)
        recording.clear()
        for r in recorders:
            r.join()
        after, drops2 = box.call("status")["sip"], udp_drops(port)
        alive = box.proc.poll() is None

        n1, n2 = int(rate * stranger_s), int(rate * trunk_s)
        extra1 = (cpu_mid - cpu1) - idle * s1
        extra2 = (cpu_end - cpu_mid) - idle * (flood_s - s1)
        gaps = {n: max(longest_gap_ms(p, skip_s=0.02) for p in pieces)
                for n, pieces in heard.items()}
        covered = min(sum(len(p) for p in pieces) for pieces in heard.values()) / 8000
        print(f"flood of {seconds:.0f} s at {rate} INVITEs/s asked; two trunk calls and two "
              "internal calls up", flush=True)
        print(f"  phase 1, stranger {STRANGER}: {n1} INVITEs in {s1:.1f} s ({n1 / s1:.0f}/s "
              f"reached) + scanner {sum(scanner.sent.values())} datagrams {scanner.sent}")
        bans = [(b["address"], b["reason"], b["dropped"]) for b in mid["guard"]["bans"]]
        print(f"    guard: bans (address, why, requests dropped) {bans}")
        print(f"    screen refused {_delta(before['screen']['refused'], mid['screen']['refused'])}"
              f"; legitimate trunk call during it: {legit}; datagrams the kernel dropped (the "
              f"daemon's socket full): {drops1 - drops0}")
        print(f"    daemon CPU {(cpu_mid - cpu1) / s1:.1%} of a core (before: {idle:.1%}); "
              f"{max(0.0, extra1) / (n1 + scanner.count) * 1e6:.1f} us per datagram")
        print(f"  phase 2, trunk address 127.0.0.1: {n2} INVITEs in {s2:.1f} s ({n2 / s2:.0f}/s "
              f"reached); screen refused "
              f"{_delta(mid['screen']['refused'], after['screen']['refused'])}, admitted "
              f"{after['screen']['admitted'] - mid['screen']['admitted']}, trunk over rate "
              f"{after['guard']['trunk_over_rate'] - mid['guard']['trunk_over_rate']}; kernel "
              f"dropped {drops2 - drops1}")
        print(f"    daemon CPU {(cpu_end - cpu_mid) / (flood_s - s1):.1%} of a core; "
              f"{max(0.0, extra2) / n2 * 1e6:.1f} us per INVITE")
        print(f"  RSS {rss0:.1f} MB before, {rss_mid:.1f} between, {rss1:.1f} after "
              f"({rss1 - rss0:+.1f} MB); daemon alive: {alive}")
        print(f"  longest gap heard per handset (ms, {covered:.0f} s recorded each): {gaps}",
              flush=True)
    finally:
        box.stop()
        peers.close()


def _delta(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 6 s flood")
    parser.add_argument("--seconds", type=float, default=30.0, help="flood length (30)")
    parser.add_argument("--rate", type=int, default=2000, help="INVITEs a second (2000)")
    args = parser.parse_args()
    with TemporaryDirectory(prefix="bench-flood-") as tmp:
        run(6.0 if args.quick else args.seconds, args.rate, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
