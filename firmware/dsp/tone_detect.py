"""Call-progress tone detection: which tone of a country profile is on the line.

Rules:

- The line is cut into 10 ms blocks from the first sample fed, analysed BATCH_BLOCKS at a
  time (numpy's cost is per call; a tone takes seconds to recognise anyway). A block is "on" when it
  is at least ON_LEVEL_DBM0 and ON_SHARE of its power lies at the frequencies of one of
  the profile's tone spectra (a "signature": the sines of a step, and the sidebands of a
  modulated one). Runs of on and off blocks are the segments of a cadence.
- What sounds in an on run is decided on up to CHUNK_MS of it at a time, by least
  squares: the run is projected onto the sines of each signature (free amplitude and
  phase per sine); the signature that explains at least EXPLAINED_SHARE of the power,
  with every one of its sines present (within COMPONENT_RANGE_DB of what its spectrum
  predicts), wins. 100 ms resolve 413+438 from 425 Hz and find the sidebands of 400*25.
  A change of signature inside a run splits it (UK special dial tone: 350+440 then 440).
- A tone is recognised when its last len(cadence)+1 finished segments (at least
  MIN_WINDOW, starting with a sound) fit its cadence at some rotation: same signature,
  each duration within DURATION_TOLERANCE plus DURATION_SLACK_MS, sounding steps within
  LEVEL_TOLERANCE_DB of the cadence's level differences (Australia's congestion is its
  busy with every other burst 10 dB down). Two whole cycles keep the first bursts of a
  slow tone (German call waiting: 200/200/200/5000) from passing for a fast one.
  A steady tone is recognised once it has sounded longer than any cadenced tone of the
  same signature could. Tones are tried in tones.TONE_NAMES order, so where a country
  uses one tone for two purposes (Japan's busy and congestion) the first name is given.
- A recognised tone goes on while each new segment fits one of its steps (a segment
  still going on only has to be not too long); then it ends, at the end of its last
  fitting sound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from firmware.dsp.goertzel import dft_table
from firmware.dsp.levels import dbm0_to_mean_square
from firmware.dsp.profiles import CountryProfile
from firmware.dsp.tones import TONE_NAMES, ToneStep

BLOCK_MS = 10.0
BATCH_BLOCKS = 25  # 250 ms: tones take seconds to recognise, so latency costs nothing
ON_LEVEL_DBM0 = -40.0
ON_SHARE = 0.5
CHUNK_MS = 100.0
MIN_CHUNK_MS = 40.0
EXPLAINED_SHARE = 0.8
COMPONENT_RANGE_DB = 10.0
DURATION_TOLERANCE = 0.2
DURATION_SLACK_MS = 30.0
LEVEL_TOLERANCE_DB = 4.0
MIN_STEADY_MS = 500.0
MIN_WINDOW = 4

Signature = tuple[tuple[float, ...], float | None]


@dataclass(frozen=True)
class ToneEvent:
    """A tone was recognised ("start", at the start of its first fitting sound) or
    stopped ("end", at the end of its last fitting sound)."""

    name: str
    kind: str
    time_ms: float


@dataclass(frozen=True)
class ToneSegment:
    name: str
    start_ms: float
    end_ms: float


class _Segment:
    __slots__ = ("end", "energy", "on", "sig", "start")

    def __init__(self, on: bool, start: int, sig: int = -1) -> None:
        self.on, self.start, self.end, self.sig, self.energy = on, start, start, sig, 0.0

    def level_db(self) -> float:
        blocks = max(1, self.end - self.start)
        return 10.0 * float(np.log10(max(self.energy / blocks, 1e-12)))


@dataclass(frozen=True)
class _Step:
    on: bool
    sig: int
    ms: float | None
    level: float


def _signature(step: ToneStep) -> Signature:
    return (step.freqs, step.modulation_hz)


class ToneDetector:
    """Streaming detector of a profile's call-progress tones (see the module rules)."""

    def __init__(self, profile: CountryProfile, sample_rate: int = 8000) -> None:
        self.profile = profile
        self.sample_rate = sample_rate
        self._block = round(sample_rate * BLOCK_MS / 1000.0)
        self._block_ms = 1000.0 * self._block / sample_rate
        steps = [s for t in profile.tones for s in t.intro + t.steps if not s.silent]
        self._sigs: list[Signature] = sorted({_signature(s) for s in steps},
                                             key=lambda g: (len(g[0]), g[0], g[1] or 0.0))
        self._lines = [next(s for s in steps if _signature(s) == g).components()
                       for g in self._sigs]
        freqs = sorted({f for lines in self._lines for f, _ in lines})
        self._table = dft_table(freqs, self._block, sample_rate)
        self._members = np.zeros((len(freqs), len(self._sigs)))
        for k, lines in enumerate(self._lines):
            for f, _ in lines:
                self._members[freqs.index(f), k] = 1.0
        self._on_level = dbm0_to_mean_square(ON_LEVEL_DBM0) * self._block
        self._energy_scale = 1.0 / (dbm0_to_mean_square(0.0) * self._block)
        self._patterns = self._build_patterns()
        self._bases: dict[int, tuple[npt.NDArray[np.float64], list[
            tuple[slice, npt.NDArray[np.float64], npt.NDArray[np.float64]]]]] = {}
        self.reset()

    def _build_patterns(self) -> list[tuple[str, list[list[_Step]]]]:
        patterns = []
        for name in TONE_NAMES:
            tone = self.profile.tone(name)
            parts = [tone.steps] + ([tone.intro] if tone.intro else [])
            patterns.append((name, [[_Step(on=not s.silent,
                                            sig=-1 if s.silent else self._sigs.index(
                                                _signature(s)),
                                            ms=s.duration_ms, level=s.level_dbm0)
                                      for s in part] for part in parts]))
        return patterns

    def reset(self) -> None:
        self._parts: list[npt.NDArray[np.generic]] = []
        self._buffered = 0
        self._next_block = 0
        self._segments: list[_Segment] = []
        self._chunk: list[npt.NDArray[np.float64]] = []
        self._current: str | None = None
        self._current_start = 0.0
        self._last_fit_end = 0.0

    @property
    def current(self) -> str | None:
        """The tone recognised now, or None."""
        return self._current

    def feed(self, samples: npt.ArrayLike) -> list[ToneEvent]:
        x = np.asarray(samples)
        if x.size:
            self._parts.append(x)
            self._buffered += x.size
        if self._buffered < BATCH_BLOCKS * self._block:
            return []
        return self._analyse()

    def flush(self) -> list[ToneEvent]:
        """End of input: analyse what is buffered and end the current tone."""
        events = self._analyse() if self._buffered >= self._block else []
        events += self._close_chunk(final=True)
        events += self._update(final=True)
        if self._current is not None:
            last = self._segments[-1] if self._segments else None
            end = self._ms(last.end) if last is not None and last.on else self._last_fit_end
            events.append(ToneEvent(self._current, "end", end))
            self._current = None
        return events

    def _ms(self, block: int) -> float:
        return block * self._block_ms

    def _analyse(self) -> list[ToneEvent]:
        buf = np.concatenate(self._parts, dtype=np.float64, casting="unsafe")
        nb = buf.size // self._block
        used = nb * self._block
        self._parts = [buf[used:]] if used < buf.size else []
        self._buffered = buf.size - used
        blocks = buf[:used].reshape(nb, self._block)
        energy = np.einsum("ij,ij->i", blocks, blocks)
        coef = np.abs((blocks @ self._table).view(np.complex128))
        # Power per sine, in block-energy units: |X|^2 * 2 / N.
        share = ((coef * coef) @ self._members) * (2.0 / self._block)
        on = (energy >= self._on_level) & (share.max(axis=1) >= ON_SHARE * energy)
        events: list[ToneEvent] = []
        for k, is_on in enumerate(on.tolist()):
            events += self._block_done(bool(is_on), blocks[k], float(energy[k]))
        return events

    def _block_done(self, on: bool, block: npt.NDArray[np.float64], energy: float
                    ) -> list[ToneEvent]:
        index = self._next_block
        self._next_block += 1
        events: list[ToneEvent] = []
        seg = self._segments[-1] if self._segments else None
        if seg is None or seg.on != on:
            if seg is not None and seg.on:
                events += self._close_chunk(final=True)
            events += self._update(final=False, closing=True)
            seg = _Segment(on, index)
            self._segments.append(seg)
            del self._segments[:-16]
        seg.end = index + 1
        seg.energy += energy * self._energy_scale
        if on:
            self._chunk.append(block)
            if len(self._chunk) * self._block_ms >= CHUNK_MS:
                events += self._close_chunk(final=False)
        # A segment still going on can complete a cadence (or outlast the current tone):
        # look every few blocks rather than every block.
        if index % 5 == 0:
            events += self._update(final=False)
        return events

    def _close_chunk(self, final: bool) -> list[ToneEvent]:
        """Decide the signature of the samples gathered for the on segment."""
        if not self._chunk or not self._segments:
            return []
        blocks = len(self._chunk)
        if not final and blocks * self._block_ms < CHUNK_MS:
            return []
        seg = self._segments[-1]
        sig = self._classify(np.concatenate(self._chunk)) \
            if blocks * self._block_ms >= MIN_CHUNK_MS or seg.sig < 0 else seg.sig
        self._chunk = []
        if sig < 0 or seg.sig < 0 or sig == seg.sig:
            seg.sig = sig if sig >= 0 else seg.sig
            return []
        # The sound changed inside the run: the chunk starts a new on segment.
        cut = seg.end - blocks
        newer = _Segment(True, cut, sig)
        newer.end, newer.energy = seg.end, seg.energy * blocks / max(1, seg.end - seg.start)
        seg.end, seg.energy = cut, seg.energy - newer.energy
        events = self._update(final=False, closing=True)
        self._segments.append(newer)
        return events

    def _classify(self, x: npt.NDArray[np.float64]) -> int:
        total = float(np.dot(x, x))
        if total <= 0.0:
            return -1
        stacked, fits = self._fit_tables(x.size)
        projections = stacked @ x  # B^T x for every signature's sines at once
        best, best_share = -1, EXPLAINED_SHARE
        for k, (part, inverse_gram, expected) in enumerate(fits):
            bt = projections[part]
            coef = inverse_gram @ bt  # least squares: (B^T B)^-1 B^T x
            explained = float(coef @ bt) / total  # |B coef|^2 = coef . B^T x
            powers = coef[0::2] ** 2 + coef[1::2] ** 2
            ratio = powers / expected
            present = ratio.min() >= ratio.max() * 10.0 ** (-COMPONENT_RANGE_DB / 10.0)
            # Prefer the simpler signature unless the richer one explains clearly more.
            if present and explained > best_share + (0.02 if best >= 0 else 0.0):
                best, best_share = k, explained
        return best

    def _fit_tables(self, length: int) -> tuple[npt.NDArray[np.float64], list[
            tuple[slice, npt.NDArray[np.float64], npt.NDArray[np.float64]]]]:
        """Per window length: every signature's basis (stacked, transposed) and, per
        signature, its rows, inverse Gram matrix and expected relative line powers."""
        if length not in self._bases:
            columns: list[npt.NDArray[np.float64]] = []
            fits: list[tuple[slice, npt.NDArray[np.float64], npt.NDArray[np.float64]]] = []
            row = 0
            for lines in self._lines:
                basis = dft_table([f for f, _ in lines], length, self.sample_rate)
                columns.append(basis)
                part = slice(row, row + basis.shape[1])
                row += basis.shape[1]
                inverse_gram = np.asarray(np.linalg.inv(basis.T @ basis), dtype=np.float64)
                expected = np.array([a * a for _, a in lines], dtype=np.float64)
                fits.append((part, inverse_gram, expected))
            self._bases[length] = (np.ascontiguousarray(np.hstack(columns).T), fits)
        return self._bases[length]

    def _update(self, final: bool, closing: bool = False) -> list[ToneEvent]:
        """Check the current tone and look for a new one after a segment change."""
        segs = self._segments
        if not segs:
            return []
        events: list[ToneEvent] = []
        last_done = closing or final
        if self._current is not None:
            # The end of input may cut the last segment short: judge it as still going.
            if self._fits_current(segs[-1], done=closing):
                if segs[-1].on:
                    self._last_fit_end = self._ms(segs[-1].end)
                return []
            events.append(ToneEvent(self._current, "end", self._last_fit_end))
            self._current = None
        # At the end of input the last segment may be cut short: try without it too.
        histories = [segs, segs[:-1]] if final and len(segs) > 1 else [segs]
        for name, parts in self._patterns:
            for pattern, history in ((p, h) for p in parts for h in histories):
                start = self._match(pattern, history, last_done)
                if start is not None:
                    self._current = name
                    on_segs = [s for s in segs if s.on]
                    self._last_fit_end = self._ms(on_segs[-1].end) if on_segs else 0.0
                    events.append(ToneEvent(name, "start", self._ms(start)))
                    return events
        return events

    def _bounds(self, step: _Step) -> tuple[float, float]:
        if step.ms is None:
            return self._steady_ms(step.sig), float("inf")
        slack = DURATION_TOLERANCE * step.ms + DURATION_SLACK_MS
        return step.ms - slack, step.ms + slack

    def _steady_ms(self, sig: int) -> float:
        longest = max((s.ms for _, parts in self._patterns for p in parts for s in p
                       if s.on and s.sig == sig and s.ms is not None), default=0.0)
        return max(MIN_STEADY_MS, longest * (1 + DURATION_TOLERANCE) + 2 * DURATION_SLACK_MS)

    def _fits(self, step: _Step, seg: _Segment) -> bool:
        if step.on != seg.on or (seg.on and step.sig != seg.sig):
            return False
        low, high = self._bounds(step)
        return low <= self._ms(seg.end - seg.start) <= high

    def _fits_current(self, seg: _Segment, done: bool) -> bool:
        parts = next(p for n, p in self._patterns if n == self._current)
        for pattern in parts:
            for step in pattern:
                # A sound not yet classified (its first chunk is still gathering) may fit.
                if step.on != seg.on or (seg.on and seg.sig >= 0 and step.sig != seg.sig):
                    continue
                low, high = self._bounds(step)
                length = self._ms(seg.end - seg.start)
                if length <= high and (not done or length >= low or step.ms is None):
                    return True
        return False

    def _match(self, pattern: list[_Step], segs: list[_Segment], last_done: bool
               ) -> int | None:
        """Start block of a window of recent segments that fits the pattern, or None."""
        if not segs:
            return None
        if len(pattern) == 1 and pattern[0].ms is None:
            seg = segs[-1]
            ok = seg.on and seg.sig == pattern[0].sig and (
                self._ms(seg.end - seg.start) >= self._steady_ms(seg.sig))
            return seg.start if ok else None
        if not last_done:
            return None  # cadences are judged on finished segments only
        need = max(MIN_WINDOW, len(pattern) + 1)
        if len(segs) < need:
            return None  # (a first segment cut by the start of input fails its bounds)
        window = segs[-need:]
        if not window[0].on:
            return None
        for rotation in range(len(pattern)):
            if not pattern[rotation].on:
                continue
            steps = [pattern[(rotation + j) % len(pattern)] for j in range(need)]
            if all(self._fits(st, sg) for st, sg in zip(steps, window, strict=True)) \
                    and self._levels_fit(steps, window):
                return window[0].start
        return None

    def _levels_fit(self, steps: list[_Step], window: list[_Segment]) -> bool:
        sounding = [(st.level, sg.level_db()) for st, sg in zip(steps, window, strict=True)
                    if st.on]
        if len(sounding) < 2:
            return True
        ref_expected, ref_seen = sounding[0]
        return all(abs((seen - ref_seen) - (exp - ref_expected)) <= LEVEL_TOLERANCE_DB
                   for exp, seen in sounding[1:])


def detect_tones(samples: npt.ArrayLike, profile: CountryProfile, sample_rate: int = 8000
                 ) -> list[ToneSegment]:
    """The tones of `profile` found in a whole signal, with their times."""
    detector = ToneDetector(profile, sample_rate)
    events = detector.feed(samples) + detector.flush()
    found: list[ToneSegment] = []
    open_name, open_start = None, 0.0
    for event in events:
        if event.kind == "start":
            open_name, open_start = event.name, event.time_ms
        elif open_name == event.name:
            found.append(ToneSegment(event.name, open_start, max(open_start, event.time_ms)))
            open_name = None
    return found
