"""Benchmark of the web setup page: the real daemon on the simulated board with its web page
on a free port, driven over HTTP by aiohttp clients. Figures printed, never asserted.

- page render: 20 logged-in clients at once, each fetching the dashboard and the
  configuration pages in turn; p50/p99 of the time to the whole page (goal: p99 < 50 ms);
- SSE event latency: from sending ``sim.phone.hook`` over the control socket to the
  dashboard's event that shows the change arriving at an SSE client;
- RSS added by the web server: the daemon with ``[web] enabled = false`` against the same
  with the page on, idle and after the load (goal, with the console: < 15 MB);
- idle CPU of the web server: the daemon's CPU over a quiet window, page off against page
  on, and with one dashboard open (its live feed polls the box).

    .venv/bin/python tools/bench_web.py [--quick]

Writes the figures as JSON to bench-out/web.json too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import aiohttp  # noqa: E402
from benchlib.procstat import cpu_seconds, rss_mb  # noqa: E402

from tests.e2e.conftest import default_config_text  # noqa: E402
from tests.e2e.harness import Daemon, free_port  # noqa: E402

OUT = ROOT / "bench-out" / "web.json"
CLIENTS = 20
DASHBOARD = ("/",)
MIX = ("/", "/config/phones", "/config/box", "/config/routes", "/changes")
ADMIN, PASSWORD = "admin", "bench-password-1"
CSRF = re.compile(r'name="_csrf" value="([^"]*)"')
SETTLE_S = 2.0


def config_text(web_port: int, enabled: bool) -> str:
    text = default_config_text(web_port=web_port)
    assert "[web]\nenabled = true" in text
    return text.replace("[web]\nenabled = true", f"[web]\nenabled = {str(enabled).lower()}")


def start(work: Path, name: str, enabled: bool) -> tuple[Daemon, str]:
    port = free_port(socket.SOCK_STREAM)
    d = Daemon(work / name, config_text(port, enabled), extra_args=["--board", "sim"])
    d.wait_ready()
    return d, f"http://127.0.0.1:{port}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def setup_admin(base: str, code: str) -> None:
    async with new_session() as s:
        async with s.get(f"{base}/setup") as r:
            token = CSRF.search(await r.text())
        assert token, "no setup form"
        async with s.post(f"{base}/setup", data={
                "_csrf": token.group(1), "code": code, "name": ADMIN, "password": PASSWORD,
                "password2": PASSWORD}, allow_redirects=False) as r:
            assert r.status == 303, await r.text()


async def login(base: str) -> aiohttp.ClientSession:
    s = new_session()
    async with s.get(f"{base}/login") as r:
        token = CSRF.search(await r.text())
    assert token, "no login form"
    async with s.post(f"{base}/login", data={"_csrf": token.group(1), "name": ADMIN,
                                             "password": PASSWORD},
                      allow_redirects=False) as r:
        assert r.status == 303, await r.text()
    return s


async def render_load(d: Daemon, base: str, rounds: int, pages: tuple[str, ...]
                      ) -> dict[str, Any]:
    """CLIENTS logged-in clients, each fetching ``pages`` in turn ``rounds`` times, back to
    back (no think time: the hardest case); also the daemon's CPU per page."""
    sessions = [await login(base) for _ in range(CLIENTS)]
    times: list[float] = []
    sizes: dict[str, int] = {}

    async def client(s: aiohttp.ClientSession, offset: int) -> None:
        for i in range(rounds):
            path = pages[(i + offset) % len(pages)]
            t0 = time.perf_counter()
            async with s.get(base + path) as r:
                body = await r.read()
                assert r.status == 200, (path, r.status)
            times.append(time.perf_counter() - t0)
            sizes[path] = len(body)

    cpu0, t0 = cpu_seconds(d.proc.pid), time.perf_counter()
    try:
        await asyncio.gather(*(client(s, n) for n, s in enumerate(sessions)))
    finally:
        for s in sessions:
            await s.close()
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(d.proc.pid) - cpu0
    return {"requests": len(times), "clients": CLIENTS, "p50_ms": pct(times, 50) * 1000,
            "p99_ms": pct(times, 99) * 1000, "max_ms": max(times) * 1000,
            "pages_per_s": len(times) / wall, "daemon_cpu_ms_per_page": cpu / len(times) * 1000,
            "largest_page_kb": max(sizes.values()) / 1024}


async def sse_latency(d: Daemon, base: str, changes: int) -> dict[str, Any]:
    s = await login(base)
    lags: list[float] = []
    try:
        async with s.get(f"{base}/events", timeout=aiohttp.ClientTimeout(total=None)) as r:
            async def event() -> dict[str, Any]:
                while True:
                    line = (await r.content.readline()).decode()
                    if line.startswith("data: "):
                        data: dict[str, Any] = json.loads(line[6:])
                        return data

            await asyncio.wait_for(event(), 10)  # the first reading
            loop = asyncio.get_running_loop()
            for i in range(changes):
                action, word = ("offhook", "off hook") if i % 2 == 0 else ("onhook", "on hook")
                t0 = time.perf_counter()
                await loop.run_in_executor(None, d.phone, 1, action)
                while True:
                    data = await asyncio.wait_for(event(), 10)
                    row = data["ports"].split('data-leg="fxs1"')[1].split("</tr>")[0]
                    if word in row and (word != "on hook" or "off hook" not in row):
                        break
                lags.append(time.perf_counter() - t0)
                await asyncio.sleep(0.3)
    finally:
        await s.close()
    return {"changes": len(lags), "p50_ms": pct(lags, 50) * 1000,
            "p99_ms": pct(lags, 99) * 1000, "max_ms": max(lags) * 1000}


def idle_cpu(d: Daemon, seconds: float) -> float:
    """The daemon's CPU over ``seconds`` of quiet, as a share of one core."""
    c0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(d.proc.pid) - c0) / (time.monotonic() - t0)


async def dashboard_cpu(d: Daemon, base: str, seconds: float) -> float:
    s = await login(base)
    try:
        async with s.get(f"{base}/events", timeout=aiohttp.ClientTimeout(total=None)) as r:
            await r.content.readline()
            c0, t0 = cpu_seconds(d.proc.pid), time.monotonic()
            end = t0 + seconds
            while time.monotonic() < end:
                try:
                    await asyncio.wait_for(r.content.readline(), end - time.monotonic())
                except TimeoutError:
                    break
            return (cpu_seconds(d.proc.pid) - c0) / (time.monotonic() - t0)
    finally:
        await s.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, changes, quiet_s = (10, 6, 3.0) if args.quick else (50, 20, 10.0)
    figures: dict[str, Any] = {}
    with TemporaryDirectory(prefix="bench-web-") as tmp:
        work = Path(tmp)
        off, _ = start(work, "off", enabled=False)
        try:
            time.sleep(SETTLE_S)
            rss_off = rss_mb(off.proc.pid)
            cpu_off = idle_cpu(off, quiet_s)
        finally:
            off.stop()
        on, base = start(work, "on", enabled=True)
        try:
            time.sleep(SETTLE_S)
            rss_on = rss_mb(on.proc.pid)
            cpu_on = idle_cpu(on, quiet_s)
            asyncio.run(setup_admin(base, on.call("setup.code")["code"]))
            figures["render_dashboard"] = asyncio.run(render_load(on, base, rounds, DASHBOARD))
            rss_login = rss_mb(on.proc.pid)
            figures["render"] = asyncio.run(render_load(on, base, rounds, MIX))
            rss_loaded = rss_mb(on.proc.pid)
            figures["sse"] = asyncio.run(sse_latency(on, base, changes))
            cpu_dash = asyncio.run(dashboard_cpu(on, base, quiet_s))
        finally:
            on.stop()
    figures["rss_mb"] = {"web_off": rss_off, "web_on_idle": rss_on,
                         "web_on_after_dashboard_load": rss_login,
                         "web_on_after_load": rss_loaded, "added_idle": rss_on - rss_off,
                         "added_after_load": rss_loaded - rss_off}
    figures["cpu_share"] = {"web_off_idle": cpu_off, "web_on_idle": cpu_on,
                            "one_dashboard_open": cpu_dash, "added_idle": cpu_on - cpu_off,
                            "added_by_dashboard": cpu_dash - cpu_off}
    e, m, c = figures["sse"], figures["rss_mb"], figures["cpu_share"]
    for key, what in (("render_dashboard", "the dashboard"),
                      ("render", "dashboard and configuration pages")):
        r = figures[key]
        print(f"web page render, {what}, {r['clients']} clients back to back, {r['requests']} "
              f"pages: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms (goal < 50 ms), "
              f"max {r['max_ms']:.1f} ms; {r['pages_per_s']:.0f} pages/s; daemon CPU "
              f"{r['daemon_cpu_ms_per_page']:.2f} ms a page; largest {r['largest_page_kb']:.1f} KB")
    print(f"SSE event latency (hook change sent -> event received), {e['changes']} changes: "
          f"p50 {e['p50_ms']:.0f} ms, p99 {e['p99_ms']:.0f} ms, max {e['max_ms']:.0f} ms")
    print(f"RSS: page off {m['web_off']:.1f} MB, on {m['web_on_idle']:.1f} MB (added "
          f"{m['added_idle']:.1f} MB); after 20 logins (scrypt: 16 MB a hash) and the "
          f"dashboard load {m['web_on_after_dashboard_load']:.1f} MB; after the page mix "
          f"{m['web_on_after_load']:.1f} MB (added {m['added_after_load']:.1f} MB; goal with "
          "the console < 15 MB)")
    print(f"idle CPU of the daemon: page off {c['web_off_idle'] * 100:.2f} %, on "
          f"{c['web_on_idle'] * 100:.2f} % (added {c['added_idle'] * 100:.2f} % of a core); "
          f"one dashboard open {c['one_dashboard_open'] * 100:.2f} % (added "
          f"{c['added_by_dashboard'] * 100:.2f} %)")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
