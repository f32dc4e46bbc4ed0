"""Where a board signal goes, and what a line action does to the board.

The box and the board contract suite share these two functions, so the suite proves the
routing the daemon really uses. Media actions (tones, caller ID, DTMF, detectors) are not
here: they need the media switch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from drivers.base import (
    BoardFault,
    FxoPort,
    FxsPort,
    HookEdge,
    HookFlash,
    LineSignal,
    LoopCurrent,
    PolarityReversal,
    PulseDigit,
    RingBurst,
)
from firmware.lines import actions as act
from firmware.lines.actions import LineOutput
from firmware.lines.fxo import FxoLine
from firmware.lines.fxs import FxsLine

log = logging.getLogger(__name__)


def deliver(sig: LineSignal, fxs: Mapping[int, FxsLine], fxo: Mapping[int, FxoLine],
            now: float) -> list[LineOutput]:
    """Hand a board signal to the line machine of its port (ports are numbered per kind)."""
    if isinstance(sig, HookEdge | PulseDigit | HookFlash) or (
            isinstance(sig, RingBurst) and sig.kind == "fxs"):
        line = fxs.get(sig.port)
        if line is None:
            return []
        if isinstance(sig, HookEdge):
            return line.hook_edge(sig.offhook, sig.at, now, sig.debounced)
        if isinstance(sig, PulseDigit):
            return line.pulse_digit(sig.digit, now)
        if isinstance(sig, HookFlash):
            return line.flash(now)
        return line.ring_burst(sig.on, sig.at, now)
    if isinstance(sig, BoardFault):
        log.error("board fault on port %s: %s", sig.port, sig.what)
        return []
    pstn = fxo.get(sig.port)
    if pstn is None:
        return []
    if isinstance(sig, RingBurst):
        return pstn.ring_burst(sig.on, sig.at, now)
    if isinstance(sig, PolarityReversal):
        return pstn.polarity_reversal(sig.at, now)
    if isinstance(sig, LoopCurrent):
        return pstn.loop_current(sig.present, sig.at, now)
    return []


def board_action(a: act.LineAction, fxs: FxsPort | None, fxo: FxoPort | None) -> bool:
    """Carry out an action that is the board's (ringing, polarity, the PSTN loop) on the
    port of its leg; False when the action is not the board's (a media action)."""
    if isinstance(a, act.StartRinging) and fxs is not None:
        fxs.start_ringing(a.cadence_ms, a.frequency_hz)
    elif isinstance(a, act.StopRinging) and fxs is not None:
        fxs.stop_ringing()
    elif isinstance(a, act.SetPolarity) and fxs is not None:
        fxs.set_polarity(a.reversed_)
    elif isinstance(a, act.SeizeLine) and fxo is not None:
        fxo.seize()
    elif isinstance(a, act.ReleaseLine) and fxo is not None:
        fxo.release()
    else:
        return False
    return True
