"""Issue 12 §2 through the real daemon: 30 s of INVITEs at 2,000 a second (sipp; the rate
sipp reaches on this machine is printed) plus 10,000 datagrams from a scanner-like script,
while two SIP calls (through the trunk to sipp, echoing) and two internal calls run.

Phase 1 (20 s): the INVITEs come from a stranger (127.0.0.66): a few get 403, then the
address is banned and the rest are dropped unanswered; meanwhile a legitimate call from
the trunk's address (127.0.0.1) gets through and is answered. Phase 2 (10 s): the INVITEs
come from the trunk's own address: never banned, cut to its rate with 503 (they ask for a
number no route has, so those admitted end at once). The scanner's address and the
REGISTER guesser's are banned; random bytes from the trunk's address ban nothing.

Each call carries a steady tone the whole time; what the four handsets hear has no gap
over 60 ms. The daemon's CPU over the flood is printed beside its CPU just before
(bounded: the flood must leave it a core's headroom), its resident memory comes back
within 5 MB, and bans are listed and lifted with the commands.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from tests.e2e.flood import (
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
from tests.e2e.harness import Daemon, sine
from tests.e2e.peers import Peers

# Load-sensitive (audio gaps, memory, throttle waits): `make test` runs it alone, after the
# parallel part.
pytestmark = [pytest.mark.slow, pytest.mark.serial]

RATE = 2000
STRANGER_S = 20.0
TRUNK_S = 10.0
PIECE_S = 3.0
TONE_S = 2 * PIECE_S + 3.0 + STRANGER_S + TRUNK_S + 2.0 + 2 * PIECE_S
MAX_GAP_MS = 60.0


@pytest.fixture
def box(daemon_factory: Callable[..., Daemon], peers: Peers) -> Daemon:
    _uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0), calls=2)
    box = daemon_factory(four_calls_config(port, caller_id="5551000"))
    bring_up_four_calls(box)
    return box


def test_flood_and_scan_leave_calls_clean_and_legit_calls_possible(box: Daemon,
                                                                    peers: Peers) -> None:
    pid, port = box.proc.pid, box.sip_port
    for speaker, hz in TONES.items():
        box.speak(speaker, sine(hz, TONE_S))
    time.sleep(1.0)  # the echoes come back, the jitter buffers settle
    # Each handset is recorded in 3 s pieces back to back (one long recording would
    # grow the daemon's memory by itself); each piece is searched for gaps.
    heard: dict[int, list[np.ndarray]] = {n: [] for n in LISTENER.values()}
    recording = threading.Event()
    recording.set()

    def record(listener: int) -> None:
        while recording.is_set():
            heard[listener].append(box.hear(listener, PIECE_S))

    recorders = [threading.Thread(target=record, args=(n,)) for n in LISTENER.values()]
    for r in recorders:
        r.start()
    # Warm-up: the recordings going and a 2 s flood from the trunk's address, so that
    # pjsua's call slots and pjsip's pools have been used once before memory is measured.
    rss_start, t = rss_mb(pid), time.monotonic()
    sipp_flood(port, "127.0.0.1", RATE, 2.0, NOWHERE, peers.workdir).wait(20)
    time.sleep(max(0.0, 2 * PIECE_S - (time.monotonic() - t)))
    rss0, cpu0, t0 = rss_mb(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(3.0)
    idle_share = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)

    scanner = Scanner(port, count=10_000, rate=10_000 / STRANGER_S)
    scanning = threading.Thread(target=scanner.run)
    cpu1, t1, drops0 = cpu_seconds(pid), time.monotonic(), udp_drops(port)
    attacker = sipp_flood(port, STRANGER, RATE, STRANGER_S, DID, peers.workdir)
    scanning.start()

    # A legitimate call from the trunk's address while the stranger floods.
    time.sleep(3.0)
    legit = peers.sipp_uac(f"127.0.0.1:{port}", DID, peers.scenario(
        "uac_call", From='"Dora" <sip:5558888@127.0.0.1>', headers="",
        answer_timeout_ms=15000, hold_ms=500))
    box.wait_for("phone 7 to ring during the flood",
                 lambda: box.port("fxs7")["ringing"], timeout=10)
    box.phone(7, "offhook")
    assert legit.wait(15) == 0, legit.describe()
    assert attacker.poll() is None, "the flood ended before the legitimate call: too short"
    attacker.wait(STRANGER_S + 15)
    stranger_s = time.monotonic() - t1
    scanning.join()
    box.phone(7, "onhook")

    mid = box.call("status")["sip"]
    rss_mid = rss_mb(pid)
    t2 = time.monotonic()
    attacker = sipp_flood(port, "127.0.0.1", RATE, TRUNK_S, NOWHERE, peers.workdir)
    attacker.wait(TRUNK_S + 15)
    trunk_s = time.monotonic() - t2
    flood_cpu, flood_s = cpu_seconds(pid) - cpu1, time.monotonic() - t1
    time.sleep(2.0)  # the last transactions end
    rss1 = rss_mb(pid)
    recording.clear()
    for r in recorders:
        r.join()
    sip, drops = box.call("status")["sip"], udp_drops(port) - drops0

    guard, screen = sip["guard"], sip["screen"]
    invites = int(RATE * STRANGER_S), int(RATE * TRUNK_S)
    gaps = {n: max(longest_gap_ms(piece, skip_s=0.02) for piece in pieces)
            for n, pieces in heard.items()}
    covered = min(sum(len(p) for p in pieces) for pieces in heard.values()) / 8000
    print(f"\nflood: {invites[0]} INVITEs from {STRANGER} in {stranger_s:.1f} s "
          f"({invites[0] / stranger_s:.0f}/s reached), then {invites[1]} from the trunk's "
          f"address in {trunk_s:.1f} s ({invites[1] / trunk_s:.0f}/s); scanner "
          f"{sum(scanner.sent.values())} datagrams in {scanner.seconds:.1f} s {scanner.sent}")
    print(f"daemon CPU: {idle_share:.1%} of a core before, {flood_cpu / flood_s:.1%} during; "
          f"{(flood_cpu - idle_share * flood_s) / sum(invites) * 1e6:.0f} us per INVITE sent")
    print(f"RSS {rss_start:.1f} at start, {rss0:.1f} warmed up, {rss_mid:.1f} between phases, "
          f"{rss1:.1f} MB after; longest gap heard (ms) per handset {gaps} in "
          f"{covered:.0f} s recorded each")
    print(f"guard {guard['bans_given']} bans, {guard['dropped_while_banned']} dropped, "
          f"{guard['trunk_over_rate']} trunk over rate; screen {screen['refused']}; datagrams "
          f"the kernel dropped (socket full): {drops}")

    assert box.proc.poll() is None, box.log()[-3000:]
    # Phase 1: the stranger is banned after a few 403s; the scanner and guesser too.
    banned = {b["address"]: b for b in mid["guard"]["bans"]}
    assert STRANGER in banned and "failed authentications" in banned[STRANGER]["reason"]
    assert banned[STRANGER]["dropped"] > invites[0] // 2, banned
    assert "scanner" in banned[scanner.scanner_source]["reason"], banned
    assert scanner.guesser_source in banned, banned
    assert mid["screen"]["refused"]["source"] <= 10, mid["screen"]
    # Phase 2: the trunk's address is never banned, only cut to its rate.
    assert "127.0.0.1" not in {b["address"] for b in guard["bans"]}
    assert screen["refused"]["rate"] - mid["screen"]["refused"]["rate"] > invites[1] // 2
    # The calls kept their audio all along, and nothing leaked.
    for listener, gap in gaps.items():
        assert gap <= MAX_GAP_MS, (listener, gaps)
    assert all(box.port(f"fxs{n}")["exchange_state"] == "connected" for n in (1, 2, 4, 5))
    assert rss1 - rss0 < 5.0, (rss0, rss1)
    # Issue 12 asks for the flood's CPU to be bounded: CPU seconds over wall seconds, a
    # share that a loaded machine can only lower, so this cannot fail for a busy host.
    assert flood_cpu / flood_s < 0.9, "the flood took the daemon's whole core"

    # The bans as the operator sees and lifts them.
    listed = {b["address"] for b in box.call("sip.bans")}
    assert {STRANGER, scanner.scanner_source} <= listed
    lifted = box.call("sip.unban", address=STRANGER)
    assert lifted["address"] == STRANGER
    assert STRANGER not in {b["address"] for b in box.call("sip.bans")}
