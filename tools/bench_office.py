"""Benchmark of the office exchange (issue 9): figures are printed, never asserted.

1. The routing core alone (firmware/pbx, a fake clock): the time ``Exchange.handle`` takes
   for a menu digit that picks a choice (the digit in, the Setup to the extension out),
   and calls set up into a ringall group of three a second (an inbound Setup in, three
   Setups out, then the caller's cancel).
2. The daemon on the simulated board: a handset in a menu keys a choice; the time from the
   end of the key's tone (the virtual handset's dial command returns) to the chosen
   extension ringing (``status``, polled every 5 ms: the figure is an upper bound).
3. The daemon with sipp: calls into a ringall group one after another (INVITE, 180 Ringing
   once the members ring, CANCEL): calls a second set up through SIP.
4. The daemon's CPU per call: four handsets listening to a menu's prompt, then four
   handsets waiting in a group's queue (music), against the idle box, over a window.

    .venv/bin/python tools/bench_office.py [--quick]
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

from firmware.core.clock import FakeClock  # noqa: E402
from firmware.core.events import Digit, Party, Release, Setup  # noqa: E402
from firmware.pbx.destinations import parse_destination  # noqa: E402
from firmware.pbx.exchange import Exchange  # noqa: E402
from firmware.pbx.office import Group, Menu  # noqa: E402
from firmware.pbx.plan import DialPlan, Extension, InboundRoute  # noqa: E402
from firmware.pbx.schedules import Switch  # noqa: E402
from tests.e2e.harness import Daemon  # noqa: E402
from tests.e2e.peers import Peers, box_config, trunk_to  # noqa: E402
from tests.e2e.test_office_group import PHONES, table  # noqa: E402
from tools.benchlib.procstat import cpu_seconds  # noqa: E402


def _plan(to: str) -> DialPlan:
    return DialPlan(
        extensions=tuple(Extension(f"10{i}", f"fxs{i}", f"Ext {i}") for i in range(1, 6)),
        inbound=(InboundRoute("*", switch=Switch(parse_destination(to))),),
        groups=(Group("sales", "600", ("102", "103", "104")),),
        menus=(Menu("main", "builtin:welcome", "700", choices={
            "2": Switch(parse_destination("ext:102"))}, dial_extensions=False),))


def core(rounds: int) -> None:
    clock = FakeClock()
    pbx = Exchange(_plan("menu:main"))
    caller = Party("5557777", "Bench")
    took: list[float] = []
    for i in range(rounds):
        leg = f"sip{i}"
        pbx.handle(Setup(leg, "5551000", caller), clock.now())
        started = time.perf_counter()
        out = pbx.handle(Digit(leg, "2"), clock.now())
        took.append(time.perf_counter() - started)
        assert any(isinstance(o, Setup) for o in out)
        pbx.handle(Release(leg), clock.advance(0.01))
    print(f"office core: menu digit to the Setup of the choice: median "
          f"{statistics.median(took) * 1e6:.0f} us, p99 "
          f"{sorted(took)[int(rounds * 0.99)] * 1e6:.0f} us ({rounds} calls)")
    pbx = Exchange(_plan("group:sales"))
    started = time.perf_counter()
    for i in range(rounds):
        leg = f"sip{i}"
        out = pbx.handle(Setup(leg, "5551000", caller), clock.now())
        assert sum(isinstance(o, Setup) for o in out) == 3
        pbx.handle(Release(leg), clock.advance(0.01))
    rate = rounds / (time.perf_counter() - started)
    print(f"office core: calls set up into a ringall group of 3 and cancelled: {rate:,.0f} "
          "a second")


def _office_config(trunk_port: int = 5060) -> str:
    config = box_config(trunks=[trunk_to("provider", trunk_port)], fxs=PHONES,
                        inbound=[{"did": "5551000", "to": "group:sales"}])
    config += "\n" + table("group", {"name": "sales", "number": "600",
                                     "members": ["102", "103", "104"]})
    config += "\n" + table("menu", {"name": "main", "number": "700",
                                    "prompt": "builtin:welcome", "choices": ["2=ext:105"],
                                    "dial_extensions": False, "timeout_s": 60.0,
                                    "repeats": 10})
    config += "\n" + table("group", {"name": "wait", "number": "610", "members": ["105"],
                                     "queue": True, "max_wait_s": 0.0})
    return config


def daemon_cpu(box: Daemon, window_s: float) -> None:
    pid = box.proc.pid

    def cpu_over() -> float:
        before = cpu_seconds(pid)
        time.sleep(window_s)
        return (cpu_seconds(pid) - before) / window_s * 100

    idle = cpu_over()
    callers = (1, 2, 3, 4)
    for number, what in (("700", "in a menu (its prompt playing)"),
                         ("610", "waiting in a queue (music)")):
        if number == "610":
            box.phone(5, "offhook")  # the queue's one member is busy
        for port in callers:
            box.phone(port, "offhook")
            box.dial(port, number)
        box.wait_for("the callers", lambda: len(box.call("status")["calls"]) >= len(callers))
        busy = cpu_over()
        print(f"office daemon: CPU per handset {what}: "
              f"{(busy - idle) / len(callers):.2f} % of a core ({len(callers)} callers: "
              f"{busy:.1f} %, idle box {idle:.1f} %, {window_s:g} s)")
        for port in (*callers, 5):
            box.phone(port, "onhook")
        box.wait_for("idle", lambda: not box.call("status")["calls"], timeout=10)


def daemon_menu(box: Daemon, rounds: int) -> None:
    took: list[float] = []
    for _ in range(rounds):
        box.phone(1, "offhook")
        box.dial(1, "700")
        box.wait_for("the menu", lambda: box.port("fxs1")["exchange_state"] == "connected")
        box.dial(1, "2")
        keyed = time.monotonic()  # the dial command returns once the tone has played
        while not box.port("fxs5")["ringing"]:
            if time.monotonic() - keyed > 5:
                raise SystemExit("office: extension 105 never rang")
            time.sleep(0.005)
        took.append(time.monotonic() - keyed)
        box.phone(1, "onhook")
        box.wait_for("idle", lambda: not box.call("status")["calls"], timeout=10)
    print(f"office daemon: handset menu key (dial command returned) to the chosen phone "
          f"ringing: median "
          f"{statistics.median(took) * 1000:.0f} ms, worst {max(took) * 1000:.0f} ms "
          f"({rounds} calls; includes the status polling)")


def daemon_group(box: Daemon, peers: Peers, calls: int) -> None:
    started = time.monotonic()
    for i in range(calls):
        sipp = peers.sipp_uac(f"127.0.0.1:{box.sip_port}", "5551000", peers.scenario(
            "uac_cancel", From=f"<sip:55570{i:02d}@127.0.0.1>", ring_ms=0, headers=""))
        if sipp.wait(20) != 0:
            raise SystemExit(f"office: sipp call {i} failed: {sipp.describe()}")
        box.wait_for("idle", lambda: not box.call("status")["calls"], timeout=10)
    took = time.monotonic() - started
    print(f"office daemon: {calls} SIP calls one after another into a ringall group of 3 "
          f"(INVITE, 180 once the members ring, CANCEL, sipp started for each): "
          f"{calls / took:.1f} calls a second")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    core(2000 if args.quick else 20000)
    with TemporaryDirectory(prefix="bench-office-") as tmp:
        peers = Peers(Path(tmp) / "peers")
        box = Daemon(Path(tmp) / "box", _office_config())
        try:
            box.wait_ready()
            daemon_menu(box, 3 if args.quick else 10)
            daemon_group(box, peers, 5 if args.quick else 20)
            daemon_cpu(box, 3.0 if args.quick else 10.0)
        finally:
            box.stop()
            peers.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
