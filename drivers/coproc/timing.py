"""Per-port timing the host hands to the co-processor, and the checks before it goes out.

The FXS field names are those of the line layer's ``HookTiming`` (firmware/lines/timing.py),
so the application can pass its own object (anything with these attributes) unchanged;
drivers never import firmware, so the shape is the Protocol ``drivers.base.HookWindows``. Values are
checked against the wire sizes and the co-processor's limits here, on the caller's thread,
so a bad value fails where it was given rather than as a NAK later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drivers.base import HookWindows
from drivers.coproc.errors import CommandError, RingError
from drivers.coproc.messages import MAX_CADENCE_STEPS, CfgFxo, CfgFxs, RingStart

PULSE_MAPS = {"standard": 0, "nz": 1, "se": 2}
# TELEPHONY.md: a polarity reversal can look like a ring; wait 40 ms or more before deciding.
RING_MIN_FLOOR_MS = 40


HookTimingLike = HookWindows


@dataclass(frozen=True)
class FxsTiming:
    """The line layer's defaults: 20 ms debounce, flash 100-900 ms (Cisco), pulse break
    30-95 ms and make 25-95 ms (10 pps at 60/40 or 67/33 with room for a worn dial), a
    make of 250 ms ends a digit."""

    debounce_ms: float = 20
    flash_min_ms: float = 100
    flash_max_ms: float = 900
    pulse_break_min_ms: float = 30
    pulse_break_max_ms: float = 95
    pulse_make_min_ms: float = 25
    pulse_make_max_ms: float = 95
    interdigit_ms: float = 250
    pulse_mapping: str = "standard"


@dataclass(frozen=True)
class FxoTiming:
    """Ring validation (board/PROTOCOL.md 6.3) and input debounce of one FXO port."""

    ring_min_ms: float = RING_MIN_FLOOR_MS
    ring_off_ms: float = 150
    rd_period_min_ms: float = 10
    rd_period_max_ms: float = 70
    polarity_debounce_ms: float = 20
    loop_debounce_ms: float = 30


def _ms(owner: str, name: str, value: float, lo: int, hi: int) -> int:
    ms = round(value)
    if not lo <= ms <= hi:
        raise CommandError(f"{owner}: {name}={value:g} ms is out of range; the co-processor "
                           f"takes {lo} to {hi} ms")
    return ms


def fxs_config(leg: str, channel: int, timing: HookTimingLike) -> CfgFxs:
    owner = f"{leg} hook timing"
    if timing.pulse_mapping not in PULSE_MAPS:
        raise CommandError(f"{owner}: pulse_mapping={timing.pulse_mapping!r} is unknown; "
                           f"use one of {', '.join(PULSE_MAPS)}")
    return CfgFxs(
        port=channel,
        debounce=_ms(owner, "debounce_ms", timing.debounce_ms, 1, 255),
        break_min=_ms(owner, "pulse_break_min_ms", timing.pulse_break_min_ms, 1, 255),
        break_max=_ms(owner, "pulse_break_max_ms", timing.pulse_break_max_ms, 1, 255),
        make_min=_ms(owner, "pulse_make_min_ms", timing.pulse_make_min_ms, 1, 255),
        make_max=_ms(owner, "pulse_make_max_ms", timing.pulse_make_max_ms, 1, 255),
        flash_min=_ms(owner, "flash_min_ms", timing.flash_min_ms, 1, 65535),
        flash_max=_ms(owner, "flash_max_ms", timing.flash_max_ms, 1, 65535),
        interdigit=_ms(owner, "interdigit_ms", timing.interdigit_ms, 1, 65535),
        pulse_map=PULSE_MAPS[timing.pulse_mapping],
    )


def fxo_config(leg: str, channel: int, timing: FxoTiming) -> CfgFxo:
    owner = f"{leg} FXO timing"
    return CfgFxo(
        port=channel,
        ring_min=_ms(owner, "ring_min_ms", timing.ring_min_ms, RING_MIN_FLOOR_MS, 65535),
        ring_off=_ms(owner, "ring_off_ms", timing.ring_off_ms, 1, 65535),
        rd_period_min=_ms(owner, "rd_period_min_ms", timing.rd_period_min_ms, 1, 255),
        rd_period_max=_ms(owner, "rd_period_max_ms", timing.rd_period_max_ms, 1, 255),
        polarity_debounce=_ms(owner, "polarity_debounce_ms", timing.polarity_debounce_ms,
                              1, 255),
        loop_debounce=_ms(owner, "loop_debounce_ms", timing.loop_debounce_ms, 1, 255),
    )


def ring_frequency(leg: str, wanted_hz: float, profile_hz: Sequence[float] | None,
                   limits_chz: tuple[int, int] | None) -> int:
    """The frequency (centihertz) to ring ``leg`` at when its country rings at
    ``wanted_hz``: the wanted one when the board profile lists it (or lists nothing) and
    the co-processor makes it (or has not said yet); otherwise the nearest one that both
    allow (a phone rings as well at 25 Hz as at 20; TELEPHONY.md: 16 to 50 Hz occur).
    RingError when there is none."""
    lo, hi = limits_chz if limits_chz is not None else (1, 65535)
    wanted = round(wanted_hz * 100)
    if not profile_hz:
        return min(max(wanted, lo), hi)
    allowed = sorted({round(f * 100) for f in profile_hz})
    both = [f for f in allowed if lo <= f <= hi]
    if not both:
        listed = ", ".join(f"{f / 100:g}" for f in allowed)
        raise RingError(f"{leg} cannot ring: the board profile's [ring] frequencies_hz lists "
                        f"{listed} Hz and the co-processor makes {lo / 100:g} to "
                        f"{hi / 100:g} Hz, so no frequency suits both; list one the "
                        f"co-processor makes, or flash firmware that makes one of yours")
    return min(both, key=lambda f: (abs(f - wanted), f))


def ring_command(leg: str, channel: int, cadence_ms: Sequence[int],
                 freq_chz: int) -> RingStart:
    """RING_START for a cadence, or CommandError saying what to change."""
    owner = f"{leg} ring"
    steps = tuple(int(s) for s in cadence_ms)
    if not steps or len(steps) % 2 or len(steps) > MAX_CADENCE_STEPS:
        raise CommandError(f"{owner}: cadence {list(cadence_ms)} must be 2 to "
                           f"{MAX_CADENCE_STEPS} steps in on/off pairs")
    if any(not 1 <= s <= 65535 for s in steps):
        raise CommandError(f"{owner}: cadence {list(cadence_ms)} has a step outside "
                           f"1 to 65535 ms")
    return RingStart(port=channel, freq=freq_chz, steps=steps)
