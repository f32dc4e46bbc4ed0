"""Issue 7, "also": a trunk whose registrar does not answer showed a bare "registering"
for 32 s (Timer F), then "failed 408" with no word on a retry. Through the real daemon
against two UDP sockets of the test's: one takes REGISTERs and never answers, the other
answers each with 503. ``status`` shows the attempt and since when from the start, and
after a failure the code, the reason and when pjsua tries again; then it does."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firmware.app.status_text import format_status
from tests.e2e.harness import Daemon
from tests.e2e.peers import box_config, trunk_to

pytestmark = pytest.mark.slow


class Registrar:
    """A UDP socket on 127.0.0.1 that counts REGISTERs; answers each with ``code`` if
    given, else stays silent (a dead registrar)."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.code, self.reason = code, reason
        self.received = 0  # REGISTERs, retransmissions too
        self.transactions: set[tuple[str, str]] = set()  # (Call-ID, CSeq): one per attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("REGISTER "):
                continue
            headers = _headers(text)
            self.received += 1
            self.transactions.add((headers.get("call-id", [""])[0],
                                   headers.get("cseq", [""])[0]))
            if self.code is not None:
                self.sock.sendto(self._answer(headers).encode(), peer)

    def _answer(self, h: dict[str, list[str]]) -> str:
        lines = [f"SIP/2.0 {self.code} {self.reason}"]
        lines += [f"Via: {v}" for v in h.get("via", [])]
        to = h["to"][0]
        lines += [f"From: {h['from'][0]}", f"To: {to}" + ("" if "tag=" in to else ";tag=dead1"),
                  f"Call-ID: {h['call-id'][0]}", f"CSeq: {h['cseq'][0]}",
                  "Content-Length: 0", "", ""]
        return "\r\n".join(lines)


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id"}


def _headers(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.split("\r\n")[1:]:
        if not line:
            break
        name, _, value = line.partition(":")
        key = name.strip().lower()
        found.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return found


@pytest.fixture
def registrars() -> Iterator[tuple[Registrar, Registrar]]:
    silent, refusing = Registrar(), Registrar(503, "Service Unavailable")
    yield silent, refusing
    silent.close()
    refusing.close()


def registration(box: Daemon, trunk: str) -> dict[str, Any]:
    reg: dict[str, Any] = box.call("status")["sip"]["trunks"][trunk]["registration"]
    return reg


def test_registration_attempts_show_from_the_start(
        daemon_factory: Callable[..., Daemon], registrars: tuple[Registrar, Registrar]) -> None:
    silent, refusing = registrars
    box = daemon_factory(box_config(trunks=[
        trunk_to("dead", silent.port, register=True, username="box", password="pw"),
        trunk_to("refusing", refusing.port, register=True, username="box", password="pw"),
    ]))

    # The silent registrar: "registering", attempt 1, since the start, no answer yet.
    reg = registration(box, "dead")
    assert (reg["state"], reg["attempt"], reg["code"]) == ("registering", 1, 0), reg
    assert isinstance(reg["since"], float) and reg["next_retry_in_s"] is None, reg
    box.wait_for("the REGISTER at the silent registrar", lambda: silent.received, timeout=10)
    box.wait_for("the wait to grow", lambda: registration(box, "dead")["for_s"] >= 1.0)
    reg = registration(box, "dead")
    assert (reg["state"], reg["attempt"]) == ("registering", 1), reg
    assert "registering (attempt 1, no answer for" in format_status(box.call("status"))

    # The refusing one: "failed" with the code, the reason and the retry, then the retry.
    failed = box.wait_for("the 503", lambda: (r := registration(box, "refusing"))["state"]
                          == "failed" and r, timeout=15)
    assert (failed["code"], failed["reason"]) == (503, "Service Unavailable"), failed
    assert failed["next_retry_in_s"] is not None and failed["expires_s"] == 0, failed
    attempt = failed["attempt"]
    assert attempt >= 1, failed
    text = format_status(box.call("status"))
    assert "failed (503 Service Unavailable; attempt " in text and " in about " in text, text
    later = box.wait_for("pjsua's retry",
                         lambda: (n := registration(box, "refusing")["attempt"]) > attempt and n,
                         timeout=40)
    # Each attempt counted is a REGISTER transaction of its own on the wire.
    box.wait_for("the retry at the registrar", lambda: len(refusing.transactions) >= later)
    assert registration(box, "dead")["state"] == "registering"
