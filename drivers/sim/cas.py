"""A type II caller ID phone's side for the simulated handsets: it hears the CPE alerting
signal (CAS: 2130 + 2750 Hz together, 80 ms) while off-hook and answers with the DTMF
acknowledgement digit ``D`` (941 + 1633 Hz), as a call-waiting caller ID phone does
(Telcordia GR-30; ETSI EN 300 659 uses ``D`` too). The box then sends the FSK message,
which the handset's earpiece records like any other sound."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE = 8000
CAS_HZ = (2130.0, 2750.0)
ACK_HZ = (941.0, 1633.0)  # DTMF D
ACK_MS = 65
# Both CAS tones this strong (relative to the frame's energy) in two frames running.
SHARE = 0.3


@lru_cache(maxsize=8)
def _basis(hz: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of ``hz`` over a frame, made once: the handset runs this on every loud
    frame it hears, in the daemon's audio thread, whose CPU the box bench measures."""
    phase = 2.0 * np.pi * hz / RATE * np.arange(size)
    return np.cos(phase), np.sin(phase)


def _power(x: np.ndarray, hz: float) -> float:
    """Goertzel power of ``hz`` in ``x``, normalised by the frame's energy and length."""
    cos, sin = _basis(hz, x.size)
    re, im = float(np.dot(x, cos)), float(np.dot(x, sin))
    return (re * re + im * im) / (x.size * float(np.dot(x, x)) / 2 + 1e-9)


def ack_pcm() -> bytes:
    t = np.arange(int(RATE * ACK_MS / 1000)) / RATE
    tone = 0.25 * (np.sin(2 * np.pi * ACK_HZ[0] * t) + np.sin(2 * np.pi * ACK_HZ[1] * t))
    return (tone * 32767).astype("<i2").tobytes() + bytes(2 * 400)  # then 50 ms quiet


class CasResponder:
    """Feed it what the handset hears, frame by frame; it says when to acknowledge."""

    def __init__(self) -> None:
        self._run = 0
        self._answered = False

    def feed(self, frame: bytes) -> bool:
        """True once per CAS, at the frame that completes it."""
        x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        if x.size == 0 or float(np.dot(x, x)) / x.size < 1e4:  # quieter than ~-35 dBFS
            self._run, self._answered = 0, False
            return False
        both = all(_power(x, hz) > SHARE / 2 for hz in CAS_HZ)
        self._run = self._run + 1 if both else 0
        if not both:
            self._answered = False
            return False
        if self._run >= 2 and not self._answered:
            self._answered = True
            return True
        return False
