"""Board profiles: one TOML file per board revision under ``board/``.

A profile says which backend drives each port (``gpio``, ``coproc`` or ``sim``), which BCM
pins and ALSA cards a GPIO port uses, where the line co-processor's UART is, and the
board's limits, quirks and certification notes. It is data only: nothing here touches
hardware. A wrong profile raises :class:`BoardProfileError` naming the file, the key and,
where it can be found, the line, so an installer can fix the file without reading code.

Rules checked beyond types: port indices are 1-based and unique per kind; a GPIO port has
all its required pins; no BCM pin is used twice (the UART's pins count when the
co-processor sits on the Pi's own UART); ``ring_drive = "pwm"`` needs the F/R pin on a
hardware PWM channel, one port per channel; a co-processor port needs a ``[uart]`` table.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeVar, cast

from drivers.errors import BoardProfileError

Backend = Literal["gpio", "coproc", "sim"]
RingDrive = Literal["pwm", "software"]
BACKENDS: tuple[Backend, ...] = ("gpio", "coproc", "sim")

BOARD_DIR = Path(__file__).resolve().parent.parent / "board"
BOARD_DIR_ENV = "MINIPBX_BOARD_DIR"

# The 40-pin header exposes BCM GPIO 0-27.
BCM_PINS = range(28)
# Hardware PWM channels of the BCM283x/BCM2711 on the header (PWM0: 12/18, PWM1: 13/19).
HARDWARE_PWM_CHANNEL = {12: 0, 18: 0, 13: 1, 19: 1}
# The Pi's primary UART (/dev/serial0 → ttyAMA0 or ttyS0) sits on BCM 14 (TXD) and 15 (RXD).
PRIMARY_UART_PINS = (14, 15)
PRIMARY_UART_DEVICES = ("/dev/serial0", "/dev/ttyAMA0", "/dev/ttyS0")

FXS_PINS_REQUIRED = ("shk", "fr", "rm")
FXS_PINS_OPTIONAL = ("pd",)
FXO_PINS_REQUIRED = ("ring_detect", "hook")
FXO_PINS_OPTIONAL = ("polarity", "loop_current")
# TELEPHONY.md: a polarity reversal can look like a ring; wait 40 ms or more before deciding.
RING_MIN_MS_DEFAULT = 40
AUDIO_PERIODS_MS = (10, 20)


@dataclass(frozen=True)
class AudioSpec:
    """ALSA devices of one port: 8 kHz mono s16le, one capture and one playback PCM."""

    card: str
    capture: str
    playback: str
    period_ms: int = 20


@dataclass(frozen=True)
class FxsPortProfile:
    index: int
    backend: Backend
    # shk, fr, rm and optionally pd (gpio backend only); read-only, left out of the hash
    pins: Mapping[str, int] = field(hash=False)
    active_low: frozenset[str] = frozenset()
    ring_drive: RingDrive = "software"
    audio: AudioSpec | None = None
    channel: int | None = None  # the co-processor's port number (coproc backend)
    notes: str = ""


@dataclass(frozen=True)
class FxoPortProfile:
    index: int
    backend: Backend
    # ring_detect, hook and optionally polarity, loop_current (gpio backend only)
    pins: Mapping[str, int] = field(hash=False)
    active_low: frozenset[str] = frozenset()
    ring_min_ms: int = RING_MIN_MS_DEFAULT
    ring_gap_ms: int = 0  # bridges the gaps of an unfiltered opto's ring pulses
    audio: AudioSpec | None = None
    channel: int | None = None
    line_impedance: str = ""
    certification: str = ""
    notes: str = ""


@dataclass(frozen=True)
class UartSpec:
    device: str
    baud: int


@dataclass(frozen=True)
class Limits:
    max_ren_per_port: float
    ring_voltage_vrms: float
    ring_voltage_note: str = ""
    max_ports: int = 8


@dataclass(frozen=True)
class BoardProfile:
    name: str
    revision: str
    description: str
    path: Path
    fxs: tuple[FxsPortProfile, ...]
    fxo: tuple[FxoPortProfile, ...]
    limits: Limits
    ring_frequencies_hz: tuple[float, ...] = (20.0, 25.0)
    uart: UartSpec | None = None
    overlays: tuple[str, ...] = ()  # config.txt dtoverlay lines the board needs
    quirks: tuple[str, ...] = ()
    notes: str = ""

    def backends(self) -> frozenset[Backend]:
        return frozenset({p.backend for p in self.fxs} | {p.backend for p in self.fxo})


def board_dir() -> Path:
    return Path(os.environ.get(BOARD_DIR_ENV) or BOARD_DIR)


def available_boards(directory: Path | None = None) -> list[str]:
    """Names of the shipped profiles (the file stems of ``board/*.toml``)."""
    return sorted(p.stem for p in (directory or board_dir()).glob("*.toml"))


def load_board_profile(name_or_path: str | Path) -> BoardProfile:
    """Load and check a profile by board name (``board/NAME.toml``) or by file path."""
    text_name = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text_name or text_name.endswith(".toml"):
        path = Path(name_or_path)
    else:
        path = board_dir() / f"{text_name}.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(available_boards()) or "none"
        raise BoardProfileError(
            f"{path}: no such board profile (shipped boards: {known})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BoardProfileError(f"{path}: not valid TOML: {exc}") from None
    return _Parser(path, text).board(data)


T = TypeVar("T")
Key = tuple[str | int, ...]


class _Parser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    # --- errors ----------------------------------------------------------------------
    def fail(self, key: Key, what: str) -> BoardProfileError:
        line = _find_line(self.text, key)
        where = f"{self.path}" + (f":{line}" if line else "")
        return BoardProfileError(f"{where}: key '{_dotted(key)}': {what}")

    def get(self, table: Mapping[str, object], key: Key, kind: type[T], *,
            required: bool = True, what: str = "") -> T | None:
        name = cast(str, key[-1])
        if name not in table:
            if required:
                raise self.fail(key, f"missing ({what or kind.__name__} required)")
            return None
        value = table[name]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.fail(key, f"expected {what or kind.__name__}, got {value!r}")
        return cast(T, value)

    def req(self, table: Mapping[str, object], key: Key, kind: type[T], what: str = "") -> T:
        value = self.get(table, key, kind, what=what)
        assert value is not None
        return value

    def opt(self, table: Mapping[str, object], key: Key, kind: type[T], default: T,
            what: str = "") -> T:
        value = self.get(table, key, kind, required=False, what=what)
        return default if value is None else value

    def table(self, parent: Mapping[str, object], key: Key, *,
              required: bool = True) -> Mapping[str, object] | None:
        return self.get(parent, key, dict, required=required, what="a table")

    def no_unknown(self, table: Mapping[str, object], key: Key, allowed: set[str]) -> None:
        for name in table:
            if name not in allowed:
                raise self.fail((*key, name),
                                f"unknown key (allowed here: {', '.join(sorted(allowed))})")

    def str_list(self, table: Mapping[str, object], key: Key) -> tuple[str, ...]:
        items = self.opt(table, key, list, [], "a list")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail((*key, i), f"expected a string, got {item!r}")
        return tuple(cast(list[str], items))

    # --- the profile -----------------------------------------------------------------
    def board(self, data: Mapping[str, object]) -> BoardProfile:
        self.no_unknown(data, (), {"board", "limits", "ring", "uart", "fxs", "fxo"})
        board = self.table(data, ("board",))
        assert board is not None
        self.no_unknown(board, ("board",), {"name", "revision", "description", "overlays",
                                            "quirks", "notes"})
        name = self.req(board, ("board", "name"), str, "a string")
        if name != self.path.stem:
            raise self.fail(("board", "name"),
                            f"{name!r} differs from the file name {self.path.stem!r}")
        uart = self.uart(data)
        fxs = tuple(self.fxs(t, i) for i, t in enumerate(self.port_tables(data, "fxs")))
        fxo = tuple(self.fxo(t, i) for i, t in enumerate(self.port_tables(data, "fxo")))
        limits = self.limits(data, len(fxs) + len(fxo))
        ring = self.opt(data, ("ring",), dict, {}, "a table")
        self.no_unknown(ring, ("ring",), {"frequencies_hz"})
        freqs = self.opt(ring, ("ring", "frequencies_hz"), list, [20.0, 25.0], "a list of Hz")
        for i, f in enumerate(freqs):
            if isinstance(f, bool) or not isinstance(f, int | float) or not 10 <= f <= 60:
                raise self.fail(("ring", "frequencies_hz", i), f"{f!r} is not 10 to 60 Hz")
        profile = BoardProfile(
            name=name,
            revision=self.req(board, ("board", "revision"), str, "a string"),
            description=self.req(board, ("board", "description"), str, "a string"),
            path=self.path, fxs=fxs, fxo=fxo, limits=limits,
            ring_frequencies_hz=tuple(float(f) for f in freqs), uart=uart,
            overlays=self.str_list(board, ("board", "overlays")),
            quirks=self.str_list(board, ("board", "quirks")),
            notes=self.opt(board, ("board", "notes"), str, ""),
        )
        self.check_ports(profile)
        return profile

    def port_tables(self, data: Mapping[str, object], kind: str) -> list[Mapping[str, object]]:
        tables = self.opt(data, (kind,), list, [], f"an array of tables ([[{kind}]])")
        for i, t in enumerate(tables):
            if not isinstance(t, dict):
                raise self.fail((kind, i), f"expected a table ([[{kind}]]), got {t!r}")
        return cast(list[Mapping[str, object]], tables)

    def common(self, t: Mapping[str, object], key: Key) -> tuple[int, Backend, int | None]:
        index = self.req(t, (*key, "index"), int, "a port number")
        if index < 1:
            raise self.fail((*key, "index"), f"{index} is not a port number (1, 2, ...)")
        backend = self.req(t, (*key, "backend"), str, "a string")
        if backend not in BACKENDS:
            raise self.fail((*key, "backend"),
                            f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")
        channel = self.get(t, (*key, "channel"), int, required=False, what="an integer")
        return index, backend, channel

    def pins(self, t: Mapping[str, object], key: Key, backend: str,
             required: tuple[str, ...], optional: tuple[str, ...]) -> Mapping[str, int]:
        table = self.table(t, (*key, "pins"), required=backend == "gpio") or {}
        self.no_unknown(table, (*key, "pins"), {*required, *optional})
        pins: dict[str, int] = {}
        for pin_name in (*required, *optional):
            value = self.get(table, (*key, "pins", pin_name), int, what="a BCM pin number",
                             required=backend == "gpio" and pin_name in required)
            if value is None:
                continue
            if value not in BCM_PINS:
                raise self.fail((*key, "pins", pin_name),
                                f"BCM {value} is not on the 40-pin header (0 to 27)")
            pins[pin_name] = value
        active_low = self.str_list(t, (*key, "active_low"))
        for i, n in enumerate(active_low):
            if n not in (*required, *optional):
                raise self.fail((*key, "active_low", i), f"{n!r} is not a pin of this port")
        return MappingProxyType(pins)

    def fxs(self, t: Mapping[str, object], i: int) -> FxsPortProfile:
        key: Key = ("fxs", i)
        self.no_unknown(t, key, {"index", "backend", "channel", "pins", "active_low",
                                 "ring_drive", "audio", "notes"})
        index, backend, channel = self.common(t, key)
        pins = self.pins(t, key, backend, FXS_PINS_REQUIRED, FXS_PINS_OPTIONAL)
        drive = self.opt(t, (*key, "ring_drive"), str, "software")
        if drive not in ("pwm", "software"):
            raise self.fail((*key, "ring_drive"), f"{drive!r} is not 'pwm' or 'software'")
        return FxsPortProfile(
            index=index, backend=backend, pins=pins, channel=channel,
            active_low=frozenset(self.str_list(t, (*key, "active_low"))),
            ring_drive=cast(RingDrive, drive), audio=self.audio(t, key),
            notes=self.opt(t, (*key, "notes"), str, ""))

    def fxo(self, t: Mapping[str, object], i: int) -> FxoPortProfile:
        key: Key = ("fxo", i)
        self.no_unknown(t, key, {"index", "backend", "channel", "pins", "active_low",
                                 "ring_min_ms", "ring_gap_ms", "audio", "line_impedance",
                                 "certification", "notes"})
        index, backend, channel = self.common(t, key)
        pins = self.pins(t, key, backend, FXO_PINS_REQUIRED, FXO_PINS_OPTIONAL)
        ring_min = self.opt(t, (*key, "ring_min_ms"), int, RING_MIN_MS_DEFAULT)
        if ring_min < RING_MIN_MS_DEFAULT:
            raise self.fail((*key, "ring_min_ms"),
                            f"{ring_min} ms would take a polarity reversal for a ring "
                            f"(use {RING_MIN_MS_DEFAULT} ms or more)")
        ring_gap = self.opt(t, (*key, "ring_gap_ms"), int, 0)
        if not 0 <= ring_gap <= 200:
            raise self.fail((*key, "ring_gap_ms"), f"{ring_gap} is not 0 to 200 ms")
        return FxoPortProfile(
            index=index, backend=backend, pins=pins, channel=channel,
            active_low=frozenset(self.str_list(t, (*key, "active_low"))),
            ring_min_ms=ring_min, ring_gap_ms=ring_gap, audio=self.audio(t, key),
            line_impedance=self.opt(t, (*key, "line_impedance"), str, ""),
            certification=self.opt(t, (*key, "certification"), str, ""),
            notes=self.opt(t, (*key, "notes"), str, ""))

    def audio(self, t: Mapping[str, object], key: Key) -> AudioSpec | None:
        table = self.table(t, (*key, "audio"), required=False)
        if table is None:
            return None
        akey = (*key, "audio")
        self.no_unknown(table, akey, {"card", "capture", "playback", "period_ms"})
        card = self.req(table, (*akey, "card"), str, "an ALSA card name")
        default_dev = f"plughw:CARD={card},DEV=0"
        period = self.opt(table, (*akey, "period_ms"), int, 20)
        if period not in AUDIO_PERIODS_MS:
            raise self.fail((*akey, "period_ms"), f"{period} is not 10 or 20")
        return AudioSpec(
            card=card,
            capture=self.opt(table, (*akey, "capture"), str, default_dev),
            playback=self.opt(table, (*akey, "playback"), str, default_dev),
            period_ms=period)

    def uart(self, data: Mapping[str, object]) -> UartSpec | None:
        table = self.table(data, ("uart",), required=False)
        if table is None:
            return None
        self.no_unknown(table, ("uart",), {"device", "baud"})
        baud = self.req(table, ("uart", "baud"), int, "a baud rate")
        if baud <= 0:
            raise self.fail(("uart", "baud"), f"{baud} is not a baud rate")
        return UartSpec(self.req(table, ("uart", "device"), str, "a device path"), baud)

    def limits(self, data: Mapping[str, object], ports: int) -> Limits:
        table = self.table(data, ("limits",))
        assert table is not None
        self.no_unknown(table, ("limits",), {"max_ren_per_port", "ring_voltage_vrms",
                                             "ring_voltage_note", "max_ports"})
        max_ports = self.opt(table, ("limits", "max_ports"), int, max(ports, 1))
        if ports > max_ports:
            raise self.fail(("limits", "max_ports"),
                            f"the profile lists {ports} ports but allows {max_ports}")
        return Limits(
            max_ren_per_port=self.req(table, ("limits", "max_ren_per_port"), float, "a REN"),
            ring_voltage_vrms=self.req(table, ("limits", "ring_voltage_vrms"), float,
                                       "a voltage (Vrms)"),
            ring_voltage_note=self.opt(table, ("limits", "ring_voltage_note"), str, ""),
            max_ports=max_ports)

    def check_ports(self, profile: BoardProfile) -> None:
        used: dict[int, str] = {}
        if profile.uart and profile.uart.device in PRIMARY_UART_DEVICES:
            for pin in PRIMARY_UART_PINS:
                used[pin] = f"uart ({profile.uart.device})"
        pwm: dict[int, str] = {}
        seen: set[tuple[str, int]] = set()
        kinds: tuple[tuple[str, tuple[FxsPortProfile | FxoPortProfile, ...]], ...] = (
            ("fxs", profile.fxs), ("fxo", profile.fxo))
        for kind, ports in kinds:
            for i, port in enumerate(ports):
                key: Key = (kind, i)
                if (kind, port.index) in seen:
                    raise self.fail((*key, "index"), f"{kind.upper()} {port.index} twice")
                seen.add((kind, port.index))
                if port.backend == "coproc" and profile.uart is None:
                    raise self.fail((*key, "backend"),
                                    "a coproc port needs a [uart] table (device, baud)")
                if port.backend != "gpio":
                    continue
                for pin_name, pin in port.pins.items():
                    owner = f"{kind}{port.index}.{pin_name}"
                    if pin in used:
                        raise self.fail((*key, "pins", pin_name),
                                        f"BCM {pin} is already used by {used[pin]}")
                    used[pin] = owner
                if isinstance(port, FxsPortProfile) and port.ring_drive == "pwm":
                    fr = port.pins["fr"]
                    channel = HARDWARE_PWM_CHANNEL.get(fr)
                    if channel is None:
                        raise self.fail((*key, "ring_drive"),
                                        f"'pwm' needs F/R on a hardware PWM pin "
                                        f"(BCM 12, 13, 18, 19), not BCM {fr}")
                    if channel in pwm:
                        raise self.fail((*key, "pins", "fr"),
                                        f"PWM{channel} is already driving {pwm[channel]}")
                    pwm[channel] = f"fxs{port.index}"


def _dotted(key: Key) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=")
_INLINE_KEY = re.compile(r"([A-Za-z0-9_\-]+)\s*=")


def _find_line(text: str, key: Key) -> int | None:
    """Best-effort line of ``key`` in the TOML text (tomllib gives no positions).

    Tracks the current table header, counting ``[[array]]`` entries, and matches dotted
    and inline-table keys. A missing key points at its table's header.
    """
    counts: dict[str, int] = {}
    header: Key = ()
    best: tuple[int, int] | None = None  # (matched length, line)

    def consider(path: Key, line: int) -> None:
        nonlocal best
        if key[: len(path)] == path and (best is None or len(path) > best[0]):
            best = (len(path), line)

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        if m := _HEADER.match(line):
            parts = m.group(2).split(".")
            if m.group(1) == "[[":
                counts[m.group(2)] = counts.get(m.group(2), -1) + 1
                header = (*parts, counts[m.group(2)])
            elif parts[0] in counts:  # a sub-table of the last array entry
                header = (parts[0], counts[parts[0]], *parts[1:])
            else:
                header = tuple(parts)
            consider(header, lineno)
            continue
        if m := _ASSIGN.match(line):
            path: Key = (*header, *m.group(1).split("."))
            consider(path, lineno)
            rest = line[m.end():]
            if "{" in rest:
                for inner in _INLINE_KEY.findall(rest):
                    consider((*path, inner), lineno)
    return best[1] if best else None
