"""Attackers and measures shared by the flood test and tools/bench_flood.py: sipp sending
INVITEs from a chosen loopback address, a scanner-like script sending garbage and scanners'
requests, gaps in what a handset heard, a process's CPU and resident memory, and the box
both flood under: two SIP calls and two internal calls up."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.e2e.harness import Daemon, die_with_parent, free_port
from tests.e2e.peers import box_config, trunk_to

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")
DID = "5551000"  # rings extension 107, phone 7
NOWHERE = "5550000"  # no inbound route: what the trunk-address flood asks for
STRANGER = "127.0.0.66"
TONES = {1: 1000, 4: 1200, 2: 700, 5: 500}  # speaker -> Hz
LISTENER = {1: 1, 4: 4, 2: 3, 5: 6}  # who hears each speaker's tone


def four_calls_config(trunk_port: int, **trunk: object) -> str:
    """Phones 1-7 (extensions 101-107), trunk "far" to ``trunk_port`` (9 + number goes out),
    ``DID`` coming in rings 107."""
    # Phones 1 and 4 talk to sipp's RTP echo: a line echo canceller would take that echo,
    # which comes back within its tail, for the hybrid's and cancel the very tone they
    # listen to, so they have none.
    return box_config(
        fxs=[{"port": n, "extension": f"10{n}", **({"echo_cancel": False} if n in (1, 4) else {})}
             for n in range(1, 8)],
        trunks=[trunk_to("far", trunk_port, **trunk)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        inbound=[{"did": DID, "extension": "107"}])


def bring_up_four_calls(box: Daemon) -> None:
    """Phones 1 and 4 call out through the trunk, 2 calls 3 and 5 calls 6; all answered."""
    for caller, called in ((1, "95551234#"), (4, "95551235#"), (2, "103"), (5, "106")):
        box.phone(caller, "offhook")
        box.dial(caller, called)
    for leg, phone in (("fxs3", 3), ("fxs6", 6)):
        box.wait_for(f"{leg} to ring", lambda leg=leg: box.port(leg)["ringing"], timeout=10)
        box.phone(phone, "offhook")
    box.wait_for("four calls up", lambda: all(
        box.port(f"fxs{n}")["exchange_state"] == "connected" for n in (1, 2, 4, 5)),
        timeout=15)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def udp_drops(port: int) -> int:
    """Datagrams the kernel dropped for want of room in the UDP socket bound to ``port``
    (all addresses): what arrived faster than the daemon read it (/proc/net/udp)."""
    total = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                total += int(fields[-1])
    return total


def sipp_flood(target_port: int, source: str, rate: int, seconds: float, service: str,
               workdir: Path) -> subprocess.Popen[bytes]:
    """sipp sending ``rate`` INVITEs a second for ``seconds`` from ``source`` (any
    127.x address); each call gives up at its first retransmission."""
    count = int(rate * seconds)
    return subprocess.Popen(
        ["sipp", "-sn", "uac", f"127.0.0.1:{target_port}", "-s", service, "-i", source,
         "-p", str(free_port()), "-m", str(count), "-r", str(rate), "-l", str(count),
         "-timeout", f"{int(seconds) + 5}s", "-max_retrans", "0", "-nostdin"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent)


SCANNERS = ("friendly-scanner", "sipvicious", "VaxSIPUserAgent/3.1", "pplsip")


@dataclass
class Scanner:
    """The scanner-like script: ``count`` datagrams at ``rate`` a second, in four kinds
    in turn: random bytes (from the trunk's own address: pjsip's parser drops them),
    start lines without headers, a scanner's OPTIONS (User-Agent of SIPVicious and kin)
    and a password guesser's REGISTERs from strangers' addresses."""

    port: int
    count: int = 10_000
    rate: float = 1000.0
    scanner_source: str = "127.0.0.77"
    guesser_source: str = "127.0.0.78"
    sent: dict[str, int] = field(default_factory=lambda: {
        "random": 0, "headless": 0, "scanner": 0, "register": 0})
    seconds: float = 0.0

    def run(self, stop: threading.Event | None = None) -> None:
        rng = random.Random(12)
        socks = {}
        for name, host in (("random", "127.0.0.1"), ("headless", "127.0.0.1"),
                           ("scanner", self.scanner_source), ("register", self.guesser_source)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            s.setblocking(False)
            socks[name] = s
        kinds = list(socks)
        t0 = time.monotonic()
        try:
            for i in range(self.count):
                if stop is not None and stop.is_set():
                    break
                kind = kinds[i % len(kinds)]
                data = self._datagram(kind, i, rng, socks[kind].getsockname()[1])
                try:
                    socks[kind].sendto(data, ("127.0.0.1", self.port))
                    self.sent[kind] += 1
                except BlockingIOError:
                    pass
                ahead = t0 + (i + 1) / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        finally:
            self.seconds = time.monotonic() - t0
            for s in socks.values():
                s.close()

    def _datagram(self, kind: str, i: int, rng: random.Random, my_port: int) -> bytes:
        if kind == "random":
            return rng.randbytes(rng.randint(20, 600))
        if kind == "headless":
            return rng.choice([b"INVITE sip:100@x SIP/2.0\r\n\r\n", b"OPTIONS sip:x SIP/2.0\r\n",
                               b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP\r\n\r\n"])
        tag = f"{i:x}"
        if kind == "scanner":
            agent = SCANNERS[i // 4 % len(SCANNERS)]
            return (f"OPTIONS sip:{100 + i % 900}@127.0.0.1 SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{my_port};branch=z9hG4bK{tag}\r\n"
                    f"From: \"sipvicious\" <sip:100@1.1.1.1>;tag={tag}\r\n"
                    f"To: <sip:{100 + i % 900}@127.0.0.1>\r\nCall-ID: scan{tag}\r\n"
                    f"CSeq: 1 OPTIONS\r\nUser-Agent: {agent}\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n").encode()
        return (f"REGISTER sip:127.0.0.1 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{my_port};branch=z9hG4bK{tag}\r\n"
                f"From: <sip:{100 + i % 900}@127.0.0.1>;tag={tag}\r\n"
                f"To: <sip:{100 + i % 900}@127.0.0.1>\r\nCall-ID: reg{tag}\r\n"
                "CSeq: 1 REGISTER\r\nContact: <sip:x@127.0.0.1>\r\nMax-Forwards: 70\r\n"
                f"Authorization: Digest username=\"{100 + i % 900}\", response=\"{tag}\"\r\n"
                "Content-Length: 0\r\n\r\n").encode()


def longest_gap_ms(samples: np.ndarray, rate: int = 8000, block_ms: int = 5,
                   drop_db: float = 20.0, skip_s: float = 0.5) -> float:
    """The longest run of blocks at least ``drop_db`` below the recording's median level:
    a dropout of a steady tone (skipping ``skip_s`` at each end, where the tone may start
    or stop). 0.0 when the tone never drops out."""
    n = rate * block_ms // 1000
    x = samples[int(skip_s * rate):len(samples) - int(skip_s * rate)].astype(np.float64)
    blocks = x[:len(x) // n * n].reshape(-1, n)
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-9)
    low = level < np.median(level) - drop_db
    longest = run = 0
    for is_low in low:
        run = run + 1 if is_low else 0
        longest = max(longest, run)
    return float(longest * block_ms)
