"""Real, independent SIP peers on loopback for the end-to-end tests: sipp, baresip and
kamailio, each a child process that dies with the test process (PR_SET_PDEATHSIG) and is
killed by the ``Peers`` owner at teardown.

- ``Sipp``: the built-in or a scenario file of ``tests/e2e/sipp`` (``@NAME@`` placeholders
  filled in per test), with its message log parsed into ``SipMessage`` objects so a test can
  read what the box really sent.
- ``Baresip``: a headless user agent (config dir written here) that plays a sine and records
  what it hears to a WAV file, driven over ctrl_tcp (netstring JSON) by ``BaresipCtrl``.
- ``Kamailio``: a registrar with digest authentication (one user, static password),
  foreground, with its own run dir and ctl socket; ``ul_dump()`` lists registrations.

Everything listens and sends on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.e2e.harness import die_with_parent, free_even_port, free_port

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "sipp"
LOCALHOST = "127.0.0.1"


# --- SIP messages as the peers logged them -------------------------------------------------
@dataclass
class SipMessage:
    direction: str  # "in" (the peer received it) or "out" (the peer sent it)
    text: str
    first_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @classmethod
    def parse(cls, direction: str, text: str) -> SipMessage:
        text = text.replace("\r\n", "\n").strip("\n")
        head, _, body = text.partition("\n\n")
        lines = head.split("\n")
        headers = []
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers.append((key.strip().lower(), value.strip()))
        return cls(direction, text, lines[0].strip(), headers, body)

    @property
    def method(self) -> str | None:
        """The request's method, or None for a response."""
        parts = self.first_line.split()
        return parts[0] if parts and not self.first_line.startswith("SIP/2.0") else None

    @property
    def status(self) -> int | None:
        """The response's status code, or None for a request."""
        parts = self.first_line.split()
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
            return int(parts[1])
        return None

    @property
    def request_uri(self) -> str:
        return self.first_line.split()[1] if self.method else ""

    @property
    def cseq_method(self) -> str:
        value = self.header("cseq") or ""
        return value.split()[-1] if value else ""

    def header(self, name: str) -> str | None:
        compact = {"f": "from", "t": "to", "v": "via", "i": "call-id", "m": "contact",
                   "l": "content-length", "c": "content-type"}
        wanted = name.lower()
        for key, value in self.headers:
            if compact.get(key, key) == wanted:
                return value
        return None

    def __str__(self) -> str:
        return f"[{self.direction}] {self.text}"


def uri_user(uri: str) -> str | None:
    m = re.search(r"sips?:([^@;>]+)@", uri)
    return m.group(1) if m else None


def name_addr(value: str) -> tuple[str | None, str | None]:
    """``"Carol" <sip:555@host>;tag=x`` -> ("Carol", "555")."""
    m = re.match(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>', value)
    if not m:
        return None, uri_user(value)
    name = m.group(1) if m.group(1) is not None else (m.group(2) or "").strip()
    return (name or None), uri_user(m.group(3))


# --- audio checks --------------------------------------------------------------------------
def loud_part(samples: np.ndarray, floor_dbfs: float = -45.0, rate: int = 8000) -> np.ndarray:
    """The 20 ms blocks of ``samples`` louder than ``floor_dbfs``, joined."""
    n = rate // 50
    blocks = samples[: samples.size // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    keep = 20 * np.log10(np.maximum(rms, 1e-9) / 32768.0) > floor_dbfs
    loud: np.ndarray = blocks[keep].reshape(-1).astype(np.int16)
    return loud


def tone_share(samples: np.ndarray, freqs: Sequence[float], rate: int = 8000,
               width_hz: float = 15.0) -> float:
    """The share of the power of ``samples`` within ``width_hz`` of each of ``freqs``."""
    x = samples.astype(np.float64) * np.hanning(samples.size)
    power = np.abs(np.fft.rfft(x)) ** 2
    hz = np.fft.rfftfreq(samples.size, 1 / rate)
    near = np.zeros(hz.size, dtype=bool)
    for f in freqs:
        near |= np.abs(hz - f) <= width_hz
    total = float(power.sum())
    return float(power[near].sum()) / total if total > 0 else 0.0


def each_tone_present(samples: np.ndarray, freqs: Sequence[float], rate: int = 8000,
                      within_db: float = 10.0) -> bool:
    """Every one of ``freqs`` is there, none more than ``within_db`` below the strongest."""
    x = samples.astype(np.float64) * np.hanning(samples.size)
    power = np.abs(np.fft.rfft(x)) ** 2
    hz = np.fft.rfftfreq(samples.size, 1 / rate)
    levels = [float(power[np.abs(hz - f) <= 10].max(initial=0.0)) for f in freqs]
    top = max(levels)
    return top > 0 and all(lv > 0 and 10 * np.log10(top / lv) <= within_db for lv in levels)


# --- the box's configuration ---------------------------------------------------------------
def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def _table(name: str, values: dict[str, object]) -> str:
    return "\n".join([f"[[{name}]]", *(f"{k} = {_toml(v)}" for k, v in values.items()), ""])


def box_config(trunks: Sequence[dict[str, object]] = (),
               outbound: Sequence[dict[str, object]] = (),
               inbound: Sequence[dict[str, object]] = (),
               fxs: Sequence[dict[str, object]] | None = None, web_port: int = 0) -> str:
    """A box config for SIP tests: SIP and the web page on 127.0.0.1, SIP on an OS-picked
    port (``port = 0``), the web page on ``web_port`` (0: OS-picked), a free even RTP port;
    two handsets 101 "Reception" and 102 "Office" by default."""
    if fxs is None:
        fxs = [{"port": 1, "extension": "101", "name": "Reception"},
               {"port": 2, "extension": "102", "name": "Office"}]
    parts = ['[box]\nname = "sip-test"\ncountry = "us"\nboard = "sim"\n',
             f'[sip]\nbind = "{LOCALHOST}"\nport = 0\nrtp_port = {free_even_port()}\n',
             f'[web]\nbind = "{LOCALHOST}"\nport = {web_port}\n']
    parts += [_table("fxs", f) for f in fxs]
    parts += [_table("trunk", t) for t in trunks]
    parts += [_table("outbound", o) for o in outbound]
    parts += [_table("inbound", i) for i in inbound]
    return "\n".join(parts)


def trunk_to(name: str, port: int, **more: object) -> dict[str, object]:
    """A trunk to a peer at 127.0.0.1:port, not registering unless ``more`` says so."""
    return {"name": name, "host": LOCALHOST, "port": port, "transport": "udp",
            "register": False, **more}


# --- processes -----------------------------------------------------------------------------
class Peer:
    """A child process with its output in ``workdir/<name>.log``."""

    def __init__(self, name: str, workdir: Path, args: list[str],
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.args = args
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, cwd=workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_parent, env=env)

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        """The exit code; the process is killed (and the test fails) if it overruns."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} still running after {timeout} s:\n"
                                 f"{self.describe()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\n{self.output()[-4000:]}"


class Sipp(Peer):
    """One sipp run. ``messages()`` reads its message log (-trace_msg)."""

    def __init__(self, workdir: Path, name: str, args: list[str]) -> None:
        self.message_file = workdir / f"{name}.messages"
        self.error_file = workdir / f"{name}.errors"
        self.screen_file = workdir / f"{name}.screen"
        full = ["sipp", *args, "-nostdin", "-trace_msg", "-message_file",
                str(self.message_file), "-trace_err", "-error_file", str(self.error_file),
                "-trace_screen", "-screen_file", str(self.screen_file)]
        super().__init__(name, workdir, full)

    def messages(self) -> list[SipMessage]:
        """Every SIP message sipp sent or received, in order."""
        if not self.message_file.exists():
            return []
        text = self.message_file.read_text(errors="replace")
        found = []
        # Each entry: "----... <date>\nUDP message received [N] bytes :\n\n<message>"
        # or "UDP message sent (N bytes):\n\n<message>".
        for chunk in re.split(r"^-{20,}[^\n]*\n", text, flags=re.MULTILINE):
            m = re.match(r"\s*\w+ message (received|sent)[^\n]*\n", chunk)
            if not m:
                continue
            direction = "in" if m.group(1) == "received" else "out"
            found.append(SipMessage.parse(direction, chunk[m.end():]))
        return found

    def received(self, method_or_code: str | int) -> list[SipMessage]:
        """Messages sipp received: requests by method ("INVITE") or responses by code."""
        out = []
        for msg in self.messages():
            if msg.direction != "in":
                continue
            wanted = msg.status if isinstance(method_or_code, int) else msg.method
            if wanted == method_or_code:
                out.append(msg)
        return out

    def describe(self) -> str:
        parts = [super().describe()]
        for f in (self.error_file, self.screen_file):
            if f.exists():
                parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}")
        parts.append("--- messages\n" + "\n".join(str(m) for m in self.messages())[-6000:])
        return "\n".join(parts)


def scenario(workdir: Path, name: str, **values: object) -> Path:
    """``tests/e2e/sipp/<name>.xml`` with ``@KEY@`` placeholders filled in, as a file in
    ``workdir``. Every placeholder must get a value."""
    text = (SCENARIOS / f"{name}.xml").read_text()
    for key, value in values.items():
        mark = f"@{key.upper()}@"
        if mark not in text:
            raise ValueError(f"scenario {name} has no {mark}")
        text = text.replace(mark, str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"scenario {name}: no value for {sorted(set(left))}")
    path = workdir / f"{name}-{free_port()}.xml"
    path.write_text(text)
    return path


def _udp_bound_by(pid: int, port: int) -> bool:
    """Process ``pid`` holds a UDP socket bound to 127.0.0.1:``port`` (/proc/net/udp's
    socket inode among the process's file descriptors)."""
    local = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
        inodes = {f"socket:[{f[9]}]" for f in (line.split() for line in lines)
                  if len(f) > 9 and f[1] == local}
        fds = Path(f"/proc/{pid}/fd")
        return any(os.readlink(fd) in inodes for fd in fds.iterdir()) if inodes else False
    except OSError:
        return False


# --- baresip -------------------------------------------------------------------------------
def netstring(data: bytes) -> bytes:
    return str(len(data)).encode() + b":" + data + b","


class BaresipCtrl:
    """A ctrl_tcp client: commands as netstring JSON, responses and events read back."""

    def __init__(self, port: int, timeout: float = 10.0,
                 running: Callable[[], bool] = lambda: True) -> None:
        """Connects to baresip's ctrl_tcp; ``running()`` false (baresip has exited) stops
        the wait at once."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((LOCALHOST, port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline or not running():
                    raise
                time.sleep(0.1)
        self._buf = b""
        self._token = 0
        self.events: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []

    def close(self) -> None:
        self.sock.close()

    def command(self, command: str, params: str = "", timeout: float = 10.0) -> dict[str, Any]:
        self._token += 1
        token = str(self._token)
        msg: dict[str, str] = {"command": command, "token": token}
        if params:
            msg["params"] = params
        self.sock.sendall(netstring(json.dumps(msg).encode()))
        response: dict[str, Any] = self._wait(
            lambda: next((r for r in self.responses if r.get("token") == token), None),
            timeout, f"response to {command}")
        return response

    def send(self, command: str, params: str = "") -> None:
        """Send without waiting for the response (for ``quit``)."""
        self._token += 1
        msg = {"command": command, "token": str(self._token), "params": params}
        self.sock.sendall(netstring(json.dumps(msg).encode()))

    def wait_event(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first event of ``kind`` (e.g. CALL_ESTABLISHED), received so far or later."""
        event: dict[str, Any] = self._wait(
            lambda: next((e for e in self.events if e.get("type") == kind), None),
            timeout, f"event {kind}")
        return event

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        self.poll(0.0)
        return [e for e in self.events if e.get("type") == kind]

    def _wait(self, find: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"baresip: no {what} in {timeout} s; events: "
                                     f"{[e.get('type') for e in self.events]}")
            self.poll(min(left, 0.2))

    def poll(self, timeout: float) -> None:
        self.sock.settimeout(timeout if timeout > 0 else 0.001)
        try:
            chunk = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError):
            chunk = b""
        if chunk:
            self._buf += chunk
        while True:
            head, sep, rest = self._buf.partition(b":")
            if not sep or not head.isdigit():
                break
            size = int(head)
            if len(rest) < size + 1:
                break
            payload, self._buf = rest[:size], rest[size + 1:]
            try:
                obj = json.loads(payload)
            except ValueError:
                continue
            if obj.get("event"):
                self.events.append(obj)
            elif obj.get("response"):
                self.responses.append(obj)


class Baresip(Peer):
    """Headless baresip: account ``bob`` on 127.0.0.1:sip_port with auto answer, a sine as
    its microphone (ausine), and what it decodes from each call dumped to a WAV file by the
    sndfile filter. No audio player is loaded: ALSA's null device would spin a core, and the
    decoder (and so the dump) runs without one."""

    def __init__(self, workdir: Path, name: str = "baresip", tone_hz: int = 440,
                 user: str = "bob", account: str | None = None,
                 codec: str = "PCMU") -> None:
        # ``codec``: the one audio codec baresip offers and accepts, PCMU or opus.
        self.user = user
        self.home = workdir / name
        # A port free_port() found can be taken by another test worker before baresip binds
        # it (seen with eight workers): baresip then exits at once, and it starts again on
        # fresh ports. Any other failure shows its log.
        for attempt in range(3):
            self._start(workdir, name, tone_hz, user, account, codec)
            try:
                self.ctrl = BaresipCtrl(self.ctrl_port, running=self.running)
                return
            except OSError:
                if self.running() or attempt == 2:
                    raise AssertionError(f"no ctrl_tcp on {self.ctrl_port}:\n"
                                         f"{self.describe()}") from None
                Peer.kill(self)  # no ctrl connection to close yet

    def _start(self, workdir: Path, name: str, tone_hz: int, user: str, account: str | None,
               codec: str) -> None:
        self.sip_port = free_port()
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        self.home.mkdir(parents=True, exist_ok=True)
        self.dump_dir = self.home / "dumps"
        self.dump_dir.mkdir(exist_ok=True)
        (self.home / "config").write_text("\n".join([
            "poll_method epoll",
            f"sip_listen {LOCALHOST}:{self.sip_port}",
            "sip_transports udp",
            f"net_interface {LOCALHOST}",
            f"audio_source ausine,{tone_hz}",
            "ausrc_srate 48000",
            "ausrc_channels 2",
            "rtp_timeout 0",
            f"snd_path {self.dump_dir}",
            "module_path /usr/lib/baresip/modules",
            "module opus.so" if codec == "opus" else "module g711.so",
            "module ausine.so",
            "module sndfile.so",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {LOCALHOST}:{self.ctrl_port}",
            "",
        ]))
        # ``account``: a whole accounts line instead (a phone registering to the box).
        (self.home / "accounts").write_text(account + "\n" if account else (
            f"<sip:{user}@{LOCALHOST}:{self.sip_port}>;regint=0;answermode=auto;"
            f"audio_codecs={codec}\n"))
        (self.home / "contacts").write_text("")
        super().__init__(name, workdir, ["baresip", "-f", str(self.home)])

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{LOCALHOST}:{self.sip_port}"

    def dumps(self) -> list[Path]:
        """The WAV files of what baresip decoded (sndfile's ``*-dec.wav``), oldest first."""
        return sorted(self.dump_dir.glob("*dec*.wav"), key=lambda p: p.stat().st_mtime)

    def heard(self) -> tuple[np.ndarray, int]:
        """What baresip heard in its last call: mono int16 samples and their rate."""
        files = self.dumps()
        if not files:
            raise AssertionError(f"baresip dumped no audio in {self.dump_dir}:\n"
                                 f"{self.describe()}")
        with wave.open(str(files[-1]), "rb") as w:
            data = w.readframes(w.getnframes())
            channels, rate = w.getnchannels(), w.getframerate()
        samples = np.frombuffer(data, dtype="<i2")
        return (samples[::channels] if channels > 1 else samples), rate

    def output(self) -> str:
        # Leave out the menu's once-a-tick call status lines ("[0:00:03] audio=...").
        return "\n".join(line for line in super().output().splitlines()
                         if line.strip() and not re.match(r"\[\d+:\d\d:\d\d\] ", line))

    def kill(self) -> None:
        if self.running():
            try:
                self.ctrl.send("quit")
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.ctrl.close()
        super().kill()


# --- kamailio ------------------------------------------------------------------------------
# What every kamailio configuration here shares: the globals (one worker, UDP on 127.0.0.1
# only), the modules of a stateful proxy, and the ctl socket that kamcmd talks to (the
# readiness check, ``ul_dump``). ``Kamailio`` formats a template with port, ctl, user,
# password and a test's values: a route's own braces are doubled.
KAMAILIO_GLOBALS = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
disable_tcp=yes
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="127.0.0.1:{port}"
"""
KAMAILIO_PROXY_MODULES = ("tm", "sl", "rr", "pv", "maxfwd", "textops", "siputils", "xlog")
KAMAILIO_CTL_MODULES = ("ctl", "kex")


def kamailio_template(route: str, modules: Sequence[str] = (), modparams: str = "") -> str:
    """A configuration template: the shared globals, the proxy's modules, ``modules`` (and
    their ``modparams`` lines), the ctl socket, then ``route`` (the routing blocks)."""
    loads = "".join(f'loadmodule "{name}.so"\n' for name in
                    (*KAMAILIO_PROXY_MODULES, *modules, *KAMAILIO_CTL_MODULES))
    return (f'{KAMAILIO_GLOBALS}\n{loads}\n{modparams}'
            f'modparam("ctl", "binrpc", "unix:{{ctl}}")\n\n{route}')


# The registrar (digest auth, one user) that is also an outbound proxy.
REGISTRAR_ROUTE = """request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("OPTIONS") && uri==myself && $rU==$null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (is_method("REGISTER")) {{
        if (!pv_auth_check("$fd", "{password}", "0", "1")) {{
            xlog("L_NOTICE", "REGISTER from $fu: challenge or bad credentials\\n");
            auth_challenge("$fd", "0");
            exit;
        }}
        if ($au != "{user}") {{
            sl_send_reply("403", "Forbidden");
            exit;
        }}
        consume_credentials();
        if (!save("location")) {{
            sl_reply_error();
        }}
        xlog("L_NOTICE", "registered $tu\\n");
        exit;
    }}
    # As an outbound proxy: a new INVITE (or its CANCEL) for elsewhere is relayed
    # statefully; the dialog then runs end to end (no Record-Route).
    if (!has_totag() && is_method("INVITE|CANCEL") && uri!=myself) {{
        xlog("L_NOTICE", "relaying $rm to $ru\n");
        if (!t_relay()) {{
            sl_reply_error();
        }}
        exit;
    }}
    sl_send_reply("403", "Not here");
    exit;
}}
"""
KAMAILIO_CFG = kamailio_template(REGISTRAR_ROUTE, modules=("usrloc", "registrar", "auth"),
                                 modparams='modparam("usrloc", "db_mode", 0)\n')


class Kamailio(Peer):
    """A registrar for one user with a static password (digest auth), on 127.0.0.1, that
    also relays new INVITEs for other hosts (an outbound proxy)."""

    def __init__(self, workdir: Path, user: str = "box", password: str = "s3cret",
                 name: str = "kamailio", template: str = KAMAILIO_CFG,
                 values: dict[str, object] | None = None) -> None:
        # ``template``: another configuration, formatted with port, ctl and ``values``.
        self.port = free_port()
        self.user = user
        self.password = password
        self.home = workdir / name
        self.home.mkdir(parents=True, exist_ok=True)
        # A unix socket path must be short (108 bytes): keep it under /tmp.
        self.run_dir = Path(_short_tmpdir("kam"))
        self.ctl = self.run_dir / "ctl.sock"
        self.cfg = self.home / "kamailio.cfg"
        self.cfg.write_text(template.format(port=self.port, ctl=self.ctl,
                                            password=password, user=user, **(values or {})))
        check = subprocess.run(["kamailio", "-c", "-f", str(self.cfg)], capture_output=True,
                               text=True, timeout=30)
        if check.returncode != 0:
            raise AssertionError(f"kamailio rejects its config:\n{check.stdout}{check.stderr}")
        super().__init__(name, workdir, [
            "kamailio", "-DD", "-E", "-f", str(self.cfg), "-Y", str(self.run_dir),
            "-P", str(self.run_dir / "kamailio.pid"), "-w", str(self.run_dir),
            "-m", "32", "-M", "8",
        ])
        self._wait_ready()

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"kamailio exited:\n{self.describe()}")
            if self.ctl.exists() and self.kamcmd("core.version", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"kamailio not ready:\n{self.describe()}")

    def kamcmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["kamcmd", "-s", f"unix:{self.ctl}", *args],
                                capture_output=True, text=True, timeout=10)
        if check and result.returncode != 0:
            raise AssertionError(f"kamcmd {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def ul_dump(self) -> str:
        return self.kamcmd("ul.dump").stdout

    def kill(self) -> None:
        super().kill()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _short_tmpdir(prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


# --- the owner -----------------------------------------------------------------------------
class Peers:
    """Starts peers for one test and kills every one of them at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir / "peers"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.started: list[Peer] = []
        self._names: dict[str, int] = {}

    def _name(self, base: str) -> str:
        n = self._names.get(base, 0) + 1
        self._names[base] = n
        return base if n == 1 else f"{base}{n}"

    def sipp(self, args: list[str], name: str = "sipp") -> Sipp:
        peer = Sipp(self.workdir, self._name(name), args)
        self.started.append(peer)
        return peer

    def sipp_uas(self, scenario_file: Path | None = None, rtp_echo: bool = True,
                 calls: int = 1, extra: list[str] | None = None) -> tuple[Sipp, int]:
        """sipp answering on a free port; returns it and that port, once sipp listens."""
        for attempt in range(3):
            port = free_port()
            args = ["-sf", str(scenario_file)] if scenario_file else ["-sn", "uas"]
            args += ["-i", LOCALHOST, "-p", str(port), "-m", str(calls)]
            if rtp_echo:
                args += ["-mi", LOCALHOST, "-mp", str(_free_rtp_port()), "-rtp_echo"]
            peer = self.sipp([*args, *(extra or [])], name="sipp-uas")
            # A port free_port() found may be taken by another test worker before sipp
            # binds it (it then exits at once): start again on fresh ports.
            deadline = time.monotonic() + 10.0
            while (peer.running() and not _udp_bound_by(peer.proc.pid, port)
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            if peer.running() or attempt == 2:
                return peer, port
        raise AssertionError("unreachable")

    def sipp_uac(self, target: str, service: str, scenario_file: Path | None = None,
                 rtp_echo: bool = False, extra: list[str] | None = None) -> Sipp:
        """sipp placing one call to ``target`` (host:port) for ``service`` (the user)."""
        args = ["-sf", str(scenario_file)] if scenario_file else ["-sn", "uac"]
        args += [target, "-s", service, "-i", LOCALHOST, "-p", str(free_port()), "-m", "1",
                 "-mi", LOCALHOST, "-mp", str(_free_rtp_port())]
        if rtp_echo:
            args.append("-rtp_echo")
        return self.sipp([*args, *(extra or [])], name="sipp-uac")

    def scenario(self, name: str, **values: object) -> Path:
        return scenario(self.workdir, name, **values)

    def baresip(self, tone_hz: int = 440, user: str = "bob",
                account: str | None = None, codec: str = "PCMU") -> Baresip:
        peer = Baresip(self.workdir, self._name("baresip"), tone_hz=tone_hz, user=user,
                       account=account, codec=codec)
        self.started.append(peer)
        return peer

    def kamailio(self, user: str = "box", password: str = "s3cret", template: str = KAMAILIO_CFG,
                 values: dict[str, object] | None = None) -> Kamailio:
        peer = Kamailio(self.workdir, user, password, name=self._name("kamailio"),
                        template=template, values=values)
        self.started.append(peer)
        return peer

    def close(self) -> None:
        for peer in reversed(self.started):
            with contextlib.suppress(Exception):  # keep killing the others
                peer.kill()


def _free_rtp_port() -> int:
    """A free even port whose odd neighbour (RTCP) is free too."""
    while True:
        port = free_port()
        if port % 2 or port > 64000:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((LOCALHOST, port + 1))
        except OSError:
            continue
        return port


def send_udp(port: int, data: bytes, wait_reply: float = 0.0,
             until: Callable[[SipMessage], bool] | None = None) -> bytes | None:
    """Send one datagram to 127.0.0.1:port. With ``wait_reply``, return the first reply
    (or the first for which ``until`` holds), or None if none came in that time."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOCALHOST, 0))
        s.sendto(data, (LOCALHOST, port))
        deadline = time.monotonic() + wait_reply
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                reply, _ = s.recvfrom(65536)
            except TimeoutError:
                return None
            if until is None or until(SipMessage.parse("in", reply.decode(errors="replace"))):
                return reply
        return None
