"""A simulated 2-wire hybrid: part of what the line plays into a handset comes back with
what the handset says, as echo (issue 11, the line echo canceller's end-to-end test).

The echo path is an impulse response of ``tail_ms`` (a bulk delay, then up to 12 ms of
dispersion, no DC), scaled so that white noise returns ``erl_db`` below what was sent (the
echo return loss). What the line wrote is queued frame by frame; each frame the line reads
takes the oldest written frame (silence if none) through the path and adds its echo, so the
echo lags what was played by the path's delay only, as on a board whose playback and
capture share one clock.

Off unless asked for: ``SimFxsPort.set_hybrid()``, or ``$MINIPBX_SIM_HYBRID`` =
``"TAIL_MS:ERL_DB"`` (for example ``"32:10"``) for every simulated handset of a daemon.
"""

from __future__ import annotations

import os
import threading
from collections import deque

import numpy as np

ENV_HYBRID = "MINIPBX_SIM_HYBRID"
TAIL_MS_RANGE = (1, 128)
ERL_DB_RANGE = (0.0, 60.0)
QUEUED_FRAMES = 5  # written frames kept waiting for reads at most (100 ms); the oldest go
RATE = 8000


def echo_path(tail_ms: int, erl_db: float, seed: int = 1) -> np.ndarray:
    """The hybrid's impulse response: unit energy times the ERL's amplitude."""
    rng = np.random.default_rng(seed)
    length = tail_ms * RATE // 1000
    dispersion = min(length, 96)
    delay = int(rng.integers(0, length - dispersion + 1))
    n = np.arange(dispersion)
    shape = rng.standard_normal(dispersion) * np.exp(-n / (dispersion / 5.0))
    shape = np.convolve(shape, [1.0, -0.9])[:dispersion]
    path = np.zeros(length)
    path[delay:delay + dispersion] = shape
    path *= 10.0 ** (-erl_db / 20.0) / np.sqrt(path @ path)
    return path


class SimHybrid:
    def __init__(self, tail_ms: int, erl_db: float, seed: int = 1) -> None:
        lo, hi = TAIL_MS_RANGE
        if not lo <= tail_ms <= hi:
            raise ValueError(f"simulated hybrid: tail of {tail_ms} ms is out of range "
                             f"({lo} to {hi} ms)")
        if not ERL_DB_RANGE[0] <= erl_db <= ERL_DB_RANGE[1]:
            raise ValueError(f"simulated hybrid: echo return loss of {erl_db} dB is out of "
                             f"range ({ERL_DB_RANGE[0]:g} to {ERL_DB_RANGE[1]:g} dB)")
        self.tail_ms = tail_ms
        self.erl_db = erl_db
        self._path = echo_path(tail_ms, erl_db, seed)
        self._lock = threading.Lock()
        self._sent: deque[bytes] = deque(maxlen=QUEUED_FRAMES)
        self._history = np.zeros(self._path.size - 1)

    def sent(self, frame: bytes) -> None:
        """A frame the line played into the handset."""
        with self._lock:
            self._sent.append(frame)

    def returned(self, said: bytes) -> bytes:
        """What the handset said, with the echo of the oldest frame played added."""
        with self._lock:
            far = self._sent.popleft() if self._sent else b""
        near = np.frombuffer(said, "<i2").astype(np.float64)
        played = np.zeros(near.size)
        if far:
            samples = np.frombuffer(far, "<i2")[:near.size]
            played[:samples.size] = samples
        x = np.concatenate((self._history, played))
        echo = np.convolve(x, self._path, mode="valid")
        self._history = x[x.size - self._history.size:]
        out = np.clip(np.rint(near + echo), -32768, 32767).astype("<i2")
        return out.tobytes()

    def describe(self) -> dict[str, object]:
        return {"tail_ms": self.tail_ms, "erl_db": self.erl_db}


def hybrid_from_env(env: dict[str, str] | None = None) -> SimHybrid | None:
    """The hybrid ``$MINIPBX_SIM_HYBRID`` asks for ("TAIL_MS:ERL_DB"), or None."""
    text = (os.environ if env is None else env).get(ENV_HYBRID, "").strip()
    if not text:
        return None
    try:
        tail, erl = text.split(":")
        return SimHybrid(int(tail), float(erl))
    except ValueError as exc:
        raise ValueError(f"${ENV_HYBRID}={text!r}: want TAIL_MS:ERL_DB such as 32:10 "
                         f"({exc})") from None
