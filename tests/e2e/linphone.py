"""linphonec (Debian's linphone-cli), a second independent SIP phone for the tests: driven
through its standard input, read back from its output."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.e2e.harness import die_with_parent, free_port
from tests.e2e.peers import LOCALHOST


def available() -> bool:
    return shutil.which("linphonec") is not None


class Linphone:
    def __init__(self, workdir: Path, name: str = "linphone") -> None:
        self.home = workdir / name
        self.home.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port()
        rtp = free_port()
        (self.home / "rc").write_text("\n".join([
            "[sip]", f"sip_port={self.sip_port}", "sip_tcp_port=0", "sip_tls_port=0",
            "default_proxy=-1", "register_only_when_network_is_up=0",
            "[rtp]", f"audio_rtp_port={rtp}", "[net]", "ipv6=0",
            # No network monitor: this sandbox has no default route, which it takes as
            # "network down" and then opens no SIP socket at all.
            "auto_net_state_mon=0", "[misc]",
            "history_max_size=0", ""]))
        (self.home / ".local/share/linphone").mkdir(parents=True, exist_ok=True)
        self.log_path = self.home / "out.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            ["linphonec", "-c", str(self.home / "rc")], cwd=self.home,
            stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent, env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"})
        self.wait_output("linphonec>", timeout=15)

    def command(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_output(self, pattern: str, timeout: float = 10.0, since: int = 0) -> str:
        """The first line after offset ``since`` matching ``pattern`` (a regex)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            text = self.output()[since:]
            m = regex.search(text)
            if m:
                return m.group(0)
            if time.monotonic() > deadline:
                raise AssertionError(f"linphonec: no {pattern!r} in {timeout} s:\n"
                                     f"{text[-3000:]}")
            time.sleep(0.1)

    def register(self, user: str, box_port: int, password: str) -> None:
        box = f"{LOCALHOST}:{box_port}"
        self.command(f"register sip:{user}@{box} sip:{box} {password}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.command("quit")
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()
