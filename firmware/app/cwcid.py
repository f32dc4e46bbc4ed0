"""Type II caller ID to an off-hook handset (call waiting), on the loop.

The sequence (Telcordia GR-30 type II; ETSI EN 300 659 off-hook), built by
``firmware.dsp.cid_gen.call_waiting_cid``: the call-waiting tone (SAS), the CPE alerting
signal (CAS, 2130 + 2750 Hz), then the phone acknowledges with a DTMF digit (``A`` or
``D``; ETSI ``D``) and the box sends the FSK message. A phone that does not acknowledge
within the window gets nothing more: it heard the call-waiting tone alone.

The box mutes the voice path meanwhile (it unbridges the line from its partners, from
the tone to the end of the FSK or of the acknowledgement window; firmware/app/box.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from firmware.core.events import Party
from firmware.dsp.cid_gen import AwaitAck, Play, Wait, call_waiting_cid
from firmware.media.signals import party_to_cid

SAMPLE_RATE = 8000
# The box's DTMF detector reports a digit after it, not at its start: allow for that on
# top of the standard's acknowledgement window.
DETECT_SLACK_S = 0.4


@dataclass(frozen=True)
class TypeTwo:
    """One waiting caller's signal, split at the acknowledgement."""

    alert: bytes  # SAS and CAS
    ack_digits: str
    ack_window_s: float
    data: bytes  # the pause after the ACK, then the FSK message


def type_two(caller: Party, standard: str) -> TypeTwo | None:
    """The signal for ``standard`` (bell202, v23); None for one without an off-hook form
    (DTMF caller ID, none): then the tone alone."""
    if standard not in ("bell202", "v23"):
        return None
    signal = call_waiting_cid(party_to_cid(caller), "v23" if standard == "v23" else "bell202")
    before: list[np.ndarray] = []
    after: list[np.ndarray] = []
    ack: AwaitAck | None = None
    for step in signal.steps:
        if isinstance(step, AwaitAck):
            ack = step
        elif isinstance(step, Play):
            (after if ack is not None else before).append(step.samples)
        elif isinstance(step, Wait) and ack is not None:
            after.append(np.zeros(int(step.ms * SAMPLE_RATE / 1000), dtype=np.int16))
    assert ack is not None  # call_waiting_cid always waits for one
    return TypeTwo(_pcm(before), ack.digits, ack.timeout_ms / 1000.0 + DETECT_SLACK_S,
                   _pcm(after))


def _pcm(parts: list[np.ndarray]) -> bytes:
    return np.concatenate(parts).astype("<i2").tobytes() if parts else b""


@dataclass
class AwaitingAck:
    """A line that sent the CAS: the digits that acknowledge it, until ``deadline``
    (monotonic; None while the alert still plays)."""

    signal: TypeTwo
    deadline: float | None = None

    def alert_done(self) -> None:
        self.deadline = time.monotonic() + self.signal.ack_window_s

    def acknowledges(self, digit: str, now: float) -> bool:
        return self.deadline is not None and now <= self.deadline \
            and digit.upper() in self.signal.ack_digits
