"""The site pings against a small SIP responder on loopback standing in for the hub:
states, round-trip times, and registering again when the hub forgets this site or comes
back after a silence."""

from __future__ import annotations

import asyncio
import socket

from firmware.app import sitewatch
from firmware.app.sitewatch import SiteWatch, sites_text
from firmware.config.loader import parse_config


class FakeHub(asyncio.DatagramProtocol):
    """Answers OPTIONS by Request-URI user: ``codes[user]`` (None: silence)."""

    def __init__(self, codes: dict[str, int | None]) -> None:
        self.codes = codes
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode()
        uri = text.split()[1]
        user = uri[4:].split("@")[0] if "@" in uri else ""
        code = self.codes.get(user, 200)
        if code is None:
            return
        via = next(line for line in text.split("\r\n") if line.startswith("Via:"))
        reply = f"SIP/2.0 {code} Whatever\r\n{via}\r\nContent-Length: 0\r\n\r\n"
        assert self.transport is not None
        self.transport.sendto(reply.encode(), addr)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(port: int) -> str:
    return (f'[site]\nname = "office1"\nprefix = "1xx"\n'
            f'[hub]\nhost = "127.0.0.1"\nport = {port}\npassword = "p"\nping_interval_s = 1\n'
            '[[peer_site]]\nname = "office2"\nprefix = "2xx"\n'
            '[[peer_site]]\nname = "office3"\nprefix = "3xx"\n')


async def scenario() -> None:
    port = free_udp_port()
    loop = asyncio.get_running_loop()
    hub = FakeHub({"office3": 404, "office1": 404})
    transport, _ = await loop.create_datagram_endpoint(lambda: hub,
                                                       local_addr=("127.0.0.1", port))
    registered: list[str] = []
    watch = SiteWatch(parse_config(config(port)), lambda: registered.append("again"))
    await watch.start()
    try:
        await asyncio.sleep(0.3)
        status = watch.status()
        assert status["hub"]["state"] == "up" and status["hub"]["rtt_ms"] is not None
        assert status["office2"]["state"] == "up" and status["office2"]["via"] == "hub"
        assert status["office3"]["state"] == "offline" and status["office3"]["code"] == 404
        # The hub does not know this site: it registers again at once.
        assert registered == ["again"]
        assert status["office1 (this site)"]["state"] == "offline"
        lines = sites_text(status)  # type: ignore[arg-type]
        assert lines[0] == "Sites:" and any("office3" in line and "offline (404)" in line
                                            for line in lines)
        # The hub goes silent, then answers again: this box registers again.
        hub.codes[""] = None
        await asyncio.sleep(2.2)
        assert watch.status()["hub"]["state"] == "no answer"
        del hub.codes[""]
        await asyncio.sleep(1.5)
        assert watch.status()["hub"]["state"] == "up"
        assert registered == ["again", "again"]
    finally:
        await watch.close()
        transport.close()


def test_states_and_registering_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sitewatch, "ANSWER_WAIT_S", 0.5)
    asyncio.run(scenario())
