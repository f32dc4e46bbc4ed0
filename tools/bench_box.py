"""Benchmark of the whole box: the real daemon (``minipbx run``, pjsua2 inside) on the
simulated board with 8 FXS ports, real SIP peers on 127.0.0.1, figures printed, never
asserted.

1. Off-hook to dial tone: the handset's off-hook edge to the first frame of dial tone
   reaching its earpiece (the sim's per-frame arrival instants).
2. Last digit to INVITE: the daemon's detection of the last DTMF digit of a complete
   number (its debug log line, CLOCK_MONOTONIC) to the INVITE arriving at a UDP socket
   acting as the trunk (same clock; monotonic is system-wide on Linux).
3. One-way audio delay of an internal call, phone 2 to phone 1: the instant the box read
   the first frame of a tone burst from phone 2's microphone to the instant that sample
   reached phone 1's earpiece (sample-exact within the 20 ms frames).
4. CPU of one core per active call with 1 and 4 calls from handsets through a SIP trunk to
   baresip (auto answer, ausine source, ALSA null player paced by an LD_PRELOAD shim),
   daemon and baresip side by side from each thread's schedstat (nanoseconds) over the
   same window, minus each one's idle baseline, divided by the number of calls.
5. Resident memory (VmRSS) of the daemon idle and with 4 calls.
6. The idle daemon with 9 lines (8 FXS, 1 FXO), beside baresip's idle, per thread; the
   line ports' kind (native or Python: ``--line-port`` picks, for a side-by-side run).

    .venv/bin/python tools/bench_box.py [--quick] [--json bench-out/box.json]

--quick shortens every window and trial count (a smoke run of about 30 s); the full run
takes about a minute and a half. Results also go to bench-out/box.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from benchlib.baresip import Baresip, build_pace_shim  # noqa: E402
from benchlib.procstat import cpu_percent, cpu_window, rss_mb  # noqa: E402
from benchlib.report import (  # noqa: E402
    GOALS,
    judge,
    machine,
    missing,
    print_figure,
    print_table,
    summary,
)
from benchlib.siptrunk import InviteSink  # noqa: E402

from firmware.config.schema import FxsPort as FxsPortConfig  # noqa: E402
from tests.e2e.harness import Daemon, die_with_parent, free_even_port, free_port  # noqa: E402

PORTS = 8
SINK_PREFIX = "8"  # dialled prefix of the stand-in trunk (figure 2)
SIP_PREFIX = "9"  # dialled prefix of the baresip trunk (figure 4)
ECHO_PREFIX = "7"  # dialled prefix of the sipp -rtp_echo trunk (figure 3b)
NUMBER = "5550123"  # the 7 digits after the prefix; also baresip's account user
# The config default, read from the schema so the report names what the box really uses.
DEBOUNCE_MS = next(f.default for f in fields(FxsPortConfig) if f.name == "debounce_ms")

_DIGIT_LINE = re.compile(r"(fxs\d+): digit (\S) detected at monotonic ([0-9.]+)")


@dataclass
class Settings:
    dialtone_trials: int
    invite_trials: int
    audio_trials: int
    window_s: float
    variant_window_s: float
    variants: bool


def settings(quick: bool) -> Settings:
    if quick:
        return Settings(dialtone_trials=3, invite_trials=2, audio_trials=3, window_s=2.0,
                        variant_window_s=0.0, variants=False)
    return Settings(dialtone_trials=10, invite_trials=5, audio_trials=10, window_s=10.0,
                    variant_window_s=5.0, variants=True)


# --- the box under test --------------------------------------------------------------------
def box_config(sink_port: int, baresip_port: int, echo_port: int,
               echo_cancel: bool = True) -> str:
    lines = ['[box]', 'name = "bench"', 'country = "us"', 'board = "sim"', '',
             '[sip]', 'bind = "127.0.0.1"', 'port = 0', 'rtp_port = 40000', '']
    for p in range(1, PORTS + 1):
        lines += ['[[fxs]]', f'port = {p}', f'extension = "10{p}"',
                  f'debounce_ms = {DEBOUNCE_MS}', '']
        if not echo_cancel:  # the line echo canceller (issue 11), on by default
            lines[-1:-1] = ['echo_cancel = false']
    # A ninth line, idle throughout: issue 13's idle figure is for 9 lines.
    lines += ['[[fxo]]', 'port = 1', 'extension = "101"', '']
    for name, port in (("sink", sink_port), ("baresip", baresip_port),
                       ("echo", echo_port)):
        lines += ['[[trunk]]', f'name = "{name}"', 'host = "127.0.0.1"', f'port = {port}',
                  'register = false', '']
    for prefix, trunk in ((SINK_PREFIX, "sink"), (SIP_PREFIX, "baresip"),
                          (ECHO_PREFIX, "echo")):
        # A fixed length, so the number is complete at its last digit (no timeout).
        lines += ['[[outbound]]', f'pattern = "{prefix}{"x" * len(NUMBER)}"',
                  f'trunk = "{trunk}"', 'strip = 1', '']
    return "\n".join(lines)


def wait(what: str, predicate: Callable[[], Any], timeout: float,
         step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def ports(box: Daemon) -> dict[str, dict[str, Any]]:
    return {p["leg"]: p for p in box.call("status")["ports"]}


def wait_idle(box: Daemon, which: list[int] | None = None, timeout: float = 5.0) -> None:
    legs = [f"fxs{p}" for p in (which or range(1, PORTS + 1))]
    wait("lines idle", lambda: all(ports(box)[leg]["line_state"] == "idle" for leg in legs),
         timeout, step=0.05)


def hang_up(box: Daemon, which: list[int]) -> None:
    state = ports(box)
    for p in which:
        if state[f"fxs{p}"]["hook"] == "off":
            box.phone(p, "onhook")


class PortPicker:
    """Round robin over the ports, so a line just hung up gets time to go idle (an
    on-hook shorter than the flash window would be a flash, not a new call)."""

    def __init__(self, box: Daemon) -> None:
        self.box = box
        self.next = 0

    def take(self) -> int:
        port = self.next % PORTS + 1
        self.next += 1
        wait_idle(self.box, [port])
        return port


# --- 1. off-hook to dial tone --------------------------------------------------------------
def bench_dialtone(box: Daemon, picker: PortPicker, trials: int) -> dict[str, Any]:
    delays = []
    for _ in range(trials):
        port = picker.take()
        lifted = time.monotonic()
        box.phone(port, "offhook")

        def heard(port: int = port, lifted: float = lifted) -> dict[str, Any] | None:
            # Only this lift's edge: until the sim applies it, the last edge is the
            # previous hang-up (and the dial tone played on through its flash window).
            t = box.call("sim.phone.timing", port=port, level=100)
            edge = t["hook_edge"]
            return t if t["heard"] is not None and edge is not None and edge >= lifted else None

        t = wait("dial tone", heard, 3.0)
        delays.append((t["heard"]["at"] - t["hook_edge"]) * 1000.0)
        box.phone(port, "onhook")
    return summary(delays, "ms") | {"debounce_ms": DEBOUNCE_MS}


# --- 2. last digit to INVITE ---------------------------------------------------------------
def bench_invite(box: Daemon, picker: PortPicker, sink: InviteSink,
                 trials: int) -> dict[str, Any]:
    delays = []
    for _ in range(trials):
        port = picker.take()
        t0 = time.monotonic()
        box.phone(port, "offhook")
        box.dial(port, SINK_PREFIX + NUMBER)
        invite_at, uri = wait("the INVITE at the trunk", partial(sink.invites_since, t0),
                              5.0)[0]
        leg = f"fxs{port}"
        detected = [float(m.group(3)) for m in _DIGIT_LINE.finditer(box.log())
                    if m.group(1) == leg and t0 <= float(m.group(3)) <= invite_at]
        if not detected:
            raise RuntimeError("no 'digit ... detected at monotonic' line in the daemon's "
                               "log: is the debug hook in Box._digit_cb there?")
        if NUMBER not in uri:
            raise RuntimeError(f"the trunk got an INVITE for {uri}, not {NUMBER}")
        delays.append((invite_at - detected[-1]) * 1000.0)
        box.phone(port, "onhook")
    return summary(delays, "ms")


# --- 3. audio delay, phone 2 to phone 1 ----------------------------------------------------
def burst(ms: float = 100.0, hz: float = 1000.0, amplitude: int = 16000) -> np.ndarray:
    """A tone burst that starts at full amplitude on its first sample (a cosine)."""
    t = np.arange(int(8 * ms)) / 8000.0
    return (amplitude * np.cos(2 * np.pi * hz * t)).astype(np.int16)


def connect_internal(box: Daemon, caller: int, callee: int) -> None:
    box.phone(caller, "offhook")
    box.dial(caller, f"10{callee}")
    wait(f"phone {callee} to ring", lambda: ports(box)[f"fxs{callee}"]["ringing"], 10.0, 0.05)
    box.phone(callee, "offhook")
    wait("the call to connect", lambda: ports(box)[f"fxs{caller}"]["with"] == f"fxs{callee}",
         5.0, 0.05)


def bench_audio(box: Daemon, trials: int) -> dict[str, Any]:
    wait_idle(box, [1, 2])
    connect_internal(box, caller=2, callee=1)
    time.sleep(0.3)  # ringback to the caller has stopped
    level = 2000
    delays, queued = [], []
    try:
        for _ in range(trials):
            t0 = time.monotonic()
            box.speak(2, burst())

            def both(t0: float = t0) -> tuple[dict[str, Any], dict[str, Any]] | None:
                spoken = box.call("sim.phone.timing", port=2, since=t0, level=level)["spoken"]
                heard = box.call("sim.phone.timing", port=1, since=t0, level=level)["heard"]
                return (spoken, heard) if spoken and heard else None

            spoken, heard = wait("the burst at phone 1", both, 3.0)
            delay = (heard["at"] - spoken["at"]) + (heard["sample"] - spoken["sample"]) / 8000
            delays.append(delay * 1000.0)
            queued.append((heard["at"] + heard["sample"] / 8000 - t0) * 1000.0)
            time.sleep(0.15)  # the burst is over before the next one
    finally:
        hang_up(box, [1, 2])
    return summary(delays, "ms") | {"queued_to_heard_median_ms": round(
        statistics.median(queued), 2)}


# --- 3b. audio delay through a SIP call, sipp echoing the RTP -------------------------------
def bench_echo(box: Daemon, trials: int) -> dict[str, Any]:
    """Phone 1 calls sipp (-rtp_echo) through a trunk and hears its own bursts come back:
    half the round trip is the one-way delay of a SIP call (both jitter buffers)."""
    wait_idle(box, [1])
    box.phone(1, "offhook")
    level = 2000
    rtts = []
    try:
        box.dial(1, ECHO_PREFIX + NUMBER)
        wait("the echo call to connect", lambda: sip_calls_connected(box) >= 1, 10.0, 0.05)
        time.sleep(0.5)  # RTP flowing both ways
        for _ in range(trials):
            t0 = time.monotonic()
            box.speak(1, burst())

            def both(t0: float = t0) -> dict[str, Any] | None:
                t = box.call("sim.phone.timing", port=1, since=t0, level=level)
                return t if t["spoken"] and t["heard"] else None

            t = wait("the echo of the burst", both, 3.0)
            spoken, heard = t["spoken"], t["heard"]
            rtt = (heard["at"] - spoken["at"]) + (heard["sample"] - spoken["sample"]) / 8000
            rtts.append(rtt * 1000.0)
            time.sleep(0.3)  # the echo is over before the next burst
    finally:
        hang_up(box, [1])
        wait("the echo call to end", lambda: sip_calls_connected(box) == 0, 10.0, 0.1)
    return summary([r / 2 for r in rtts], "ms") | {"rtt_median_ms": round(
        statistics.median(rtts), 2)}


def start_sipp_echo(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    """sipp answering one call and echoing its RTP."""
    sip_port, rtp_port = free_port(), free_even_port()
    log = (work / "sipp-echo.log").open("wb")
    proc = subprocess.Popen(
        ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(sip_port), "-mi", "127.0.0.1",
         "-mp", str(rtp_port), "-rtp_echo", "-m", "1", "-nostdin"],
        cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent)
    log.close()
    return proc, sip_port


# --- 4 and 5. CPU per call, memory -----------------------------------------------------------
def sip_calls_connected(box: Daemon) -> int:
    calls = box.call("status")["sip"]["calls"]
    return sum(1 for c in calls.values() if c["state"] == "connected")


def calls_up(box: Daemon, n: int) -> bool:
    return sip_calls_connected(box) >= n


def place_calls(box: Daemon, which: list[int]) -> None:
    """Lift and dial on several handsets at once (each dial takes about 2 s of tones)."""
    errors: list[BaseException] = []

    def one(port: int) -> None:
        try:
            box.phone(port, "offhook")
            box.dial(port, SIP_PREFIX + NUMBER)
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(p,)) for p in which]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def bench_cpu(box: Daemon, peer: Baresip, window: float) -> dict[str, Any]:
    wait_idle(box)
    daemon_pid = box.proc.pid
    # Nanoseconds from schedstat, not clock ticks: the idle figure is a few tenths of a
    # percent, 3 ticks of 10 ms in a 10 s window (benchlib/procstat.py).
    (idle_box, idle_peer), threads = cpu_window([daemon_pid, peer.pid], window, daemon_pid,
                                                precise=True)
    out: dict[str, Any] = {
        "window_s": window, "player": peer.player, "measure": "schedstat",
        "line_ports": box.call("status")["line_ports"]["kind"],
        "idle": {"daemon_pct": round(idle_box, 2), "baresip_pct": round(idle_peer, 2)},
        "rss_idle_mb": round(rss_mb(daemon_pid), 1),
        "daemon_threads_pct": {"idle": _rounded(threads)},
    }
    up: list[int] = []
    try:
        for n in (1, 4):
            new = list(range(len(up) + 1, n + 1))
            place_calls(box, new)
            up += new
            wait(f"{n} SIP calls connected", partial(calls_up, box, n), 10.0, 0.1)
            time.sleep(1.0)  # media running, jitter buffers settled
            (busy_box, busy_peer), threads = cpu_window([daemon_pid, peer.pid], window,
                                                        daemon_pid, precise=True)
            out["daemon_threads_pct"][f"calls_{n}"] = _rounded(threads)
            if sip_calls_connected(box) < n:
                raise RuntimeError(f"a call dropped during the {n}-call window")
            per_box = (busy_box - idle_box) / n
            per_peer = (busy_peer - idle_peer) / n
            out[f"calls_{n}"] = {
                "daemon_pct": round(busy_box, 2), "baresip_pct": round(busy_peer, 2),
                "daemon_per_call_pct": round(per_box, 2),
                "baresip_per_call_pct": round(per_peer, 2),
                "ratio": round(per_box / per_peer, 2) if per_peer > 0.05 else None,
            }
            if n == 4:
                # What each call beyond the first adds (the first also starts the media).
                one = out["calls_1"]
                out["marginal_per_call_pct"] = {
                    "daemon": round((busy_box - one["daemon_pct"]) / 3, 2),
                    "baresip": round((busy_peer - one["baresip_pct"]) / 3, 2)}
                out["rss_4_calls_mb"] = round(rss_mb(daemon_pid), 1)
                out["baresip_rss_4_calls_mb"] = round(rss_mb(peer.pid), 1)
    finally:
        hang_up(box, up)
        wait("the SIP calls to end", lambda: sip_calls_connected(box) == 0, 10.0, 0.1)
    return out


def _rounded(by_name: dict[str, float]) -> dict[str, float]:
    return {name: round(pct, 2) for name, pct in sorted(by_name.items()) if pct > 0}


def bench_player_variant(box: Daemon, peer: Baresip, window: float) -> dict[str, Any]:
    """One call to a baresip with another player: what its CPU depends on."""
    wait_idle(box, [1])
    place_calls(box, [1])
    try:
        wait("the SIP call connected", lambda: sip_calls_connected(box) >= 1, 10.0, 0.1)
        time.sleep(1.0)
        (pct,) = cpu_percent([peer.pid], window)
    finally:
        hang_up(box, [1])
        wait("the SIP call to end", lambda: sip_calls_connected(box) == 0, 10.0, 0.1)
    return {"player": peer.player, "baresip_pct_1_call": round(pct, 2), "window_s": window}


# --- main ----------------------------------------------------------------------------------
def run(quick: bool, json_path: Path, line_port: str = "auto",
        echo_cancel: bool = True) -> int:
    cfg = settings(quick)
    info = machine()
    started = time.monotonic()
    figs: dict[str, Any] = {}
    notes: list[str] = []
    # Logs of this run (daemon, baresip, sipp) beside the JSON, replaced on every run.
    work = json_path.parent / "box-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shim, why = build_pace_shim(work / "shim")
    player = "paced" if shim is not None else "aufile"
    if shim is None:
        notes.append(f"baresip: no pacing shim ({why}); using the aufile player")
    sink = InviteSink()
    peer: Baresip | None = None
    try:
        peer = Baresip(work, NUMBER, player, shim)
    except (OSError, RuntimeError) as exc:
        notes.append(f"baresip did not start: {exc}")
    echo: subprocess.Popen[bytes] | None = None
    try:
        echo, echo_port = start_sipp_echo(work)
    except OSError as exc:
        notes.append(f"sipp did not start: {exc}")
        echo_port = free_port()
    box = Daemon(work / "box", box_config(sink.port, peer.sip_port if peer else free_port(),
                                          echo_port, echo_cancel),
                 extra_args=["--log-level", "debug"], env={"MINIPBX_LINE_PORT": line_port})
    failed = False
    try:
        ready = box.wait_ready(30.0)
        lp = ready.get("line_ports", {})
        print(f"line ports: {lp.get('kind', '?')} ({lp.get('why', '?')}); line echo "
              f"canceller {'on' if echo_cancel else 'off'}", flush=True)
        picker = PortPicker(box)
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("dialtone", lambda: bench_dialtone(box, picker, cfg.dialtone_trials)),
            ("invite", lambda: bench_invite(box, picker, sink, cfg.invite_trials)),
            ("audio", lambda: bench_audio(box, cfg.audio_trials)),
            ("echo", lambda: bench_echo(box, cfg.audio_trials) if echo is not None
             else missing("sipp")),
            ("cpu", lambda: bench_cpu(box, peer, cfg.window_s) if peer is not None
             else missing("baresip")),
        ]
        for key, step in steps:
            try:
                figs[key] = step()
            except Exception as exc:  # report it, go on with the next figure
                failed = True
                figs[key] = {"error": f"{type(exc).__name__}: {exc}"}
                traceback.print_exc()
                with contextlib.suppress(Exception):
                    hang_up(box, list(range(1, PORTS + 1)))
            print_figure(key, figs)
            if key == "dialtone" and "median" in figs[key]:
                print("   early dial tone starts at the first off-hook edge: this is the wait "
                      "for the next 20 ms media tick and the loop; Seize still waits for the "
                      f"{DEBOUNCE_MS} ms debounce", flush=True)
            if key == "audio" and "median" in figs[key]:
                print("   from the box reading the frame; from queueing it in the handset: "
                      f"median {figs[key]['queued_to_heard_median_ms']:.1f} ms (adds the wait "
                      "for the next media tick)", flush=True)
            if key == "cpu":
                print_figure("rss", figs)
                c = figs[key]
                if "idle" in c:
                    print(f"   idle baseline: daemon {c['idle']['daemon_pct']:.2f} %, "
                          f"baresip {c['idle']['baresip_pct']:.2f} % of a core; baresip "
                          f"player {c['player']}; window {c['window_s']:g} s", flush=True)
                for when, threads in c.get("daemon_threads_pct", {}).items():
                    text = ", ".join(f"{name} {pct:.2f} %" for name, pct in threads.items())
                    print(f"   daemon threads, {when.replace('_', ' ')}: {text}", flush=True)
                if "marginal_per_call_pct" in c:
                    m = c["marginal_per_call_pct"]
                    print(f"   each call beyond the first: daemon {m['daemon']:.2f} %, "
                          f"baresip {m['baresip']:.2f} % of a core; baresip resident "
                          f"{c['baresip_rss_4_calls_mb']:.1f} MB with 4 calls", flush=True)
        if cfg.variants and peer is not None:
            figs["baresip_players"] = players = []
            peer.stop()
            for variant in ("null", "aufile"):
                other = Baresip(work, NUMBER, variant, shim, sip_port=peer.sip_port,
                                name=f"baresip-{variant}")
                try:
                    players.append(bench_player_variant(box, other, cfg.variant_window_s))
                except Exception as exc:
                    players.append({"player": variant, "error": f"{type(exc).__name__}: {exc}"})
                finally:
                    other.stop()
            paced = figs.get("cpu", {}).get("calls_1", {}).get("baresip_pct")
            text = ", ".join(
                f"{p['player']} {p['baresip_pct_1_call']:.1f} %" if "baresip_pct_1_call" in p
                else f"{p['player']} failed" for p in players)
            print(f"   baresip with 1 call by player: {player} {paced} % (above); {text}")
    finally:
        code = box.stop()
        if peer is not None:
            peer.stop()
        sink.close()
        if echo is not None:
            if echo.poll() is None:
                echo.terminate()
            echo.wait(5)
        if code != 0:
            failed = True
            notes.append(f"the daemon exited {code}")
    rows = judge(figs)
    print_table(info, rows)
    for note in notes:
        print(f"note: {note}")
    elapsed = time.monotonic() - started
    print(f"bench_box: {elapsed:.0f} s{' (quick)' if quick else ''}; work dir {work}")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({
        "machine": info, "quick": quick, "elapsed_s": round(elapsed, 1),
        "line_port": line_port, "echo_cancel": echo_cancel,
        "goals": GOALS, "figures": figs, "notes": notes,
        "table": [dict(zip(("figure", "measured", "goal", "result"), r, strict=True))
                  for r in rows],
    }, indent=2) + "\n")
    print(f"bench_box: results in {json_path}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows (smoke run)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-out" / "box.json",
                        help="where to write the results (default bench-out/box.json)")
    parser.add_argument("--line-port", choices=("auto", "native", "python"), default="auto",
                        help="the daemon's line ports (MINIPBX_LINE_PORT; default auto: "
                             "native when its check passes)")
    parser.add_argument("--no-echo-cancel", action="store_true",
                        help="the handsets' line echo canceller off (echo_cancel = false), "
                             "to compare the media path alone with baresip's")
    args = parser.parse_args(argv)
    return run(args.quick, args.json, args.line_port, not args.no_echo_cancel)


if __name__ == "__main__":
    sys.exit(main())
