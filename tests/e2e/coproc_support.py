"""The co-processor board under the real daemon, for the tests that hurt its link: the
emulator (tools/coproc_emulator.py, the MCU's own code) behind a real pseudo-terminal,
the shipped board profile pointed at it, and a call between its two phones."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.harness import ROOT, Daemon, free_even_port
from tests.support import load_tool

RING_STOP = 0x13
COPROC = load_tool("coproc_emulator")


def start_box(daemon_factory: Callable[..., Daemon], tmp: Path, device: str,
              ring_hz: str | None = None) -> Daemon:
    """The shipped co-processor profile on the emulator's pty, without the USB codecs this
    machine lacks (the ports carry silence); ``ring_hz`` replaces its [ring] list."""
    text = (ROOT / "board" / "ag1171-coproc-2p.toml").read_text()
    text = text.replace('device = "/dev/serial0"', f'device = "{device}"')
    text = re.sub(r"^audio = \{.*\}\n", "", text, flags=re.M)
    if ring_hz is not None:
        text = re.sub(r"^frequencies_hz = .*$", f"frequencies_hz = {ring_hz}", text, flags=re.M)
    profile = tmp / "ag1171-coproc-2p.toml"  # a profile's name must match its file name
    profile.write_text(text)
    return daemon_factory(
        f'[box]\nboard = "{profile}"\ncountry = "us"\n'
        f'[sip]\nport = 0\nrtp_port = {free_even_port()}\n'
        '[[fxs]]\nport = 1\nextension = "101"\n[[fxs]]\nport = 2\nextension = "102"\n')


def call_102(box: Daemon, emu: Any) -> None:
    """Phone 1 lifts and dials 102 (pulses counted by the co-processor)."""
    emu.offhook(0)
    box.wait_for("fxs1 off-hook", lambda: box.port("fxs1")["line_state"] == "offhook")
    emu.dial(0, "102")
