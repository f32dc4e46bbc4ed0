"""Runs the real daemon (pjsua2 inside) as a child process, and real SIP peers beside it.

pjsua2 can abort the interpreter (TOOLS.md), so it never runs inside pytest: the daemon is
``minipbx run`` in its own process, driven over its control socket exactly as a person
drives it with ``minipbx sim ...``. Every child gets PR_SET_PDEATHSIG so nothing outlives
the test run.
"""

from __future__ import annotations

import base64
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from firmware.app.client import ClientError, call
from firmware.dsp.tone_detect import detect_tones

ROOT = Path(__file__).resolve().parents[2]
MINIPBX = [sys.executable, "-m", "firmware.app.cli"]
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the test process goes."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_even_port() -> int:
    while True:
        p = free_port()
        if p % 2 == 0 and p < 65000:
            return p


class Daemon:
    """``minipbx run`` with a config of the test's, in a state dir of its own."""

    def __init__(self, tmp: Path, config: str | None = None, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.state = tmp / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.log_path = tmp / "daemon.log"
        args = [*MINIPBX, "--state-dir", str(self.state), "run", *(extra_args or [])]
        if config is not None:
            cfg = tmp / "minipbx.toml"
            cfg.write_text(config)
            args += ["--config", str(cfg)]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent,
                                     env={**os.environ, **(env or {})})

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        # Generous: four test workers starting daemons at once on two loaded cores have
        # taken over 20 s; a daemon that never comes up still fails here.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            try:
                status: dict[str, Any] = call(self.state, "status", timeout=2.0)
                return status
            except ClientError:
                time.sleep(0.1)
        raise AssertionError(f"daemon not ready in {timeout} s:\n{self.log()}")

    def call(self, cmd: str, timeout: float = 60.0, **args: Any) -> Any:
        return call(self.state, cmd, args, timeout=timeout)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    @property
    def sip_port(self) -> int:
        listen = self.call("status")["sip"]["listen"]["udp"]
        return int(listen.rsplit(":", 1)[1])

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"daemon did not stop on SIGTERM:\n{self.log()}") from None
        self._log.close()
        return self.proc.returncode

    # --- the virtual devices ---------------------------------------------------------------
    def phone(self, port: int, action: str) -> None:
        self.call("sim.phone.hook", port=port, action=action)

    def dial(self, port: int, digits: str, pulse: bool = False) -> None:
        self.call("sim.phone.dial", port=port, digits=digits, pulse=pulse, timeout=120)

    def hear(self, port: int, seconds: float) -> np.ndarray:
        result = self.call("sim.phone.record", port=port, seconds=seconds,
                           timeout=seconds + 30)
        return np.frombuffer(base64.b64decode(result["pcm"]), dtype="<i2")

    def speak(self, port: int, samples: np.ndarray) -> None:
        pcm = base64.b64encode(samples.astype("<i2").tobytes()).decode()
        self.call("sim.phone.play", port=port, pcm=pcm)

    def phone_status(self, port: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("sim.phone.status", port=port)
        return result

    def wait_for(self, what: str, predicate: Any, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what} (last: {last!r}):\n{self.log()}")

    def port(self, leg: str) -> dict[str, Any]:
        for p in self.call("status")["ports"]:
            if p["leg"] == leg:
                result: dict[str, Any] = p
                return result
        raise KeyError(leg)


def tones_in(samples: np.ndarray, country: str = "us") -> list[str]:
    from firmware.dsp.profiles import load_profile

    return [seg.name for seg in detect_tones(samples, load_profile(country))]


def level_dbfs(samples: np.ndarray) -> float:
    x = samples.astype(np.float64)
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return 20 * np.log10(max(rms, 1e-9) / 32768.0)


def dominant_hz(samples: np.ndarray, rate: int = 8000) -> float:
    x = samples.astype(np.float64) * np.hanning(samples.size)
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.argmax(spectrum) * rate / samples.size)


def sine(hz: float, seconds: float, dbfs: float = -12.0, rate: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    amp = 32767 * 10 ** (dbfs / 20)
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.int16)
