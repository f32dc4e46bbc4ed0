"""Each site's state and round-trip time, by SIP OPTIONS pings (``minipbx status``).

Every ``[hub] ping_interval_s`` the box sends, over UDP from a socket of its own:

- ``OPTIONS sip:HUB`` (no user): the hub answers itself: ``up`` and its round-trip time,
  or ``no answer``.
- ``OPTIONS sip:NAME@HUB`` for each other site reached through the hub: the hub relays it
  to that site's registration and the site's box answers (``up``, round trip through the
  hub); the hub's 404 says the site is not registered (``offline``); 408 or silence: the
  site's box does not answer (``no answer``).
- ``OPTIONS sip:THIS@HUB`` (itself, through the hub): when the hub answers 404, this box's
  registration is gone (the hub restarted and forgot it); the box registers again at once
  instead of waiting for its next refresh. The same happens when the hub answers again
  after a silence.
- ``OPTIONS`` straight to each peer site that has a host.

Over the hub's transport: UDP from a socket of its own, TCP or TLS over one connection of
its own to the hub (made again when it breaks; TLS without checking the hub's certificate,
as the box's SIP transport does). Pure asyncio; the SIP adapter is reached only through the
``reregister`` callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.config import Config

log = logging.getLogger(__name__)

ANSWER_WAIT_S = 6.0
"""Longer than the hub's own no-answer timer (fr_timer 4 s), so its 408 arrives first."""


@dataclass
class Target:
    name: str  # "hub", a site name, or this site's name
    uri: str
    host: str
    port: int
    kind: str  # "hub", "site" or "self"
    via: str = "hub"  # or "direct"
    transport: str = "udp"
    state: str = "unknown"
    rtt_ms: float | None = None
    code: int = 0
    since: float = field(default_factory=time.monotonic)
    last_seen: float | None = None

    def as_dict(self, now: float) -> dict[str, object]:
        return {"state": self.state, "rtt_ms": self.rtt_ms, "code": self.code,
                "via": self.via, "for_s": round(now - self.since, 1)}


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, on_reply: Callable[[bytes], None]) -> None:
        self.on_reply = on_reply

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.on_reply(data)
        except Exception:
            log.exception("site ping: bad reply from %s", addr)


class _Stream:
    """One TCP or TLS connection to the hub (or a peer), its replies read as they come."""

    def __init__(self, on_reply: Callable[[bytes], None]) -> None:
        self.on_reply = on_reply
        self.broken = True
        self.local: tuple[str, int] = ("127.0.0.1", 0)
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self, host: str, port: int, tls: bool) -> None:
        context = None
        if tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context), ANSWER_WAIT_S)
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            log.debug("site ping: cannot connect to %s:%d: %s", host, port, exc)
            return
        self._writer = writer
        self.local = writer.get_extra_info("sockname")[:2]
        self.broken = False
        self._reader_task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    key, _, value = line.partition(b":")
                    if key.strip().lower() in (b"content-length", b"l"):
                        length = int(value.strip() or b"0")
                body = await reader.readexactly(length) if length else b""
                self.on_reply(head + body)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.broken = True

    def send(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)

    def close(self) -> None:
        self.broken = True
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()


class SiteWatch:
    def __init__(self, config: Config, reregister: Callable[[], None]) -> None:
        self._reregister = reregister
        self.interval = float(config.hub.ping_interval_s)
        self.bind = config.sip.bind
        hub = config.hub
        self.targets: list[Target] = []
        tp = hub.transport
        param = "" if tp == "udp" else f";transport={tp}"
        if hub.host:
            base = f"{hub.host}:{hub.port}"
            self.targets.append(Target("hub", f"sip:{base}{param}", hub.host, hub.port, "hub",
                                       "direct", tp))
            if config.site.name:
                self.targets.append(Target(config.site.name,
                                           f"sip:{config.site.name}@{base}{param}",
                                           hub.host, hub.port, "self", "hub", tp))
        for peer in config.peer_site:
            if peer.host:
                pp = "" if peer.transport == "udp" else f";transport={peer.transport}"
                self.targets.append(Target(peer.name, f"sip:{peer.host}:{peer.port}{pp}",
                                           peer.host, peer.port, "site", "direct",
                                           peer.transport))
            elif hub.host:
                self.targets.append(Target(peer.name,
                                           f"sip:{peer.name}@{hub.host}:{hub.port}{param}",
                                           hub.host, hub.port, "site", "hub", tp))
        self._pending: dict[str, tuple[Target, float]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._streams: dict[tuple[str, int, str], _Stream] = {}
        self._task: asyncio.Task[None] | None = None
        self._local = ("127.0.0.1", 0)
        self._cseq = 0

    @property
    def enabled(self) -> bool:
        return bool(self.targets) and self.interval > 0

    async def start(self) -> None:
        if not self.enabled:
            return
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self._reply), local_addr=(self.bind, 0))
        self._transport = transport
        self._local = transport.get_extra_info("sockname")[:2]
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._transport is not None:
            self._transport.close()

    async def _run(self) -> None:
        while True:
            now = time.monotonic()
            self._expire(now)
            for target in self.targets:
                if target.transport != "udp":
                    await self._stream_for(target)
                self._send(target, now)
            await asyncio.sleep(self.interval)

    async def _stream_for(self, target: Target) -> _Stream:
        key = (target.host, target.port, target.transport)
        stream = self._streams.get(key)
        if stream is None or stream.broken:
            if stream is not None:
                stream.close()
            stream = _Stream(self._reply)
            self._streams[key] = stream
            await stream.connect(target.host, target.port, target.transport == "tls")
        return stream

    def _send(self, target: Target, now: float) -> None:
        assert self._transport is not None
        if any(t is target for t, _ in self._pending.values()):
            return  # the last ping still waits for its answer
        branch = "z9hG4bK" + secrets.token_hex(8)
        self._cseq += 1
        stream = self._streams.get((target.host, target.port, target.transport))
        host, port = stream.local if stream is not None else self._local
        msg = (f"OPTIONS {target.uri} SIP/2.0\r\n"
               f"Via: SIP/2.0/{target.transport.upper()} {host}:{port};branch={branch};"
               "rport\r\n"
               "Max-Forwards: 10\r\n"
               f"From: <sip:ping@{host}:{port}>;tag={secrets.token_hex(4)}\r\n"
               f"To: <{target.uri}>\r\n"
               f"Call-ID: {branch}@{host}\r\n"
               f"CSeq: {self._cseq} OPTIONS\r\n"
               "User-Agent: minipbx-sitewatch\r\n"
               "Content-Length: 0\r\n\r\n")
        self._pending[branch] = (target, now)
        try:
            if target.transport == "udp":
                self._transport.sendto(msg.encode(), (target.host, target.port))
            elif stream is None or stream.broken:
                raise OSError("no connection")
            else:
                stream.send(msg.encode())
        except OSError as exc:
            self._pending.pop(branch, None)
            self._set(target, "no answer", 0, None, now, f"cannot send: {exc}")

    def _expire(self, now: float) -> None:
        for branch, (target, sent) in list(self._pending.items()):
            if now - sent >= ANSWER_WAIT_S:
                del self._pending[branch]
                self._set(target, "no answer", 0, None, now, "no answer")

    def _reply(self, data: bytes) -> None:
        text = data.decode(errors="replace")
        first, _, rest = text.partition("\r\n")
        parts = first.split()
        if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit():
            return
        code = int(parts[1])
        if code < 200:
            return
        branch = ""
        for line in rest.split("\r\n"):
            if line.lower().startswith(("via:", "v:")) and "branch=" in line:
                branch = line.split("branch=", 1)[1].split(";", 1)[0].strip()
                break
        found = self._pending.pop(branch, None)
        if found is None:
            return
        target, sent = found
        now = time.monotonic()
        rtt = round((now - sent) * 1000.0, 1)
        reason = " ".join(parts[2:])
        if target.kind == "hub" or 200 <= code < 300:
            self._set(target, "up", code, rtt, now, reason)
        elif code in (404, 480, 503):
            self._set(target, "offline", code, None, now, reason)
        else:
            self._set(target, "no answer", code, None, now, reason)

    def _set(self, target: Target, state: str, code: int, rtt: float | None, now: float,
             why: str) -> None:
        before = target.state
        target.code, target.rtt_ms = code, rtt
        if state == "up":
            target.last_seen = now
        if state != before:
            target.state, target.since = state, now
            log.info("site %s: %s (%s)", target.name, state, why)
        hub_back = target.kind == "hub" and state == "up" and before == "no answer"
        forgotten = target.kind == "self" and state == "offline" and before != "offline"
        if hub_back or forgotten:
            log.warning("hub %s: registering again now", "is back" if hub_back
                        else "does not know this site")
            try:
                self._reregister()
            except Exception:
                log.exception("registering again failed")

    def status(self) -> dict[str, object]:
        now = time.monotonic()
        return {t.name if t.kind != "self" else f"{t.name} (this site)": t.as_dict(now)
                for t in self.targets}


def sites_text(sites: dict[str, dict[str, object]]) -> list[str]:
    """Lines for ``minipbx status``."""
    out = ["Sites:"] if sites else []
    for name, s in sites.items():
        rtt = f", {s['rtt_ms']} ms" if s.get("rtt_ms") is not None else ""
        code = f" ({s['code']})" if s.get("code") and s.get("state") != "up" else ""
        out.append(f"  {name:<20} {s['state']}{code}{rtt}, {s['via']}, "
                   f"for {s['for_s']:.0f} s")
    return out
