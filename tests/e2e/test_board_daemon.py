"""`minipbx run --board NAME` with a real line-board backend: the daemon drives the line
co-processor over a real pseudo-terminal, where the emulator runs the co-processor's own
MicroPython logic with virtual handsets. A rotary call between two handsets goes through
the whole box: pulses counted by the co-processor, ringing with its cadence, ring trip."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, Daemon, free_even_port
from tests.support import load_tool

pytestmark = pytest.mark.slow


@pytest.fixture
def emulator() -> Iterator[object]:
    emu = load_tool("coproc_emulator").CoprocEmulator("SSO").start()
    yield emu
    emu.stop()


def board_profile(tmp: Path, device: str) -> Path:
    """The shipped co-processor profile, pointed at the emulator's pty and without the USB
    codecs this machine lacks (the ports then carry silence)."""
    text = (ROOT / "board" / "ag1171-coproc-2p.toml").read_text()
    text = text.replace('device = "/dev/serial0"', f'device = "{device}"')
    text = re.sub(r"^audio = \{.*\}\n", "", text, flags=re.M)
    path = tmp / "ag1171-coproc-2p.toml"  # a profile's name must match its file name
    path.write_text(text)
    return path


def test_rotary_call_over_the_coprocessor(daemon_factory, emulator,  # type: ignore[no-untyped-def]
                                          tmp_path: Path) -> None:
    emu = emulator
    profile = board_profile(tmp_path, emu.path)
    box: Daemon = daemon_factory(
        f'[box]\nboard = "{profile}"\n[sip]\nport = 0\nrtp_port = {free_even_port()}\n'
        '[[fxs]]\nport = 1\nextension = "101"\n[[fxs]]\nport = 2\nextension = "102"\n'
        '[[fxo]]\nport = 1\nextension = "101"\n')
    status = box.call("status")
    assert status["board"] == "ag1171-coproc-2p"

    emu.offhook(0)
    box.wait_for("fxs1 off-hook", lambda: box.port("fxs1")["line_state"] == "offhook")
    emu.dial(0, "102")  # 10 pps, 60/40: the co-processor counts the pulses
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    box.wait_for("the co-processor to drive the ringer", lambda: any(
        rm for _, rm in emu.ring_edges(1)), timeout=5)

    emu.offhook(1)  # ring trip, then the call
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2", timeout=10)
    assert not box.port("fxs2")["ringing"]
    time.sleep(0.3)
    with emu.locked():
        last = emu.ring_edges(1)[-1]
    assert last[1] is False  # RM is off: the ringer stopped

    emu.onhook(1)
    box.wait_for("the call to end", lambda: box.port("fxs1")["with"] is None, timeout=10)
    emu.onhook(0)
    box.wait_for("fxs1 idle", lambda: box.port("fxs1")["line_state"] == "idle", timeout=10)
