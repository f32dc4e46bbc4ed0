"""FXO far-end disconnect supervision: busy-tone cadence and long silence.

Rules:

- When the far end hangs up, many exchanges play busy or congestion tone instead of
  dropping loop current. BusyToneDetector watches 10 ms blocks for the profile's busy
  and congestion frequencies (ON_SHARE of the block's power at them, at least
  ON_LEVEL_DBM0) and declares a disconnect once the last `cycles` whole cadences of
  either tone have been seen, each on and off time within DURATION_TOLERANCE plus
  DURATION_SLACK_MS. Speech rarely keeps such a rhythm for four cycles.
- SilenceDetector declares silence once every 20 ms block has stayed below
  `threshold_dbm0` for `seconds`; any louder block starts the count again.
- Both are streaming: feed frames of any length; `feed` returns True from the moment the
  condition holds, and stays True until `reset()` (a latched disconnect).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firmware.dsp.goertzel import dft_table
from firmware.dsp.levels import dbm0_to_mean_square
from firmware.dsp.profiles import CountryProfile
from firmware.dsp.tones import ToneSpec

BLOCK_MS = 10.0
SILENCE_BLOCK_MS = 20.0
ON_LEVEL_DBM0 = -40.0
ON_SHARE = 0.5
DURATION_TOLERANCE = 0.2
DURATION_SLACK_MS = 30.0
DEFAULT_BUSY_CYCLES = 4


def _cadence(tone: ToneSpec) -> tuple[tuple[bool, float], ...]:
    """(sounding, ms) of each step of a tone's repeating cadence."""
    return tuple((not s.silent, s.duration_ms or 0.0) for s in tone.steps)


class _Blocks:
    """Cuts a stream into fixed blocks, keeping the remainder between feeds."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rest = np.zeros(0, dtype=np.float64)

    def take(self, samples: npt.ArrayLike) -> npt.NDArray[np.float64]:
        x = np.concatenate((self._rest, np.asarray(samples, dtype=np.float64)))
        whole = (x.size // self.size) * self.size
        self._rest = x[whole:]
        return x[:whole].reshape(-1, self.size)

    def clear(self) -> None:
        self._rest = np.zeros(0, dtype=np.float64)


class BusyToneDetector:
    """Disconnect by busy or congestion tone cadence (see the module rules)."""

    def __init__(self, profile: CountryProfile, cycles: int = DEFAULT_BUSY_CYCLES,
                 tones: tuple[str, ...] = ("busy", "congestion"), sample_rate: int = 8000
                 ) -> None:
        if cycles < 2:
            raise ValueError("need at least two cycles to call it a cadence")
        self.cycles = cycles
        specs = [profile.tone(name) for name in tones]
        self._cadences = [c for c in {_cadence(t) for t in specs} if any(on for on, _ in c)]
        if any(ms <= 0 for c in self._cadences for _, ms in c):
            raise ValueError("busy supervision needs cadenced tones, not steady ones")
        freqs = sorted({f for t in specs for step in t.steps for f, _ in step.components()})
        self._blocks = _Blocks(round(sample_rate * BLOCK_MS / 1000.0))
        self._block_ms = 1000.0 * self._blocks.size / sample_rate
        self._table = dft_table(freqs, self._blocks.size, sample_rate)
        self._on_level = dbm0_to_mean_square(ON_LEVEL_DBM0) * self._blocks.size
        self.reset()

    def reset(self) -> None:
        self._blocks.clear()
        self._state: bool | None = None
        self._run = 0
        self._history: list[tuple[bool, float]] = []  # finished (sounding, ms) segments
        self.detected = False

    def feed(self, samples: npt.ArrayLike) -> bool:
        """True once the far end's busy cadence has been heard (latched)."""
        blocks = self._blocks.take(samples)
        if self.detected or not blocks.size:
            return self.detected
        energy = np.einsum("ij,ij->i", blocks, blocks)
        coef = np.abs((blocks @ self._table).view(np.complex128))
        tonal = (coef * coef).sum(axis=1) * (2.0 / self._blocks.size)
        on = (energy >= self._on_level) & (tonal >= ON_SHARE * energy)
        for sounding in on.tolist():
            if sounding == self._state:
                self._run += 1
                continue
            if self._state is not None:
                self._history.append((self._state, self._run * self._block_ms))
                del self._history[:-64]
                if self._matches():
                    self.detected = True
                    return True
            self._state, self._run = sounding, 1
        return False

    def _matches(self) -> bool:
        for cadence in self._cadences:
            need = self.cycles * len(cadence)
            if len(self._history) < need:
                continue
            window = self._history[-need:]
            for rotation in range(len(cadence)):
                if all(self._fits(cadence[(rotation + j) % len(cadence)], seg)
                       for j, seg in enumerate(window)):
                    return True
        return False

    @staticmethod
    def _fits(step: tuple[bool, float], seg: tuple[bool, float]) -> bool:
        (want_on, want_ms), (is_on, ms) = step, seg
        slack = DURATION_TOLERANCE * want_ms + DURATION_SLACK_MS
        return want_on == is_on and abs(ms - want_ms) <= slack


class SilenceDetector:
    """Disconnect by long silence (see the module rules)."""

    def __init__(self, threshold_dbm0: float, seconds: float, sample_rate: int = 8000) -> None:
        if seconds <= 0:
            raise ValueError("silence time must be positive")
        self._blocks = _Blocks(round(sample_rate * SILENCE_BLOCK_MS / 1000.0))
        self._limit = dbm0_to_mean_square(threshold_dbm0) * self._blocks.size
        self._needed = max(1, round(seconds * 1000.0 / SILENCE_BLOCK_MS))
        self.reset()

    def reset(self) -> None:
        self._blocks.clear()
        self._quiet = 0
        self.detected = False

    @property
    def silent_ms(self) -> float:
        """How long the line has been quiet so far."""
        return self._quiet * SILENCE_BLOCK_MS

    def feed(self, samples: npt.ArrayLike) -> bool:
        """True once the line has stayed quiet for the whole time (latched)."""
        blocks = self._blocks.take(samples)
        if self.detected or not blocks.size:
            return self.detected
        loud = np.einsum("ij,ij->i", blocks, blocks) >= self._limit
        if loud.any():
            self._quiet = blocks.shape[0] - 1 - int(np.flatnonzero(loud)[-1])
        else:
            self._quiet += blocks.shape[0]
        self.detected = self._quiet >= self._needed
        return self.detected
