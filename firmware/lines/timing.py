"""Time rules of an analog line: the hook signal windows, and named one-shot timers.

Rules:

* Times are seconds (floats from one monotonic source); windows are milliseconds, as the
  standards and the configuration give them. ``elapsed_ms`` rounds to the microsecond so a
  window edge given in whole milliseconds compares exactly despite float seconds.
* ``HookTiming`` is one port's hook configuration. It validates itself on construction and
  raises ``ConfigError`` naming the field: a wrong window would silently turn dialled
  pulses into flashes or hang-ups, so a bad value is refused rather than clamped.
* Ten pulses mean 0, except in New Zealand (digit = 10 - pulses) and Sweden
  (digit = pulses - 1).
* ``Timers`` holds a state machine's deadlines by name; a timer is due when ``now`` has
  reached it (inclusive), and the earliest due timer fires first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, get_args

from firmware.core.clock import earliest
from firmware.core.errors import ConfigError

PulseMapping = Literal["standard", "nz", "se"]

# Hook debounce: 10 to 30 ms catches contact bounce without eating a dial pulse.
DEBOUNCE_MIN_MS = 10.0
DEBOUNCE_MAX_MS = 30.0
# A rotary dial sends at most ten pulses per digit.
MAX_PULSES = 10


def elapsed_ms(since: float, until: float) -> float:
    """Milliseconds from ``since`` to ``until`` (seconds), rounded to the microsecond."""
    return round((until - since) * 1000.0, 3)


def after_ms(at: float, ms: float) -> float:
    """The instant ``ms`` milliseconds after ``at`` (seconds)."""
    return at + ms / 1000.0


def require_ms(owner: str, name: str, value: object, minimum: float = 0.0,
               maximum: float = math.inf, *, unit: str = "ms") -> float:
    """``value`` as a duration in [minimum, maximum], or ConfigError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{owner}: {name}={value!r} is not a duration in {unit}")
    if not minimum <= value <= maximum:
        bounds = (f"at least {minimum:g}" if maximum == math.inf
                  else f"between {minimum:g} and {maximum:g}")
        raise ConfigError(f"{owner}: {name}={value:g} {unit} is out of range; "
                          f"set it {bounds} {unit}")
    return float(value)


@dataclass(frozen=True)
class HookTiming:
    """One FXS port's hook signal windows (milliseconds), checked on construction.

    Defaults: 20 ms debounce; flash 100 to 900 ms (the Cisco default window; anything
    longer is on-hook); pulses at 10 pps with a 60/40 (US) or 67/33 (Europe) break/make
    ratio fit the 30..95 ms break and 25..95 ms make windows with room for a worn dial;
    a make of 250 ms or more ends the digit (most dials leave about 800 ms).
    """

    debounce_ms: float = 20.0
    flash_min_ms: float = 100.0
    flash_max_ms: float = 900.0
    pulse_break_min_ms: float = 30.0
    pulse_break_max_ms: float = 95.0
    pulse_make_min_ms: float = 25.0
    pulse_make_max_ms: float = 95.0
    interdigit_ms: float = 250.0
    pulse_mapping: PulseMapping = "standard"

    def __post_init__(self) -> None:
        owner = "hook timing"
        for f in fields(self):
            if f.name != "pulse_mapping":
                require_ms(owner, f.name, getattr(self, f.name), minimum=1.0)
        if self.pulse_mapping not in get_args(PulseMapping):
            choices = ", ".join(get_args(PulseMapping))
            raise ConfigError(f"{owner}: pulse_mapping={self.pulse_mapping!r} is unknown; "
                              f"use one of {choices}")
        require_ms(owner, "debounce_ms", self.debounce_ms, DEBOUNCE_MIN_MS, DEBOUNCE_MAX_MS)
        for low, high in (("flash_min_ms", "flash_max_ms"),
                          ("pulse_break_min_ms", "pulse_break_max_ms"),
                          ("pulse_make_min_ms", "pulse_make_max_ms")):
            if getattr(self, low) > getattr(self, high):
                raise ConfigError(f"{owner}: {low}={getattr(self, low):g} is above "
                                  f"{high}={getattr(self, high):g}; swap or fix them")
        # Each rule below keeps two signals from being mistaken for one another.
        for window in ("pulse_break_min_ms", "pulse_make_min_ms"):
            if self.debounce_ms > getattr(self, window):
                raise ConfigError(
                    f"{owner}: debounce_ms={self.debounce_ms:g} is longer than "
                    f"{window}={getattr(self, window):g}: a dial pulse would be filtered "
                    f"out as contact bounce; lower debounce_ms")
        if self.pulse_break_max_ms >= self.flash_min_ms:
            raise ConfigError(
                f"{owner}: flash_min_ms={self.flash_min_ms:g} must be above "
                f"pulse_break_max_ms={self.pulse_break_max_ms:g}, or a dial pulse "
                f"would count as a flash")
        if self.pulse_make_max_ms >= self.interdigit_ms:
            raise ConfigError(
                f"{owner}: interdigit_ms={self.interdigit_ms:g} must be above "
                f"pulse_make_max_ms={self.pulse_make_max_ms:g}, or every pulse would "
                f"end a digit")

    def digit_for(self, pulses: int) -> str | None:
        """The digit that ``pulses`` dial pulses stand for, or None when no digit does."""
        if not 1 <= pulses <= MAX_PULSES:
            return None
        if self.pulse_mapping == "nz":
            return str(MAX_PULSES - pulses)
        if self.pulse_mapping == "se":
            return str(pulses - 1)
        return str(pulses % MAX_PULSES)


class Timers:
    """Named one-shot deadlines (seconds) of one state machine."""

    def __init__(self) -> None:
        self._due: dict[str, float] = {}

    def start(self, name: str, at: float) -> None:
        """Arm ``name`` to fire at ``at``, replacing any earlier arming."""
        self._due[name] = at

    def cancel(self, *names: str) -> None:
        for name in names:
            self._due.pop(name, None)

    def clear(self) -> None:
        self._due.clear()

    def due_at(self, name: str) -> float | None:
        return self._due.get(name)

    @property
    def next_deadline(self) -> float | None:
        return earliest(*self._due.values())

    def pop_due(self, now: float) -> tuple[str, float] | None:
        """Disarm and return the earliest timer due at ``now`` as (name, deadline)."""
        if not self._due:
            return None
        name = min(self._due, key=self._due.__getitem__)
        at = self._due[name]
        if elapsed_ms(at, now) < 0:
            return None
        del self._due[name]
        return name, at

    def names(self) -> list[str]:
        return sorted(self._due, key=self._due.__getitem__)
