"""RTP on the loopback captured with tshark, for measuring what a SIP caller was sent: when
its RFC 4733 key started and when the box's audio to it stopped (the barge-in of a prompt
into a SIP call), on the packets' capture instants."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from firmware.dsp.g711 import mulaw_to_linear

PCMU = 0


@dataclass(frozen=True)
class Packet:
    at: float  # capture instant (epoch seconds)
    src: int
    dst: int
    payload_type: int
    payload: bytes


# The box takes RTP ports from its [sip] rtp_port up, two a call (RTP and RTCP).
PORTS = 64


def box_ports(first: int) -> range:
    return range(first, first + PORTS)


class RtpCapture:
    """``tshark`` on ``lo`` for UDP to or from the box's RTP ports (from ``first`` up)."""

    def __init__(self, workdir: Path, first: int) -> None:
        self.port = first
        self.path = workdir / f"rtp-{first}-{time.monotonic_ns()}.pcapng"
        ports = f"udp portrange {first}-{first + PORTS - 1}"
        self.proc = subprocess.Popen(
            ["tshark", "-q", "-i", "lo", "-f", ports, "-w", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not self.path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the capture is running once its file exists, give it a moment

    def stop(self) -> list[Packet]:
        time.sleep(0.3)
        self.proc.terminate()
        self.proc.wait(10)
        out = subprocess.run(
            ["tshark", "-r", str(self.path), "-o", "rtp.heuristic_rtp:TRUE", "-T",
             "fields", "-e", "frame.time_epoch", "-e", "udp.srcport", "-e", "udp.dstport",
             "-e", "rtp.p_type", "-e", "rtp.payload", "-Y", "rtp"],
            capture_output=True, text=True, timeout=60, check=True).stdout
        packets = []
        for line in out.splitlines():
            cols = line.split("\t")
            if len(cols) < 5 or not cols[3]:
                continue
            packets.append(Packet(float(cols[0]), int(cols[1]), int(cols[2]), int(cols[3]),
                                  bytes.fromhex(cols[4].replace(":", ""))))
        return packets


def first_key(packets: list[Packet], to_ports: range) -> float | None:
    """Capture instant of the first telephone-event packet sent to one of ``to_ports``."""
    for p in packets:
        if p.dst in to_ports and p.payload_type not in (PCMU, 8, 13) and len(p.payload) == 4:
            return p.at
    return None


def last_sound(packets: list[Packet], from_ports: range, since: float,
               until: float = float("inf"), level: int = 300) -> float | None:
    """The instant of the last sample of magnitude >= ``level`` in the PCMU audio sent from
    ``from_ports`` between ``since`` and ``until``: its packet's capture instant plus its
    place in it (a packet carries the 20 ms before it was sent, so this is late by up to
    20 ms: the error is on the safe side)."""
    last = None
    for p in packets:
        if p.src not in from_ports or p.payload_type != PCMU or not since <= p.at <= until:
            continue
        samples = mulaw_to_linear(np.frombuffer(p.payload, dtype=np.uint8))
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= level)
        if loud.size:
            last = p.at + loud[-1] / 8000.0
    return last


def first_sound(packets: list[Packet], from_ports: range, since: float,
                level: int = 300) -> float | None:
    """The capture instant of the first PCMU packet sent from ``from_ports`` after
    ``since`` with a sample of magnitude >= ``level`` (where a prompt starts)."""
    for p in packets:
        if p.src not in from_ports or p.payload_type != PCMU or p.at < since:
            continue
        samples = mulaw_to_linear(np.frombuffer(p.payload, dtype=np.uint8))
        if np.abs(samples.astype(np.int32)).max() >= level:
            return p.at
    return None
