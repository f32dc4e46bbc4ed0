"""Benchmark of prompts: the real daemon on the simulated board (4 handsets), figures
printed, never asserted.

1. Prompt start latency: the instant the prompt player took a ``Play`` (``prompt.play``
   into an off-hook handset, its monotonic instant from ``prompt.status``) to the first
   sample of the prompt reaching the handset's earpiece (the sim's per-frame arrival
   instants; the line is silent before: a first digit stopped the dial tone).
2. Barge-in: the first sample of a key's DTMF tone read from the handset's microphone to
   the last sample of the prompt (the box's tune) heard in its earpiece, on the board's
   frame instants.
3. CPU: the daemon's share of one core with the handsets on-hook, with 4 off-hook hearing
   dial tone, and with 4 hearing a prompt; per playing line = (prompt - idle) / 4.
4. SIP: baresip calls a menu whose prompt is the box's tune, then presses a key (RFC
   4733); on the RTP captured by tshark on lo: the prompt's start (the player took the
   Play, on CLOCK_MONOTONIC moved to the epoch, to the first packet carrying the tune),
   barge-in (the first telephone-event packet to the last tune sample sent; late by up
   to one packet, 20 ms), and the daemon's CPU while the tune plays to one caller, above
   its idle.

    .venv/bin/python tools/bench_prompts.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.procstat import cpu_percent  # noqa: E402

from tests.e2e.harness import Daemon  # noqa: E402
from tests.e2e.peers import Peers, box_config, trunk_to  # noqa: E402
from tests.e2e.prompt_support import key_to_silence  # noqa: E402
from tests.e2e.rtpcap import (  # noqa: E402
    RtpCapture,
    box_ports,
    first_key,
    first_sound,
    last_sound,
)

LEVEL = 300
PHONES = 4


def lift(d: Daemon, port: int) -> None:
    d.phone(port, "offhook")
    d.wait_for("off-hook", lambda: d.port(f"fxs{port}")["line_state"] == "offhook")


def hang_up(d: Daemon, port: int) -> None:
    d.phone(port, "onhook")
    d.wait_for("idle", lambda: d.port(f"fxs{port}")["line_state"] == "idle", timeout=5)


def start_latency(d: Daemon) -> float:
    lift(d, 1)
    d.dial(1, "1")  # the dial tone stops; the exchange waits for more digits (4 s)
    time.sleep(0.2)
    d.call("prompt.play", name="builtin:please_hold", port=1)
    time.sleep(0.4)
    started = d.call("prompt.status")["started_at"]["fxs1"]
    heard = d.call("sim.phone.timing", port=1, since=started - 0.05, level=LEVEL)["heard"]
    hang_up(d, 1)
    if heard is None:
        raise RuntimeError("the prompt was not heard")
    return float(1000.0 * (heard["at"] + heard["sample"] / 8000 - started))


def barge_in(d: Daemon) -> float:
    lift(d, 1)
    d.call("prompt.play", name="builtin:music", port=1)
    time.sleep(0.7)
    t0 = time.monotonic()
    d.dial(1, "1")
    time.sleep(0.4)
    timing = d.call("sim.phone.timing", port=1, since=t0, level=LEVEL)
    hang_up(d, 1)
    return 1000.0 * key_to_silence(timing)


def cpu(d: Daemon, seconds: float) -> dict[str, float]:
    pid = d.proc.pid
    idle = cpu_percent([pid], seconds)[0]
    for port in range(1, PHONES + 1):
        lift(d, port)
    tone = cpu_percent([pid], seconds)[0]
    for port in range(1, PHONES + 1):
        d.call("prompt.play", name="builtin:music", port=port)
    prompt = cpu_percent([pid], seconds)[0]
    for port in range(1, PHONES + 1):
        hang_up(d, port)
    return {"idle": idle, "dial_tone": tone, "prompt": prompt,
            "per_line": (prompt - idle) / PHONES}


TUNE_MENU = """
[[menu]]
name = "tune"
prompt = "builtin:music"
choices = { "1" = "ext:101" }
"""


def sip_menu(workdir: Path, trials: int) -> dict[str, list[float]]:
    peers = Peers(workdir)
    bare = peers.baresip()
    d = Daemon(workdir / "sip", box_config(
        trunks=[trunk_to("far", bare.sip_port)],
        inbound=[{"did": "5552000", "to": "menu:tune"}]) + TUNE_MENU,
        extra_args=["--board", "sim"])
    results: dict[str, list[float]] = {"start": [], "barge_in": [], "cpu": []}
    try:
        d.wait_ready()
        d.wait_for("the tune", lambda: any(r["name"] == "builtin:music" and r["cached"]
                                           for r in d.call("prompt.list")), timeout=120)
        rtp_port = int(d.call("config.get", path="sip.rtp_port")["value"])
        for _ in range(trials):
            bare.ctrl.events.clear()
            capture = RtpCapture(workdir, rtp_port)
            try:
                idle = cpu_percent([d.proc.pid], 1.0)[0]
                bare.ctrl.command("dial", f"sip:5552000@127.0.0.1:{d.sip_port}")
                bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
                time.sleep(0.2)
                results["cpu"].append(cpu_percent([d.proc.pid], 1.3)[0] - idle)
                status = d.call("prompt.status")
                started = max(at for leg, at in status["started_at"].items()
                              if leg.startswith("sip")) + (time.time() - time.monotonic())
                bare.ctrl.command("sndcode", "1")
                d.wait_for("phone 1 rings", lambda: d.port("fxs1")["ringing"], timeout=10)
                bare.ctrl.command("hangup")
                d.wait_for("idle", lambda: not d.port("fxs1")["ringing"], timeout=10)
                bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
            finally:
                packets = capture.stop()
            ports = box_ports(rtp_port)
            key = first_key(packets, ports)
            # The second after the key only: choice 1 waits the interdigit time (101
            # starts with 1), then the caller hears ringback.
            stopped = (last_sound(packets, ports, key - 0.5, until=key + 1.0)
                       if key is not None else None)
            begun = first_sound(packets, ports, started - 1.0)
            if key is None or stopped is None or begun is None:
                raise RuntimeError(f"no key or no tune in the capture: key {key}, "
                                   f"{len(packets)} packets, types "
                                   f"{sorted({(p.src, p.dst, p.payload_type) for p in packets})}")
            results["barge_in"].append(1000.0 * (stopped - key))
            results["start"].append(1000.0 * (begun - started))
            time.sleep(0.5)
    finally:
        d.stop()
        peers.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    trials = 4 if args.quick else 12
    window = 2.0 if args.quick else 5.0
    phones = [{"port": n, "extension": str(100 + n)} for n in range(1, PHONES + 1)]
    with TemporaryDirectory(prefix="bench-prompts-") as tmp:
        d = Daemon(Path(tmp), box_config(fxs=phones), extra_args=["--board", "sim"])
        try:
            d.wait_ready()
            d.wait_for("the builtin prompts", lambda: all(
                r["cached"] for r in d.call("prompt.list")), timeout=120)
            starts = [start_latency(d) for _ in range(trials)]
            print(f"prompt start latency (Play to first sample heard): median "
                  f"{statistics.median(starts):.1f} ms, max {max(starts):.1f} ms "
                  f"({trials} plays)", flush=True)
            stops = [barge_in(d) for _ in range(trials)]
            print(f"barge-in (key tone start to last prompt sample heard): median "
                  f"{statistics.median(stops):.1f} ms, max {max(stops):.1f} ms "
                  f"({trials} keys)", flush=True)
            c = cpu(d, window)
            print(f"daemon CPU (% of one core): idle {c['idle']:.1f}, {PHONES} lines with "
                  f"dial tone {c['dial_tone']:.1f}, {PHONES} lines with a prompt "
                  f"{c['prompt']:.1f}; per playing line {c['per_line']:.2f}", flush=True)
        finally:
            code = d.stop()
        if code != 0:
            print(f"daemon exited {code}", file=sys.stderr)
            return 1
        sip = sip_menu(Path(tmp), 2 if args.quick else 6)
        n = len(sip["start"])
        print(f"SIP prompt start (Play to the first RTP packet with the tune): median "
              f"{statistics.median(sip['start']):.1f} ms, max {max(sip['start']):.1f} ms "
              f"({n} calls)", flush=True)
        print(f"barge-in from SIP (RFC 4733 key to the last tune sample sent): median "
              f"{statistics.median(sip['barge_in']):.1f} ms, max {max(sip['barge_in']):.1f}"
              f" ms ({n} calls)", flush=True)
        print(f"daemon CPU above idle, one SIP caller hearing a menu prompt: median "
              f"{statistics.median(sip['cpu']):.2f} % of a core (the call's RTP included)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
