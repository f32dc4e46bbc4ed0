"""Benchmark of sites joined through the Kamailio hub (issue 14): figures printed, never
asserted.

1. Call setup across sites: two daemons registered to the rendered hub; a handset at
   office 1 dials 201 at office 2; the time from the end of the last digit's tone (the
   virtual handset's dial command returns) to office 2's phone ringing (``status`` polled
   every 5 ms: an upper bound). The same for 102 on office 1 itself, for comparison.
2. Registered boxes: sipp registers N fake sites (digest auth, a challenge and an answer
   each) at a fixed rate; how many the hub holds afterwards (``ul.dump``) and how long
   it took.
3. Calls a second through the hub: one sipp fake box (digest-authenticated INVITEs,
   Record-Route followed) calls a number of a fake site that is a sipp UAS registered to
   the hub; at rising rates for a few seconds each; the highest rate with every call
   completed, and the hub's CPU.

The hub here is ``minipbx hub render``'s configuration with ``flood_requests`` raised
(every request comes from 127.0.0.1 and the hub exempts its own address from pike anyway).

    .venv/bin/python tools/bench_hub.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import Daemon, free_even_port, free_port  # noqa: E402
from tests.e2e.hub_support import Hub  # noqa: E402

REGISTER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="fake site registers">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[contact_port]>
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=[call_number]
To: <sip:[field0]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@[local_ip]:[contact_port]>
[field1]
Expires: 3600
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

CALL_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="fake box calls through the hub">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:100@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:100@[remote_ip]>;tag=[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:100@[remote_ip]>;tag=[call_number]
To: <sip:[service]@[remote_ip]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:100@[local_ip]:[local_port]>
[authentication username=caller password=pw-caller]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:100@[remote_ip]>;tag=[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:100@[remote_ip]>;tag=[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""


UAS_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="fake site answers (keeps the hub's Record-Route)">
  <recv request="INVITE" rrs="true"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:sink@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


def site_config(name: str, prefix: str, other: str, other_prefix: str, hub_port: int,
                phones: list[str]) -> str:
    lines = [f'[box]\nname = "{name}"\ncountry = "us"\nboard = "sim"\n',
             f'[sip]\nbind = "127.0.0.1"\nport = 0\nrtp_port = {free_even_port()}\n',
             '[web]\nbind = "127.0.0.1"\nport = 0\n',
             f'[site]\nname = "{name}"\nprefix = "{prefix}"\n',
             f'[hub]\nhost = "127.0.0.1"\nport = {hub_port}\npassword = "pw-{name}"\n',
             f'[[peer_site]]\nname = "{other}"\nprefix = "{other_prefix}"\n']
    lines += [f'[[fxs]]\nport = {i}\nextension = "{e}"\n' for i, e in enumerate(phones, 1)]
    return "\n".join(lines)


def ring_time(a: Daemon, b: Daemon, b_leg: str, number: str) -> float:
    a.phone(1, "offhook")
    a.dial(1, number)
    t0 = time.monotonic()
    while not b.port(b_leg)["ringing"]:
        if time.monotonic() - t0 > 10:
            raise RuntimeError(f"{number} never rang")
        time.sleep(0.005)
    took = time.monotonic() - t0
    a.phone(1, "onhook")
    deadline = time.monotonic() + 10
    while (b.port(b_leg)["ringing"] or a.port("fxs1")["line_state"] != "idle") and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    return took


def setup_times(work: Path, calls: int) -> None:
    hub = Hub(work / "hub", [{"name": "office1", "prefix": "1xx", "password": "pw-office1"},
                             {"name": "office2", "prefix": "2xx", "password": "pw-office2"}])
    boxes: list[Daemon] = []
    try:
        hub.start()
        one = Daemon(work / "one", site_config("office1", "1xx", "office2", "2xx", hub.port,
                                               ["101", "102"]))
        two = Daemon(work / "two", site_config("office2", "2xx", "office1", "1xx", hub.port,
                                               ["201"]))
        boxes += [one, two]
        for box in boxes:
            box.wait_ready(60)
            box.wait_for("registration", lambda b=box: b.call("status")["sip"]["trunks"]["hub"]
                         ["registration"]["state"] == "registered", timeout=20)
        across = [ring_time(one, two, "fxs1", "201") for _ in range(calls)]
        local = [ring_time(one, one, "fxs2", "102") for _ in range(calls)]
        print(f"call setup, last digit to ringing (upper bound), {calls} calls each:")
        for label, times in (("across sites via hub", across), ("same box", local)):
            ms = sorted(t * 1000 for t in times)
            print(f"  {label:<22} median {statistics.median(ms):6.1f} ms, "
                  f"max {ms[-1]:6.1f} ms")
        rtt = one.call("status").get("sites", {}).get("office2", {}).get("rtt_ms")
        print(f"  OPTIONS round trip office1 -> hub -> office2: {rtt} ms")
    finally:
        for box in boxes:
            box.stop()
        hub.close()


def sipp(args: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
    proc = subprocess.run(["sipp", *args, "-nostdin", "-trace_stat", "-stf", "stat.csv",
                           "-trace_screen", "-screen_file", "screen.txt"], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    screen = (cwd / "screen.txt").read_text(errors="replace") if (cwd / "screen.txt").exists() \
        else proc.stdout + proc.stderr
    return proc.returncode, screen


def counter(screen: str, name: str) -> int:
    for line in screen.splitlines():
        if line.strip().startswith(name):
            parts = line.split("|")
            if len(parts) >= 3 and parts[2].strip().isdigit():
                return int(parts[2].strip())
    return -1


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total


def hub_pids(hub: Hub) -> list[int]:
    assert hub.peer is not None
    root = hub.peer.proc.pid
    out = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout
    return [root, *(int(p) for p in out.split())]


def hub_capacity(work: Path, sites: int, rates: list[int], seconds: float) -> None:
    names = [f"site{i:04d}" for i in range(sites)]
    entries = [{"name": n, "prefix": f"8{i:04d}x", "password": f"pw-{n}"}
               for i, n in enumerate(names)]
    entries += [{"name": "caller", "prefix": "7xxx", "password": "pw-caller"},
                {"name": "sink", "prefix": "9xxx", "password": "pw-sink"}]
    hub = Hub(work / "hub", entries, children=4, flood_requests=100000)
    sipp_dir = work / "sipp"
    sipp_dir.mkdir(parents=True, exist_ok=True)
    (sipp_dir / "register.xml").write_text(REGISTER_XML)
    (sipp_dir / "call.xml").write_text(CALL_XML)
    (sipp_dir / "uas.xml").write_text(UAS_XML)
    # field1 is the whole credentials keyword: sipp does not nest fields inside it.
    (sipp_dir / "sites.csv").write_text("SEQUENTIAL\n" + "".join(
        f"{n};[authentication username={n} password=pw-{n}]\n" for n in names))
    (sipp_dir / "sink.csv").write_text(
        "SEQUENTIAL\nsink;[authentication username=sink password=pw-sink]\n")
    uas = None
    try:
        hub.start()
        target = f"127.0.0.1:{hub.port}"
        reg_rate = 200
        t0 = time.monotonic()
        code, screen = sipp(["-sf", "register.xml", "-inf", "sites.csv", target, "-i",
                             "127.0.0.1", "-p", str(free_port()), "-key", "contact_port",
                             "5999", "-r", str(reg_rate), "-m", str(sites), "-l", "200"],
                            sipp_dir, timeout=120)
        took = time.monotonic() - t0
        stats = hub.kamcmd("stats.get_statistics", "registered_users").stdout
        held = int(stats.rsplit("=", 1)[1]) if "=" in stats else -1
        print(f"registered boxes: {held} of {sites} fake sites held by the hub "
              f"(sipp at {reg_rate}/s, digest challenge and answer each: {took:.1f} s, "
              f"sipp exit {code}, failed {counter(screen, 'Failed call')})")
        # The sink: a sipp UAS registered as site "sink" (numbers 9xxx).
        uas_port = free_port()
        uas_dir = work / "uas"
        uas_dir.mkdir(exist_ok=True)
        uas = subprocess.Popen(["sipp", "-sf", str(sipp_dir / "uas.xml"), "-i", "127.0.0.1",
                                "-p", str(uas_port), "-mp", str(free_even_port()),
                                "-nostdin"], cwd=uas_dir, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        sipp(["-sf", "register.xml", "-inf", "sink.csv", target, "-i", "127.0.0.1",
              "-p", str(free_port()), "-key", "contact_port", str(uas_port), "-m", "1"],
             sipp_dir, timeout=30)
        best = 0
        pids = hub_pids(hub)
        hz = 100.0
        for rate in rates:
            calls = int(rate * seconds)
            before, t0 = cpu_ticks(pids), time.monotonic()
            code, screen = sipp(["-sf", "call.xml", target, "-s", "9001", "-i", "127.0.0.1",
                                 "-p", str(free_port()), "-r", str(rate), "-m", str(calls),
                                 "-l", str(rate * 4), "-mp", str(free_even_port())],
                                sipp_dir, timeout=seconds * 6 + 30)
            wall = time.monotonic() - t0
            cpu = (cpu_ticks(pids) - before) / hz / wall * 100.0
            ok, failed = counter(screen, "Successful call"), counter(screen, "Failed call")
            print(f"  {rate:5d} calls/s offered for {seconds:g} s: {ok} completed, "
                  f"{failed} failed, hub CPU {cpu:5.1f} % of a core")
            if code == 0 and failed == 0:
                best = rate
            else:
                break
        print(f"calls a second through the hub with none failed: {best} (INVITE, 407, "
              "INVITE with digest, 200, ACK and BYE over the Record-Route, 2-core machine "
              "shared with sipp)")
    finally:
        if uas is not None:
            uas.terminate()
            uas.wait(10)
        hub.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-hub") as tmp:
        work = Path(tmp)
        print("== calls across sites through the hub ==")
        setup_times(work / "setup", 3 if args.quick else 8)
        print("== hub capacity (sipp as fake boxes) ==")
        hub_capacity(work / "capacity", 200 if args.quick else 1000,
                     [20, 50] if args.quick else [25, 50, 100, 200, 400],
                     2.0 if args.quick else 4.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
