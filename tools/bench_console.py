"""Benchmark of the installer's console: what it costs the box. Figures printed (and
written to bench-out/console.json), never asserted.

- RSS added: the console's code (firmware.console, pyserial, the wiring) imported into a
  Python that already holds the command table and the configuration package, as the
  daemon does; and the daemon's RSS before and after a serial login plus a ``minipbx
  console`` session (goal, with the web page: < 15 MB);
- idle CPU: the real daemon (simulated board, web page off) over a quiet window with no
  console device, against the same with a serial console on a pseudo-terminal, logged in
  at its prompt, and a ``minipbx console`` session open beside it;
- key echo: time from a key written to the pty to its echo coming back (p50/p99), and
  from ``?`` to the end of the help list; the serial line's own speed is not in it
  (a pty has none): at 9600 baud add about 1 ms per character.

    .venv/bin/python tools/bench_console.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.procstat import cpu_seconds, rss_mb  # noqa: E402

from tests.console.ptyterm import PtyTerm  # noqa: E402
from tests.e2e.harness import Daemon, free_even_port  # noqa: E402

OUT = ROOT / "bench-out" / "console.json"
PASSWORD = "bench password 1"
SETTLE_S = 2.0

IMPORT_PROBE = """
import os, sys
sys.path.insert(0, {root!r})
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
import firmware.commands.builtin, firmware.config, firmware.accounts
before = rss()
import firmware.app.consoleapp
print(before, rss())
"""


def config_text(device: str) -> str:
    from firmware.config import ConsoleConfig, WebConfig, default_config, to_toml

    config = default_config()
    return to_toml(replace(config, sip=replace(config.sip, port=0, rtp_port=free_even_port()),
                           web=WebConfig(enabled=False),
                           console=ConsoleConfig(device=device, baud=115200,
                                                 idle_logout_s=0)))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def idle_cpu(d: Daemon, seconds: float) -> float:
    time.sleep(SETTLE_S)
    cpu0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(d.proc.pid) - cpu0) / (time.monotonic() - t0)


def import_cost() -> float:
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE.format(root=str(ROOT))],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    before, after = (float(x) for x in out.split())
    return after - before


def open_root_console(state: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(state / "console.sock"))
    sock.sendall(b'{"cols": 80, "rows": 24}\n')
    deadline = time.monotonic() + 10
    seen = b""
    while b"minipbx> " not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if ready:
            seen += sock.recv(65536)
    return sock


def read_until(term: PtyTerm, *needles: bytes) -> None:
    """Read the pty until each of ``needles`` came, in order."""
    got = b""
    deadline = time.monotonic() + 10
    for needle in needles:
        while needle not in got:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{needle!r} did not come: {got[-200:]!r}")
            select.select([term.master], [], [], 1.0)
            try:
                got += os.read(term.master, 65536)
            except BlockingIOError:
                continue
        got = got[got.index(needle) + len(needle):]


def echo_latency(term: PtyTerm, keys: int) -> dict[str, float]:
    echo: list[float] = []
    for i in range(keys):
        if i % 40 == 0:
            os.write(term.master, b"\x15")  # Ctrl-U: keep the line short
            read_until(term, b"minipbx> ")
        ch = "abcdefghij"[i % 10].encode()
        t0 = time.perf_counter()
        os.write(term.master, ch)
        read_until(term, ch)
        echo.append((time.perf_counter() - t0) * 1000)
    os.write(term.master, b"\x15")
    read_until(term, b"minipbx> ")
    helps: list[float] = []
    for _ in range(10):
        t0 = time.perf_counter()
        os.write(term.master, b"?")
        read_until(term, b"user", b"minipbx> ")
        helps.append((time.perf_counter() - t0) * 1000)
    return {"echo_p50_ms": round(pct(echo, 0.5), 2), "echo_p99_ms": round(pct(echo, 0.99), 2),
            "help_p50_ms": round(pct(helps, 0.5), 2), "help_max_ms": round(max(helps), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    window = 5.0 if args.quick else 15.0
    figures: dict[str, Any] = {"import_rss_mb": round(import_cost(), 1)}
    with TemporaryDirectory(prefix="bench-console-") as tmp:
        work = Path(tmp)
        bare = Daemon(work / "bare", config_text(""), extra_args=["--board", "sim"])
        try:
            bare.wait_ready()
            figures["idle_cpu_no_console_pct"] = round(idle_cpu(bare, window), 2)
            figures["rss_no_console_mb"] = round(rss_mb(bare.proc.pid), 1)
        finally:
            bare.stop()
        term = PtyTerm(work / "ttyBENCH")
        d = Daemon(work / "console", config_text(str(term.link)),
                   extra_args=["--board", "sim"])
        try:
            d.wait_ready()
            term.expect("new admin name: ")
            rss0 = rss_mb(d.proc.pid)
            for answer in ("admin", PASSWORD, PASSWORD):
                term.send(answer + "\r")
            term.expect("minipbx> ")
            root = open_root_console(d.state)
            figures["rss_before_sessions_mb"] = round(rss0, 1)
            figures["idle_cpu_console_pct"] = round(idle_cpu(d, window), 2)
            figures.update(echo_latency(term, 100 if args.quick else 400))
            figures["rss_after_sessions_mb"] = round(rss_mb(d.proc.pid), 1)
            figures["sessions_rss_mb"] = round(figures["rss_after_sessions_mb"] - rss0, 1)
            root.close()
        finally:
            term.unplug()
            d.stop()
    figures["idle_cpu_added_pct"] = round(
        figures["idle_cpu_console_pct"] - figures["idle_cpu_no_console_pct"], 2)
    print(f"console: code {figures['import_rss_mb']} MB RSS, two sessions "
          f"{figures['sessions_rss_mb']} MB more; idle CPU {figures['idle_cpu_console_pct']}% "
          f"with a serial login and a minipbx console open, "
          f"{figures['idle_cpu_no_console_pct']}% without (added "
          f"{figures['idle_cpu_added_pct']}% of a core)")
    print(f"console: key echo p50 {figures['echo_p50_ms']} ms, p99 {figures['echo_p99_ms']} "
          f"ms; ? help list p50 {figures['help_p50_ms']} ms, max {figures['help_max_ms']} ms")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
