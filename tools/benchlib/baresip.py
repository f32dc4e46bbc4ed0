"""A headless baresip answering calls on 127.0.0.1, for CPU comparisons.

It plays a sine (ausine) into every call and sends what it hears to a player:

- ``paced``: ALSA's ``null`` device with ``alsa_pace.so`` preloaded, so each write takes
  the audio's real duration, as on a sound card (built here with gcc on first use);
- ``null``: ALSA's ``null`` device as it is (never blocks: the player thread spins);
- ``aufile``: the aufile module writing a WAV file (it paces itself on its own timer).

The account's user is the number the box dials, so baresip takes the call (it refuses
a request URI whose user has no account: "UA not found").
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

LOCALHOST = "127.0.0.1"
SHIM_SOURCE = Path(__file__).with_name("alsa_pace.c")
PLAYERS = ("paced", "null", "aufile")


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


def build_pace_shim(out_dir: Path) -> tuple[Path | None, str]:
    """Compile alsa_pace.so into ``out_dir``; (path, "") or (None, why not)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        return None, "no C compiler"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "alsa_pace.so"
    result = subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-o", str(target),
                             str(SHIM_SOURCE), "-ldl"], capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        return None, f"gcc failed: {result.stderr.strip()[-300:]}"
    return target, ""


class Baresip:
    def __init__(self, workdir: Path, user: str, player: str = "paced",
                 shim: Path | None = None, sip_port: int | None = None,
                 name: str = "baresip") -> None:
        if player not in PLAYERS:
            raise ValueError(f"player must be one of {PLAYERS}")
        if player == "paced" and shim is None:
            raise ValueError("the paced player needs the alsa_pace.so shim")
        self.player = player
        self.sip_port = sip_port or free_udp_port()
        self.home = workdir / name
        self.home.mkdir(parents=True, exist_ok=True)
        audio_player = (f"aufile,{self.home / 'heard.wav'}" if player == "aufile"
                        else "alsa,null")
        modules = ["g711.so", "ausine.so", "aufile.so" if player == "aufile" else "alsa.so"]
        (self.home / "config").write_text("\n".join([
            "poll_method epoll",
            f"sip_listen {LOCALHOST}:{self.sip_port}",
            "sip_transports udp",
            f"net_interface {LOCALHOST}",
            f"audio_player {audio_player}",
            "audio_source ausine,440",
            "audio_alert aufile,/dev/null" if player == "aufile" else "audio_alert alsa,null",
            "ausrc_srate 48000",  # ausine makes 48 kHz stereo only
            "auplay_srate 8000",
            "ausrc_channels 2",
            "auplay_channels 1",
            "rtp_timeout 0",
            "call_max_calls 8",
            "module_path /usr/lib/baresip/modules",
            *(f"module {m}" for m in modules),
            "module_app account.so",
            "module_app menu.so",
            "",
        ]))
        (self.home / "accounts").write_text(
            f"<sip:{user}@{LOCALHOST}:{self.sip_port}>;regint=0;answermode=auto;"
            "audio_codecs=PCMU\n")
        (self.home / "contacts").write_text("")
        env = dict(os.environ)
        if player == "paced" and shim is not None:
            env["LD_PRELOAD"] = str(shim)
        self.log_path = self.home / "baresip.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(["baresip", "-f", str(self.home)], cwd=self.home,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_die_with_parent)
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baresip exited {self.proc.returncode}:\n{self.log()}")
            if "baresip is ready" in self.log():
                return
            time.sleep(0.05)
        raise RuntimeError(f"baresip not ready in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
