"""Benchmark of the SIP screen under an INVITE flood: the real daemon on the simulated
board, an internal call up (phones 1 and 2), and sipp sending INVITEs as fast as a
scanner does. Figures printed, never asserted.

Two floods: from a stranger's address (every INVITE refused 403 by the screen) and from
the trunk's own address (the first few taken, the rest refused 503 by the rate limits).
For each: INVITEs sent and the rate sipp reached, what the screen counted, the daemon's
CPU over the flood (share of one core, and per INVITE), its resident memory before and
after, whether it lived, and whether the internal call still carried a tone.

    .venv/bin/python tools/bench_flood.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.procstat import cpu_seconds, rss_mb  # noqa: E402

from tests.e2e.harness import Daemon, die_with_parent, dominant_hz, free_port, sine  # noqa: E402
from tests.e2e.peers import box_config, trunk_to  # noqa: E402

DID = "5551000"


def flood(box: Daemon, source: str, count: int, rate: int, work: Path) -> dict[str, Any]:
    before = box.call("status")["sip"]["screen"]
    rss0 = rss_mb(box.proc.pid)
    cpu0, t0 = cpu_seconds(box.proc.pid), time.monotonic()
    sipp = subprocess.run(
        ["sipp", "-sn", "uac", f"127.0.0.1:{box.sip_port}", "-s", DID, "-i", source,
         "-p", str(free_port()), "-m", str(count), "-r", str(rate), "-l", str(count),
         "-timeout", "30s", "-max_retrans", "0", "-nostdin"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent, check=False)
    seconds = time.monotonic() - t0
    cpu = cpu_seconds(box.proc.pid) - cpu0
    alive = box.proc.poll() is None
    after = box.call("status")["sip"]["screen"] if alive else before
    refused = {k: after["refused"][k] - before["refused"][k] for k in after["refused"]}
    box.speak(1, sine(800, 1.0))
    heard = dominant_hz(box.hear(2, 1.0)) if alive else 0.0
    return {"source": source, "sent": count, "seconds": round(seconds, 1),
            "rate_per_s": round(count / seconds), "sipp_exit": sipp.returncode,
            "admitted": after["admitted"] - before["admitted"], "refused": refused,
            "cpu_share": round(cpu / seconds, 3),
            "cpu_us_per_invite": round(cpu / count * 1e6),
            "rss_mb": (round(rss0, 1), round(rss_mb(box.proc.pid), 1) if alive else None),
            "alive": alive, "call_still_carries_800hz": abs(heard - 800) < 10}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, rate = (1000, 500) if args.quick else (5000, 1000)
    with TemporaryDirectory(prefix="bench-flood-") as tmp:
        work = Path(tmp)
        box = Daemon(work, box_config(trunks=[trunk_to("provider", 5060)],
                                      inbound=[{"did": DID, "extension": "101"}]))
        try:
            box.wait_ready()
            box.phone(1, "offhook")
            box.dial(1, "102")
            box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"], timeout=10)
            box.phone(2, "offhook")
            print(f"flood: {count} INVITEs at {rate}/s, internal call 101-102 up", flush=True)
            for source in ("127.0.0.9", "127.0.0.1"):
                figs = flood(box, source, count, rate, work)
                kind = "stranger" if source != "127.0.0.1" else "trunk address"
                print(f"  from {kind} {source}: sent {figs['sent']} in {figs['seconds']} s "
                      f"({figs['rate_per_s']}/s); admitted {figs['admitted']}, refused "
                      f"{figs['refused']}", flush=True)
                print(f"    daemon CPU {figs['cpu_share'] * 100:.1f} % of a core "
                      f"({figs['cpu_us_per_invite']} us per INVITE); RSS "
                      f"{figs['rss_mb'][0]} -> {figs['rss_mb'][1]} MB; alive: {figs['alive']}; "
                      f"internal call still carries audio: {figs['call_still_carries_800hz']}",
                      flush=True)
        finally:
            box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
