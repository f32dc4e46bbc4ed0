"""HookTiming validation and pulse mappings; the Timers helper."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.core.errors import ConfigError
from firmware.lines.timing import HookTiming, Timers, elapsed_ms


def test_defaults_are_the_documented_windows() -> None:
    timing = HookTiming()
    assert (timing.debounce_ms, timing.flash_min_ms, timing.flash_max_ms) == (20, 100, 900)
    assert (timing.pulse_break_min_ms, timing.pulse_break_max_ms) == (30, 95)
    assert (timing.pulse_make_min_ms, timing.pulse_make_max_ms) == (25, 95)
    assert timing.interdigit_ms == 250
    assert timing.pulse_mapping == "standard"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"debounce_ms": 9}, "debounce_ms"),
        ({"debounce_ms": 31}, "debounce_ms"),
        ({"debounce_ms": True}, "debounce_ms"),
        ({"flash_max_ms": "900"}, "flash_max_ms"),
        ({"flash_min_ms": float("nan")}, "flash_min_ms"),
        ({"flash_min_ms": 950}, "flash_min_ms"),
        ({"pulse_break_min_ms": 100}, "pulse_break_min_ms"),
        ({"pulse_make_min_ms": 96}, "pulse_make_min_ms"),
        ({"debounce_ms": 28}, "debounce_ms"),  # longer than a 25 ms make
        ({"flash_min_ms": 95}, "flash_min_ms"),  # a pulse break would be a flash
        ({"interdigit_ms": 95}, "interdigit_ms"),  # every make would end a digit
        ({"pulse_mapping": "uk"}, "pulse_mapping"),
        ({"interdigit_ms": 0}, "interdigit_ms"),
    ],
)
def test_bad_timing_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        HookTiming(**changes)


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        HookTiming(debounce_ms=50)


@pytest.mark.parametrize(
    ("pulses", "standard", "nz", "se"),
    [
        (1, "1", "9", "0"),
        (2, "2", "8", "1"),
        (5, "5", "5", "4"),
        (9, "9", "1", "8"),
        (10, "0", "0", "9"),
        (0, None, None, None),
        (11, None, None, None),
    ],
)
def test_pulse_mappings(pulses: int, standard: str | None, nz: str | None,
                        se: str | None) -> None:
    assert HookTiming().digit_for(pulses) == standard
    assert HookTiming(pulse_mapping="nz").digit_for(pulses) == nz
    assert HookTiming(pulse_mapping="se").digit_for(pulses) == se


def test_elapsed_ms_is_exact_at_window_edges() -> None:
    assert elapsed_ms(1000.0, 1000.0 + 0.9) == 900.0
    assert elapsed_ms(1000.0, 1000.0 + 0.901) == 901.0
    assert (1000.9 - 1000.0) * 1000 != 900.0  # why the rounding is needed


def test_timers_fire_earliest_first_and_only_when_due() -> None:
    timers = Timers()
    timers.start("b", 2.0)
    timers.start("a", 1.0)
    timers.start("c", 3.0)
    timers.cancel("c")
    assert timers.next_deadline == 1.0
    assert timers.pop_due(0.5) is None
    assert timers.pop_due(2.5) == ("a", 1.0)
    assert timers.pop_due(2.5) == ("b", 2.0)
    assert timers.pop_due(2.5) is None
    assert timers.next_deadline is None
