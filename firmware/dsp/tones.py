"""Call-progress tones: their description (ToneSpec) and a streaming generator.

Rules:

- A tone is a cadence of steps. Each step is silence, one or more added sines
  (f1+f2+...), or one sine amplitude-modulated by another (f1*f2, like India's 400*25),
  at `level_dbm0` per sine (for a modulated step, the carrier's level).
- `intro` steps play `intro_times` times, once at the start; then `steps` repeat for
  ever. A step with no duration lasts for ever (a continuous tone, or "play the intro,
  then continue with this", like a stutter dial tone). A tone never ends by itself.
- Modulation depth is MODULATION_DEPTH (90 %, the depth Asterisk's indications use).
- The generator is phase-continuous: every sine is a function of the sample count since
  the generator was made, so reads of any size join without clicks, and a step that
  follows another with the same frequency carries on with the same phase.
- Output is int16, saturated (never wrapped) where a loud multi-frequency step peaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware.dsp.levels import dbm0_to_amplitude, to_int16

MODULATION_DEPTH = 0.9
TONE_NAMES = ("dial", "busy", "ringback", "congestion", "callwaiting", "stutter", "howler")


@dataclass(frozen=True)
class ToneStep:
    """One step of a cadence; empty `freqs` is silence, `duration_ms` None is for ever."""

    freqs: tuple[float, ...] = ()
    duration_ms: float | None = None
    level_dbm0: float = -13.0
    modulation_hz: float | None = None

    @property
    def silent(self) -> bool:
        return not self.freqs

    def components(self) -> tuple[tuple[float, float], ...]:
        """(frequency Hz, relative amplitude) of every line in the step's spectrum."""
        if self.modulation_hz is None:
            return tuple((f, 1.0) for f in self.freqs)
        side = MODULATION_DEPTH / 2.0
        lines: list[tuple[float, float]] = []
        for f in self.freqs:
            lines += [(f, 1.0), (f - self.modulation_hz, side), (f + self.modulation_hz, side)]
        return tuple(lines)


@dataclass(frozen=True)
class ToneSpec:
    """A named call-progress tone: an optional intro, then a cadence repeated for ever."""

    name: str
    steps: tuple[ToneStep, ...]
    intro: tuple[ToneStep, ...] = ()
    intro_times: int = 1
    note: str = ""

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"tone {self.name!r} has no steps")
        for position, step in enumerate(self.intro + self.steps):
            if step.duration_ms is None and position != len(self.intro + self.steps) - 1:
                raise ValueError(f"tone {self.name!r}: only the last step may last for ever")
            if step.duration_ms is not None and step.duration_ms <= 0:
                raise ValueError(f"tone {self.name!r}: step durations must be positive")
            if step.modulation_hz is not None and len(step.freqs) != 1:
                raise ValueError(f"tone {self.name!r}: a modulated step has one carrier")

    @property
    def continuous(self) -> bool:
        """True for a steady tone (one sounding step that never ends, no intro)."""
        return not self.intro and len(self.steps) == 1 and not self.steps[0].silent

    @property
    def period_ms(self) -> float | None:
        """Length of the repeating cadence, or None if it ends in an endless step."""
        if any(s.duration_ms is None for s in self.steps):
            return None
        return float(sum(s.duration_ms or 0.0 for s in self.steps))

    def frequencies(self) -> tuple[float, ...]:
        """Every sine frequency the tone sounds (carriers; not modulation sidebands)."""
        found = {f for step in self.intro + self.steps for f in step.freqs}
        return tuple(sorted(found))


class ToneGenerator:
    """Endless, cadence-aware, phase-continuous samples of one tone (see the rules)."""

    def __init__(self, tone: ToneSpec, sample_rate: int = 8000) -> None:
        self.tone = tone
        self.sample_rate = sample_rate
        self._schedule = [tone.intro] * tone.intro_times if tone.intro else []
        self._plan = [step for part in self._schedule for step in part]
        self._loop_start = len(self._plan)
        self._plan += list(tone.steps)
        self._lengths = [None if s.duration_ms is None
                         else max(1, round(s.duration_ms * sample_rate / 1000.0))
                         for s in self._plan]
        self._index = 0
        self._left = self._lengths[0]
        self._clock = 0  # samples generated so far: the phase reference

    def read(self, n: int) -> npt.NDArray[np.int16]:
        """The next `n` samples."""
        if n < 0:
            raise ValueError("cannot read a negative number of samples")
        out = np.empty(n, dtype=np.float64)
        done = 0
        while done < n:
            take = n - done if self._left is None else min(self._left, n - done)
            out[done:done + take] = self._render(self._plan[self._index], take)
            done += take
            self._clock += take
            if self._left is not None:
                self._left -= take
                if self._left == 0:
                    self._advance()
        return to_int16(out)

    def _advance(self) -> None:
        self._index += 1
        if self._index == len(self._plan):
            self._index = self._loop_start
        self._left = self._lengths[self._index]

    def _render(self, step: ToneStep, count: int) -> npt.NDArray[np.float64]:
        if step.silent:
            return np.zeros(count)
        t = (np.arange(count, dtype=np.float64) + self._clock) / self.sample_rate
        amplitude = dbm0_to_amplitude(step.level_dbm0)
        wave = np.zeros(count)
        for f in step.freqs:
            wave += np.sin(2.0 * np.pi * f * t)
        if step.modulation_hz is not None:
            wave *= 1.0 + MODULATION_DEPTH * np.cos(2.0 * np.pi * step.modulation_hz * t)
        result: npt.NDArray[np.float64] = amplitude * wave
        return result


def generate_tone(tone: ToneSpec, seconds: float, sample_rate: int = 8000
                  ) -> npt.NDArray[np.int16]:
    """The first `seconds` of a tone."""
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    return ToneGenerator(tone, sample_rate).read(round(seconds * sample_rate))
