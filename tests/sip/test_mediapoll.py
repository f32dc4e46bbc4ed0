"""The RTP poll thread that replaces pjmedia's (firmware/sip/mediapoll.py) and what the
loop's SIP wait needs from the endpoint (its UDP sockets, pjsip's next timer), in a child
process: pjsua2 can abort the interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.sip.nativelib import DEFAULT_LIB

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, threading, time
from firmware.sip.endpoint import SipEndpoint, TransportSpec
ep = SipEndpoint("test")
bound = ep.add_transport(TransportSpec("udp", "127.0.0.1", 0))
ep.start()
out = {"poller": ep.media_poller is not None,
       "threads": sorted(t.name for t in threading.enumerate()),
       "sockets": ep.udp_sockets(), "timer": ep.next_timer_s()}
out["os_threads"] = sorted(open(f"/proc/self/task/{t}/comm").read().strip()
                           for t in os.listdir("/proc/self/task"))
if ep.media_poller is not None:
    before = ep.media_poller.counts()
    ep.media_poller.wake()
    time.sleep(0.1)
    out["counts"] = [before, ep.media_poller.counts()]
ep.shutdown()
print(json.dumps(out))
"""


def _run(env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(not DEFAULT_LIB.exists(), reason="native library not built")
def test_our_thread_polls_rtp_and_a_wake_up_returns_its_poll() -> None:
    out = _run({})
    assert out["poller"] is True
    threads = out["os_threads"]
    assert isinstance(threads, list)
    assert "media-poll" in threads and "media" not in threads  # pjmedia's is stopped
    counts = out["counts"]
    assert isinstance(counts, list)
    (polls0, wakes0), (polls1, wakes1) = counts
    assert wakes1 == wakes0 + 1 and polls1 > polls0
    sockets = out["sockets"]
    assert isinstance(sockets, list) and len(sockets) == 1  # the UDP transport's


def test_pjmedia_keeps_its_thread_when_asked() -> None:
    out = _run({"MINIPBX_MEDIA_POLL": "pjmedia"})
    assert out["poller"] is False
    threads = out["os_threads"]
    assert isinstance(threads, list) and "media" in threads
