"""Country profiles: call-progress tones, ringing and caller ID defaults, as data.

Rules:

- One TOML file per country in firmware/dsp/countries/ (code = file name, lower case),
  read with tomllib through importlib.resources, so the data ships inside the package.
  Every file says where its figures come from (`source`), and a tone whose figure is a
  product choice rather than a national one says so in its `note`.
- Each profile has every tone in tones.TONE_NAMES, a ring cadence and frequency, named
  distinctive ring cadences and the caller ID defaults (standard and how the phone is
  alerted). Hook-flash windows are port settings, not country data, and are not here.
- A tone table is `steps` (repeated for ever) with an optional `intro` played
  `intro_times` times first; a step is `{ freqs = [f1, f2], ms = 500 }`, with
  `modulation_hz` for f1*f2 tones and `level_dbm0` to override the tone's level;
  no `freqs` is silence, no `ms` is for ever.
- `[numbers]` classes dialled numbers for the outbound permissions (firmware.pbx.tollguard):
  the country code, the national (trunk) prefix, and prefix lists for international,
  premium-rate and national numbers and the emergency numbers; each file cites its source
  and says where it is unsure. Prefixes are digit strings; a missing table is an error.
- A bad file raises ProfileError (a ValueError) naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from firmware.dsp.tones import TONE_NAMES, ToneSpec, ToneStep

CID_STANDARDS = ("bell202", "v23", "v23_jp", "dtmf", "none")
# How the phone learns caller ID is coming: after the first ring (Telcordia GR-30,
# Deutsche Telekom), or before the first ring after a line polarity reversal, a
# dual-tone alerting signal (DT-AS, EN 300 659-1), a ring pulse (RP-AS), or both a
# reversal and DT-AS (BT SIN 227).
CID_ALERTS = ("after_first_ring", "polarity_reversal", "dual_tone", "ring_pulse",
              "polarity_reversal_dual_tone")
_PACKAGE = "firmware.dsp.countries"


class ProfileError(ValueError):
    """A country profile that is missing or wrong; the message names file and key."""


@dataclass(frozen=True)
class RingSpec:
    frequency_hz: float
    cadence_ms: tuple[int, ...]
    distinctive: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def pattern(self, name: str) -> tuple[int, ...]:
        """A named distinctive cadence ("normal" is the standard one)."""
        if name == "normal":
            return self.cadence_ms
        for known, cadence in self.distinctive:
            if known == name:
                return cadence
        names = ", ".join(["normal", *(n for n, _ in self.distinctive)])
        raise KeyError(f"no distinctive ring {name!r} (known: {names})")


@dataclass(frozen=True)
class CallerIdDefaults:
    standard: str
    alert: str
    note: str = ""


@dataclass(frozen=True)
class NumberingSpec:
    """The country's dialling prefixes, as the profile gives them (empty: nothing known)."""

    country_code: str = ""
    trunk_prefix: str = ""
    international: tuple[str, ...] = ()
    premium: tuple[str, ...] = ()
    national: tuple[str, ...] = ()
    emergency: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class CountryProfile:
    code: str
    name: str
    source: str
    tones: tuple[ToneSpec, ...]
    ring: RingSpec
    caller_id: CallerIdDefaults
    numbers: NumberingSpec = NumberingSpec()

    def tone(self, name: str) -> ToneSpec:
        for tone in self.tones:
            if tone.name == name:
                return tone
        raise KeyError(f"profile {self.code!r} has no tone {name!r}")


def available_profiles() -> list[str]:
    """Codes of the shipped profiles, sorted."""
    folder = resources.files(_PACKAGE)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_profile(code: str) -> CountryProfile:
    """The profile of a country code such as "us" or "de"."""
    key = code.strip().lower()
    file_name = f"{key}.toml"
    if not key.isalpha() or key not in available_profiles():
        raise ProfileError(f"{file_name}: no such country profile "
                           f"(known: {', '.join(available_profiles())})")
    text = resources.files(_PACKAGE).joinpath(file_name).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{file_name}: not valid TOML: {exc}") from None
    return _Reader(file_name).profile(key, data)


class _Reader:
    """Turns parsed TOML into a profile, naming file and key in every error."""

    def __init__(self, file_name: str) -> None:
        self.file = file_name

    def fail(self, key: str, problem: str) -> ProfileError:
        return ProfileError(f"{self.file}: {key}: {problem}")

    def get(self, table: dict[str, Any], key: str, path: str, kind: type | tuple[type, ...]
            ) -> Any:
        if key not in table:
            raise self.fail(f"{path}{key}", "missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(f"{path}{key}", f"wrong type {type(value).__name__}")
        return value

    def profile(self, code: str, data: dict[str, Any]) -> CountryProfile:
        tones_table = self.get(data, "tones", "", dict)
        unknown = sorted(set(tones_table) - set(TONE_NAMES))
        if unknown:
            raise self.fail(f"tones.{unknown[0]}", f"unknown tone (tones are {TONE_NAMES})")
        tones = tuple(self.tone(name, self.get(tones_table, name, "tones.", dict))
                      for name in TONE_NAMES)
        return CountryProfile(code=code, name=self.get(data, "name", "", str),
                              source=self.get(data, "source", "", str), tones=tones,
                              ring=self.ring(self.get(data, "ring", "", dict)),
                              caller_id=self.caller_id(self.get(data, "caller_id", "", dict)),
                              numbers=self.numbers(self.get(data, "numbers", "", dict)))

    def numbers(self, table: dict[str, Any]) -> NumberingSpec:
        def digits(key: str, value: Any) -> str:
            if not isinstance(value, str) or not value.isdigit() or not value.isascii():
                raise self.fail(f"numbers.{key}", f"{value!r} must be a string of digits")
            return value

        def prefixes(key: str) -> tuple[str, ...]:
            return tuple(digits(key, v) for v in self.get(table, key, "numbers.", list))

        return NumberingSpec(
            country_code=digits("country_code", self.get(table, "country_code", "numbers.", str)),
            trunk_prefix=digits("trunk_prefix", self.get(table, "trunk_prefix", "numbers.", str)),
            international=prefixes("international"), premium=prefixes("premium"),
            national=prefixes("national"), emergency=prefixes("emergency"),
            source=self.get(table, "source", "numbers.", str))

    def tone(self, name: str, table: dict[str, Any]) -> ToneSpec:
        path = f"tones.{name}."
        level = float(self.get(table, "level_dbm0", path, (int, float)))
        steps = self.steps(table, "steps", path, level)
        intro = self.steps(table, "intro", path, level) if "intro" in table else ()
        times = int(self.get(table, "intro_times", path, int)) if "intro_times" in table else 1
        if times < 1:
            raise self.fail(f"{path}intro_times", "must be at least 1")
        note = str(self.get(table, "note", path, str)) if "note" in table else ""
        try:
            return ToneSpec(name=name, steps=steps, intro=intro, intro_times=times, note=note)
        except ValueError as exc:
            raise self.fail(f"{path}steps", str(exc)) from None

    def steps(self, table: dict[str, Any], key: str, path: str, level: float
              ) -> tuple[ToneStep, ...]:
        raw = self.get(table, key, path, list)
        if not raw:
            raise self.fail(f"{path}{key}", "empty")
        steps = []
        for i, item in enumerate(raw):
            where = f"{path}{key}[{i}]."
            if not isinstance(item, dict):
                raise self.fail(f"{path}{key}[{i}]", "must be a table like { freqs = [425] }")
            extra = sorted(set(item) - {"freqs", "ms", "level_dbm0", "modulation_hz"})
            if extra:
                raise self.fail(f"{where}{extra[0]}", "unknown key")
            freqs = self.get(item, "freqs", where, list) if "freqs" in item else []
            if not all(isinstance(f, int | float) and 20 <= f <= 3900 for f in freqs):
                raise self.fail(f"{where}freqs", "frequencies must be numbers 20..3900 Hz")
            ms = self.get(item, "ms", where, (int, float)) if "ms" in item else None
            if ms is not None and ms <= 0:
                raise self.fail(f"{where}ms", "must be positive")
            mod = (self.get(item, "modulation_hz", where, (int, float))
                   if "modulation_hz" in item else None)
            step_level = (self.get(item, "level_dbm0", where, (int, float))
                          if "level_dbm0" in item else level)
            steps.append(ToneStep(freqs=tuple(float(f) for f in freqs),
                                  duration_ms=None if ms is None else float(ms),
                                  level_dbm0=float(step_level),
                                  modulation_hz=None if mod is None else float(mod)))
        return tuple(steps)

    def ring(self, table: dict[str, Any]) -> RingSpec:
        freq = float(self.get(table, "frequency_hz", "ring.", (int, float)))
        cadence = self.cadence(self.get(table, "cadence_ms", "ring.", list), "ring.cadence_ms")
        named = self.get(table, "distinctive", "ring.", dict) if "distinctive" in table else {}
        distinctive = tuple((name, self.cadence(value, f"ring.distinctive.{name}"))
                            for name, value in named.items())
        return RingSpec(frequency_hz=freq, cadence_ms=cadence, distinctive=distinctive)

    def cadence(self, value: Any, key: str) -> tuple[int, ...]:
        if (not isinstance(value, list) or not value or len(value) % 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                           for v in value)):
            raise self.fail(key, "must be an even-length list of positive on/off ms")
        return tuple(value)

    def caller_id(self, table: dict[str, Any]) -> CallerIdDefaults:
        standard = self.get(table, "standard", "caller_id.", str)
        if standard not in CID_STANDARDS:
            raise self.fail("caller_id.standard", f"{standard!r} is not one of {CID_STANDARDS}")
        alert = self.get(table, "alert", "caller_id.", str)
        if alert not in CID_ALERTS:
            raise self.fail("caller_id.alert", f"{alert!r} is not one of {CID_ALERTS}")
        note = self.get(table, "note", "caller_id.", str) if "note" in table else ""
        return CallerIdDefaults(standard=standard, alert=alert, note=note)
