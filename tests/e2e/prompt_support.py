"""What the prompt tests share: lifting a handset, the cached audio of a prompt, the
normalized cross-correlation that says a prompt was heard, and the barge-in figure from the
virtual handset's timing hook."""

from __future__ import annotations

from typing import Any

import numpy as np

from firmware.app.promptcache import PromptCache
from tests.e2e.harness import Daemon

MATCH = 0.8
"""A prompt heard is the cached one: their best normalized correlation is near 1 through a
line (it adds no noise) and well above this through SIP's G.711 both ways."""
MISMATCH = 0.5
BARGE_IN_S = 0.100
LEVEL = 300


def lift(d: Daemon, port: int) -> None:
    d.phone(port, "offhook")
    d.wait_for("the handset off-hook", lambda: d.port(f"fxs{port}")["line_state"] == "offhook")


def cached(d: Daemon, ref: str, language: str) -> np.ndarray:
    pcm = PromptCache(d.state).pcm([ref], language)
    return np.frombuffer(b"".join(pcm), dtype="<i2").astype(np.float64)


def best_ncc(heard: np.ndarray, template: np.ndarray) -> float:
    """The highest normalized cross-correlation of ``template`` against any stretch of
    ``heard`` (both zero mean; each stretch normalized by its own energy)."""
    x = heard.astype(np.float64)
    t = template - template.mean()
    n = t.size
    if x.size < n:
        x = np.concatenate([x, np.zeros(n - x.size)])
    size = 1 << int(np.ceil(np.log2(x.size + n)))
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(t, size)), size)
    corr = corr[: x.size - n + 1]
    c = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    sums = c[n:] - c[:-n]
    energy = (c2[n:] - c2[:-n]) - sums * sums / n
    score = corr / np.sqrt(np.maximum(energy, 1e-9) * float(np.sum(t * t)))
    return float(score.max())


def key_to_silence(timing: dict[str, Any]) -> float:
    """Seconds from a key's first tone sample read from the handset's microphone to the
    last prompt sample it heard (``sim.phone.timing``: frame instants plus the sample)."""
    spoken, last = timing["spoken"], timing["last_heard"]
    assert spoken is not None and last is not None, timing
    return float((last["at"] + last["sample"] / 8000) - (spoken["at"] + spoken["sample"] / 8000))
