"""Helpers for the call recording tests: find a call's recording, decode it with opusdec
(an independent decoder), and find a tone in each channel."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np

from tests.e2e.harness import Daemon


def recordings(root: Path) -> list[dict[str, Any]]:
    """Every recording's metadata under ``root``, oldest first."""
    found = [json.loads(p.read_text()) for p in sorted(root.glob("*/*.json"))]
    return sorted(found, key=lambda m: m["started"])


def wait_ready(box: Daemon, root: Path, count: int = 1,
               timeout: float = 30.0) -> list[dict[str, Any]]:
    """The recordings once ``count`` of them are encoded (ready or failed)."""
    def done() -> list[dict[str, Any]] | None:
        items = recordings(root)
        if len(items) >= count and all(i["state"] in ("ready", "failed") for i in items):
            return items
        return None
    result: list[dict[str, Any]] = box.wait_for(f"{count} recordings encoded", done,
                                                timeout=timeout)
    return result


def decode(opus: Path, tmp: Path) -> tuple[np.ndarray, int]:
    """(samples as frames x channels, rate) of an Ogg Opus file, decoded by opusdec."""
    out = tmp / (opus.stem + ".decoded.wav")
    subprocess.run(["opusdec", "--quiet", "--rate", "8000", str(opus), str(out)],
                   check=True, capture_output=True, timeout=60)
    with wave.open(str(out)) as w:
        channels, rate = w.getnchannels(), w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return data.reshape(-1, channels), rate


def tone_power(samples: np.ndarray, hz: float, rate: int = 8000) -> float:
    """The share of the signal's power within 20 Hz of ``hz`` (0..1)."""
    x = samples.astype(np.float64)
    if not len(x) or not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    band = (freqs > hz - 20) & (freqs < hz + 20)
    return float(spectrum[band].sum() / spectrum.sum())
