"""The box's network address disappearing and returning (issue 12 section 3): in a network
namespace of the test's own, the box listens on 10.77.0.1 (an address on the namespace's
loopback), registers to a registrar there and has a call up through a trunk to sipp there.
The address is deleted (``ip addr del``) and added back: the SIP call, whose RTP can no
longer flow, ends with the busy tone after the RTP timeout (no stuck call), an internal call
goes on, the registration is shown failed with its retry while the address is gone, and the
box registers again by itself once it is back. Needs root (``ip netns``); skipped without."""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.faults_support import at_rest
from tests.e2e.harness import Daemon, die_with_parent, free_even_port, free_port
from tests.e2e.peers import box_config, trunk_to
from tests.e2e.test_sip_register_dead import Registrar

pytestmark = pytest.mark.slow

ADDRESS = "10.77.0.1"
CLONE_NEWNET = 0x40000000


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"minipbx-{os.getpid()}"
    try:
        ip("netns", "add", name)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot make a network namespace here ({exc}): needs root")
    try:
        ip("-n", name, "link", "set", "lo", "up")
        ip("-n", name, "addr", "add", f"{ADDRESS}/24", "dev", "lo")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    """Run the block's socket making in namespace ``ns`` (this thread only)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET) != 0:
            pytest.skip(f"setns failed: {os.strerror(ctypes.get_errno())}")
        yield
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(there)


class AcceptingRegistrar(Registrar):
    """Answers every REGISTER 200 OK, granting 60 s."""

    def __init__(self) -> None:
        super().__init__(200, "OK")

    def _answer(self, h: dict[str, list[str]]) -> str:
        text = super()._answer(h)
        contact = h.get("contact", h.get("m", ["<sip:box@127.0.0.1>"]))[0]
        contact = contact.split(">", 1)[0] + ">"  # the URI, without the header's params
        return text.replace("Content-Length: 0",
                            f"Contact: {contact};expires=60\r\nExpires: 60\r\n"
                            "Content-Length: 0")


def registration(box: Daemon) -> dict[str, Any]:
    reg: dict[str, Any] = box.call("status")["sip"]["trunks"]["reg"]["registration"]
    return reg


def test_the_address_goes_and_comes_back(netns: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with inside(netns):
        registrar = AcceptingRegistrar()
    sipp_port = free_port()
    sipp = subprocess.Popen(
        ["ip", "netns", "exec", netns, "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p",
         str(sipp_port), "-mi", "127.0.0.1", "-mp", str(free_even_port()), "-rtp_echo",
         "-nostdin"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent)
    fxs = [{"port": i, "extension": str(100 + i)} for i in range(1, 5)]
    text = box_config(trunks=[trunk_to("reg", registrar.port, register=True,
                                       username="box", password="pw",
                                       register_expires_s=60),
                              trunk_to("far", sipp_port)],
                      outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}], fxs=fxs)
    text = text.replace('[sip]\nbind = "127.0.0.1"\n',
                        f'[sip]\nbind = "{ADDRESS}"\nrtp_timeout_s = 3\n', 1)
    monkeypatch.setattr(harness, "MINIPBX", ["ip", "netns", "exec", netns, *harness.MINIPBX])
    box = Daemon(tmp_path, text)
    try:
        box.wait_ready()
        box.wait_for("registered", lambda: registration(box)["state"] == "registered",
                     timeout=15)
        box.phone(1, "offhook")
        box.dial(1, "95551234#")
        box.wait_for("the trunk call",
                     lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=15)
        box.phone(3, "offhook")
        box.dial(3, "104")
        box.wait_for("phone 4 to ring", lambda: box.port("fxs4")["ringing"])
        box.phone(4, "offhook")
        box.wait_for("the internal call", lambda: box.port("fxs3")["with"] == "fxs4")

        ip("-n", netns, "addr", "del", f"{ADDRESS}/24", "dev", "lo")  # the address goes
        box.wait_for("the SIP call ended with the busy tone",
                     lambda: box.port("fxs1")["playing"] == "tone:busy", timeout=25)
        box.call("trunk.register", name="reg")  # the refresh falls due while it is gone
        failed = box.wait_for("the registration shown failed", lambda: (
            r := registration(box))["state"] == "failed" and r, timeout=15)
        assert failed["next_retry_in_s"] is not None, failed  # pjsua retries by itself
        assert box.port("fxs3")["with"] == "fxs4"  # the internal call never noticed

        ip("-n", netns, "addr", "add", f"{ADDRESS}/24", "dev", "lo")  # and comes back
        box.wait_for("registered again, by itself",
                     lambda: registration(box)["state"] == "registered", timeout=40)
        for p in (1, 3, 4):
            box.phone(p, "onhook")
        box.wait_for("no stuck call", lambda: at_rest(box.call("status")) == [], timeout=60)
        assert box.proc.poll() is None and "Traceback" not in box.log()
    finally:
        assert box.stop() == 0, box.log()
        sipp.kill()
        sipp.wait()
        registrar.close()
