"""A Kamailio hub for the multi-site tests: the configuration ``minipbx hub render`` makes
for the given sites, on a free port of 127.0.0.1, in a temp dir, started and restarted by
the test and killed after it."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from firmware.app.hubcfg import dispatcher_list, parse_sites, render
from tests.e2e.harness import free_port
from tests.e2e.peers import Peer

LOCALHOST = "127.0.0.1"


class Hub:
    """kamailio -DD -E with the rendered hub configuration; ``start``/``stop`` may repeat
    (the same port and configuration, an empty location table each time)."""

    def __init__(self, workdir: Path, sites: list[dict[str, str]],
                 shared: list[dict[str, object]] | None = None, *, children: int = 2,
                 flood_requests: int = 400, port: int | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.port = port or free_port()
        self.tls_port = free_port(socket.SOCK_STREAM) if tls else 0
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        # A unix socket path must be short (108 bytes): keep it under /tmp.
        self.run_dir = Path(tempfile.mkdtemp(prefix="hub", dir="/tmp"))
        self.ctl = self.run_dir / "ctl.sock"
        doc: dict[str, object] = {
            "hub": {"listen": LOCALHOST, "port": self.port, "ctl": f"unix:{self.ctl}",
                    "children": children, "flood_requests": flood_requests,
                    **({"transports": ["udp", "tls"], "tls_port": self.tls_port,
                        "tls_cert": str(tls[0]), "tls_key": str(tls[1])} if tls else {})},
            "site": sites, "shared": shared or []}
        spec = parse_sites(doc, "test sites")
        self.cfg = workdir / "kamailio.cfg"
        listing = workdir / "dispatcher.list"
        self.cfg.write_text(render(spec, str(listing)))
        listing.write_text(dispatcher_list(spec))
        check = subprocess.run(["kamailio", "-c", "-M", "64", "-f", str(self.cfg)],
                               capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise AssertionError(f"kamailio rejects the rendered hub:\n{check.stderr}")
        self.peer: Peer | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        self.peer = Peer(f"kamailio{self.runs}", self.workdir, [
            "kamailio", "-DD", "-E", "-f", str(self.cfg), "-Y", str(self.run_dir),
            "-P", str(self.run_dir / "kamailio.pid"), "-w", str(self.run_dir),
            "-m", "128", "-M", "64"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if not self.peer.running():
                raise AssertionError(f"kamailio exited:\n{self.peer.describe()}")
            if self.ctl.exists() and self.kamcmd("core.version").returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"kamailio not ready:\n{self.peer.describe()}")

    def stop(self) -> None:
        if self.peer is not None:
            self.peer.kill()
            self.peer = None
        self.ctl.unlink(missing_ok=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def kamcmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kamcmd", "-s", f"unix:{self.ctl}", *args],
                              capture_output=True, text=True, timeout=10)

    def registered(self) -> dict[str, str]:
        """Site name -> its registered contact, from ``ul.dump``."""
        out = self.kamcmd("ul.dump").stdout
        found: dict[str, str] = {}
        for block in re.split(r"\n(?=\s*AoR:)", out):
            aor = re.search(r"AoR:\s*(\S+)", block)
            contact = re.search(r"Address:\s*(\S+)", block)
            if aor and contact:
                found[aor.group(1)] = contact.group(1)
        return found

    def log(self) -> str:
        return self.peer.output()[-6000:] if self.peer is not None else ""
