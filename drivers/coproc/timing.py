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
from drivers.coproc.errors import CommandError
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


def fxs_config(channel: int, timing: HookTimingLike) -> CfgFxs:
    owner = f"co-processor port {channel} hook timing"
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


def fxo_config(channel: int, timing: FxoTiming) -> CfgFxo:
    owner = f"co-processor port {channel} FXO timing"
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


def ring_command(channel: int, cadence_ms: Sequence[int], frequency_hz: float,
                 limits_chz: tuple[int, int] | None) -> RingStart:
    """RING_START for a cadence and frequency, or CommandError saying what to change."""
    owner = f"co-processor port {channel} ring"
    steps = tuple(int(s) for s in cadence_ms)
    if not steps or len(steps) % 2 or len(steps) > MAX_CADENCE_STEPS:
        raise CommandError(f"{owner}: cadence {list(cadence_ms)} must be 2 to "
                           f"{MAX_CADENCE_STEPS} steps in on/off pairs")
    if any(not 1 <= s <= 65535 for s in steps):
        raise CommandError(f"{owner}: cadence {list(cadence_ms)} has a step outside "
                           f"1 to 65535 ms")
    chz = round(frequency_hz * 100)
    lo, hi = limits_chz if limits_chz is not None else (1, 65535)
    if not lo <= chz <= hi:
        raise CommandError(f"{owner}: {frequency_hz:g} Hz is outside the co-processor's "
                           f"{lo / 100:g} to {hi / 100:g} Hz")
    return RingStart(port=channel, freq=chz, steps=steps)
