"""Line audio of one port through ALSA: a capture and a playback PCM on one codec.

One thread per port does blocking transfers, one period at a time: read a period from the
capture PCM (this paces the thread by the codec's clock), then write a period to the
playback PCM. The media bridge, on its own clock, calls :meth:`AlsaAudio.read_frame` and
:meth:`AlsaAudio.write_frame` with 20 ms frames; a :class:`DriftBuffer` in each direction
sits between the two clocks, so neither side ever waits for the other.

Rules:

* Capture and playback of one port must be on one card, so one clock paces both.
* ``read_frame`` / ``write_frame`` never block; ``read_frame`` gives silence while the
  buffer primes or after an underrun.
* xruns are counted and survived (the binding re-prepares the PCM); the playback side is
  refilled with silence after one so it does not underrun again at once.
* A device that fails (a USB codec unplugged) is closed and reopened every ``retry_s``
  until it comes back or the port closes; meanwhile the port hears silence.
* :meth:`pump` is one period of the thread's work, public so a test can pace a PCM that
  is not paced in real time (ALSA's ``type file``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from drivers.alsa.driftbuffer import DriftBuffer, DriftStats
from drivers.alsa.pcm import AlsaError, Pcm, PcmOpener, open_pcm
from drivers.base import FRAME_SAMPLES, SAMPLE_RATE
from drivers.profile import AudioSpec

log = logging.getLogger(__name__)

PERIODS = 4  # periods in each ALSA ring buffer
PREFILL_PERIODS = 2  # silence ahead of the first playback period
# Drift buffer depth per direction. Whole-period transfers make the depth a sawtooth one
# period tall, so the target is the band's lower edge plus a period plus a margin for late
# threads: 40 ms at 10 ms periods, 50 ms at 20 ms. Voice delay (G.114) favours 10 ms.
BAND_MS = 15.0
MARGIN_MS = 15.0
CAPACITY_MS = 200.0


def drift_buffer_for(period_ms: int, target_ms: float | None = None) -> DriftBuffer:
    """The drift buffer one direction of a port uses at this ALSA period."""
    per_ms = SAMPLE_RATE // 1000
    target = target_ms if target_ms is not None else BAND_MS + period_ms + MARGIN_MS
    return DriftBuffer(int(target * per_ms), int(BAND_MS * per_ms), int(CAPACITY_MS * per_ms))


@dataclass(frozen=True)
class AlsaStats:
    name: str
    capture: str
    playback: str
    period_ms: int
    running: bool
    capture_xruns: int
    playback_xruns: int
    errors: int
    periods: int  # periods moved since start
    rx: DriftStats  # line -> bridge
    tx: DriftStats  # bridge -> line


class AlsaAudio:
    """An :class:`~drivers.gpio.audio.AudioEndpoint` over one ALSA codec."""

    def __init__(self, capture: str, playback: str, *, name: str = "", period_ms: int = 20,
                 target_ms: float | None = None, opener: PcmOpener = open_pcm,
                 retry_s: float = 1.0) -> None:
        if period_ms not in (10, 20):
            raise ValueError(f"ALSA period must be 10 or 20 ms, not {period_ms}")
        self.name = name or capture
        self.capture = capture
        self.playback = playback
        self.period_ms = period_ms
        self.period_frames = SAMPLE_RATE * period_ms // 1000
        self._rx = drift_buffer_for(period_ms, target_ms)
        self._tx = drift_buffer_for(period_ms, target_ms)
        self._opener = opener
        self._retry_s = retry_s
        self._cap: Pcm | None = None
        self._play: Pcm | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._silence = bytes(self.period_frames * 2)
        self._capture_xruns = 0
        self._playback_xruns = 0
        self._errors = 0
        self._periods = 0

    @classmethod
    def from_spec(cls, spec: AudioSpec, name: str = "", *,
                  opener: PcmOpener = open_pcm) -> AlsaAudio:
        return cls(spec.capture, spec.playback, name=name or spec.card,
                   period_ms=spec.period_ms, opener=opener)

    # --- the bridge side (media clock thread) ----------------------------------------
    def read_frame(self) -> bytes:
        return self._rx.pop(FRAME_SAMPLES)

    def write_frame(self, frame: bytes) -> None:
        self._tx.push(frame)

    # --- the codec side (this port's thread) -----------------------------------------
    def open(self) -> None:
        """Open both PCMs and put silence ahead of playback."""
        if self._cap is not None:
            return
        cap = self._opener(self.capture, True, self.period_frames, PERIODS)
        try:
            play = self._opener(self.playback, False, self.period_frames, PERIODS)
        except AlsaError:
            cap.close()
            raise
        self._cap, self._play = cap, play
        self._prefill()

    def _prefill(self) -> None:
        assert self._play is not None
        for _ in range(PREFILL_PERIODS):
            self._play.write(self._silence)

    def pump(self) -> None:
        """Move one period each way; blocks for the capture read."""
        if self._cap is None or self._play is None:
            raise AlsaError(f"{self.name}: pump() before open()")
        n, data = self._cap.read()
        if n < 0:
            self._capture_xruns += 1
            log.debug("%s: capture overrun", self.name)
        elif n > 0:
            self._rx.push(data[: n * 2])
        out = self._tx.pop(self.period_frames)
        if self._play.in_xrun():
            self._playback_xruns += 1
            log.debug("%s: playback underrun", self.name)
            self._prefill()
        self._play.write(out)
        self._periods += 1

    def start(self) -> None:
        """Start this port's thread; it opens the PCMs (and reopens them after a failure)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"alsa-{self.name}",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.open()
                self.pump()
            except AlsaError as exc:
                self._errors += 1
                # A missing codec fails every retry: say so once, then once a minute or so.
                loud = self._errors == 1 or self._errors % 60 == 0
                log.log(logging.WARNING if loud else logging.DEBUG,
                        "%s: %s; retrying every %.0f s (failure %d)", self.name, exc,
                        self._retry_s, self._errors)
                self._close_pcms()
                self._rx.reset()
                self._tx.reset()
                self._stop.wait(self._retry_s)
        self._close_pcms()

    def _close_pcms(self) -> None:
        for pcm in (self._cap, self._play):
            if pcm is not None:
                try:
                    pcm.close()
                except AlsaError as exc:
                    log.debug("%s: close: %s", self.name, exc)
        self._cap = self._play = None

    def close(self) -> None:
        """Stop the thread (it leaves within one period) and close the PCMs."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(max(1.0, 5 * self.period_ms / 1000))
            if thread.is_alive():
                log.warning("%s: audio thread did not stop", self.name)
                return
        self._close_pcms()

    def stats(self) -> AlsaStats:
        return AlsaStats(
            name=self.name, capture=self.capture, playback=self.playback,
            period_ms=self.period_ms,
            running=self._thread is not None and self._thread.is_alive(),
            capture_xruns=self._capture_xruns, playback_xruns=self._playback_xruns,
            errors=self._errors, periods=self._periods, rx=self._rx.stats(),
            tx=self._tx.stats())
