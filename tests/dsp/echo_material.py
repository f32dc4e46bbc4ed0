"""Test material for the line echo canceller: speech, simulated hybrids and the figures.

Shared by tests/dsp/test_echo.py and tools/bench_echo.py, so both measure the same way.

- Speech is made by espeak-ng at test time and read through firmware.media.wavfile (its
  22.05 kHz becomes 8 kHz by firmware.dsp.resample); clips are cached in a folder the
  caller gives (a pytest tmp dir, or a temporary folder for the benchmark).
- A simulated hybrid is an impulse response: a bulk delay, then a decaying, high-passed
  random dispersion (a hybrid passes no DC), scaled so that the echo of the actual far-end
  material is `erl_db` below it (G.168 measures ERL with the test signal itself).
- ERLE is measured as G.168 defines it with the NLP off: the echo's power over the
  residual echo's, where the residual echo is the output minus what the near end added
  (the canceller's estimate depends on the far end only, so that difference is exactly
  the echo left). Only blocks where the echo is present count.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.dsp.levels import ZERO_DBM0_MEAN_SQUARE, to_int16
from firmware.media.wavfile import read_wav

FS = 8000
BLOCK = 160
FloatArray = npt.NDArray[np.float64]

FAR_TEXTS = [
    ("en", "Hello, this is the far end speaking over the internet telephone line. "
           "I am calling about the order you placed last Tuesday for three boxes."),
    ("en-us+f3", "The quick brown fox jumps over the lazy dog, and then it runs back "
                 "home across the wide green field before the evening rain."),
    ("en+m3", "Could you please tell me whether the meeting is still planned for "
              "half past four, or has it been moved to tomorrow morning?"),
]
NEAR_TEXTS = [
    ("de", "Guten Tag, hier spricht die Zentrale. Einen Moment bitte, ich verbinde Sie "
           "sofort mit der Buchhaltung im zweiten Stock."),
    ("fr+f2", "Bonjour, je vous entends tres bien. Pouvez-vous repeter le numero de la "
              "commande, s'il vous plait?"),
]
FAR_LEVEL_DBM0 = -16.0  # active speech level sent into the line
NEAR_LEVEL_DBM0 = -18.0  # near-end talker as it arrives at the hybrid
NOISE_LEVEL_DBM0 = -65.0  # near-end line noise


def speech(folder: Path, voice: str, text: str) -> FloatArray:
    """espeak-ng's rendering of `text` at 8 kHz, cached under `folder`."""
    key = hashlib.sha1(f"{voice}|{text}".encode()).hexdigest()[:16]
    path = folder / f"espeak-{key}.wav"
    if not path.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text],
                       check=True, capture_output=True)
    return read_wav(path).samples.astype(np.float64)


def at_level(signal: FloatArray, dbm0: float) -> FloatArray:
    """`signal` scaled so its active part (blocks above -30 dB of its peak) is at `dbm0`."""
    blocks = signal[: signal.size - signal.size % BLOCK].reshape(-1, BLOCK)
    powers = (blocks * blocks).mean(axis=1)
    active = powers[powers > powers.max() * 1e-3]
    target = ZERO_DBM0_MEAN_SQUARE * 10.0 ** (dbm0 / 10.0)
    scaled: FloatArray = signal * np.sqrt(target / active.mean())
    return scaled


def far_speech(folder: Path) -> FloatArray:
    return np.concatenate([at_level(speech(folder, v, t), FAR_LEVEL_DBM0) for v, t in FAR_TEXTS])


def near_speech(folder: Path) -> FloatArray:
    return np.concatenate([at_level(speech(folder, v, t), NEAR_LEVEL_DBM0)
                           for v, t in NEAR_TEXTS])


def noise(samples: int, dbm0: float, seed: int) -> FloatArray:
    """White Gaussian noise at `dbm0`."""
    rng = np.random.default_rng(seed)
    level = np.sqrt(ZERO_DBM0_MEAN_SQUARE * 10.0 ** (dbm0 / 10.0))
    out: FloatArray = rng.standard_normal(samples) * level
    return out


def hybrid(tail_ms: int, seed: int) -> FloatArray:
    """An echo path impulse response that fits in `tail_ms` (unit energy; see echo())."""
    rng = np.random.default_rng(seed)
    length = tail_ms * FS // 1000
    dispersion = min(length, 96)  # up to 12 ms of dispersion
    delay = int(rng.integers(0, length - dispersion + 1))
    n = np.arange(dispersion)
    shape = rng.standard_normal(dispersion) * np.exp(-n / (dispersion / 5.0))
    shape = np.convolve(shape, [1.0, -0.9])[:dispersion]  # no DC through a hybrid
    h = np.zeros(length)
    h[delay:delay + dispersion] = shape
    out: FloatArray = h / np.sqrt(h @ h)
    return out


def echo(far: FloatArray, path: FloatArray, erl_db: float) -> FloatArray:
    """The echo of `far` through `path`, `erl_db` below `far` over the whole signal."""
    raw = convolve(far, path)
    scale = np.sqrt((far @ far) / (raw @ raw) * 10.0 ** (-erl_db / 10.0))
    out: FloatArray = raw * scale
    return out


def blocks_of(signal: FloatArray) -> int:
    return signal.size // BLOCK * BLOCK


@dataclass(frozen=True)
class Call:
    """One simulated line: what the canceller gets, and the parts it does not see."""

    far: npt.NDArray[np.int16]  # Rin
    near: npt.NDArray[np.int16]  # Sin = echo + near-end speech + noise, as the board gives it
    echo: FloatArray
    near_clean: FloatArray  # what the near end added (speech and noise), before rounding

    @property
    def near_added(self) -> FloatArray:
        """Sin minus the echo: what the output should be once the echo is gone."""
        out: FloatArray = self.near.astype(np.float64) - self.echo
        return out


def make_call(far: FloatArray, echo_signal: FloatArray, near_added: FloatArray) -> Call:
    n = blocks_of(far)
    sin = to_int16(echo_signal[:n] + near_added[:n])
    return Call(far=to_int16(far[:n]), near=sin, echo=echo_signal[:n],
                near_clean=near_added[:n])


def erle_db(call: Call, out: npt.NDArray[np.int16], start: int, end: int,
            floor_dbm0: float = -70.0) -> float:
    """ERLE over samples start:end, counting blocks whose echo is above `floor_dbm0`."""
    residual = out.astype(np.float64) - call.near_added
    e = call.echo[start:end]
    r = residual[start:end]
    m = (e.size // BLOCK) * BLOCK
    eb = (e[:m].reshape(-1, BLOCK) ** 2).sum(axis=1)
    rb = (r[:m].reshape(-1, BLOCK) ** 2).sum(axis=1)
    present = eb > BLOCK * ZERO_DBM0_MEAN_SQUARE * 10.0 ** (floor_dbm0 / 10.0)
    return float(10.0 * np.log10(eb[present].sum() / max(rb[present].sum(), 1e-9)))


def convolve(signal: FloatArray, path: FloatArray) -> FloatArray:
    """Linear convolution by FFT (np.convolve is too slow for minutes of audio)."""
    size = 1 << int(np.ceil(np.log2(signal.size + path.size)))
    out: FloatArray = np.fft.irfft(np.fft.rfft(signal, size) * np.fft.rfft(path, size),
                                   size)[: signal.size]
    return out


def level_db(signal: FloatArray) -> float:
    """Mean square of `signal` in dBm0."""
    return float(10.0 * np.log10(max(float(signal @ signal) / signal.size, 1e-12)
                                 / ZERO_DBM0_MEAN_SQUARE))
