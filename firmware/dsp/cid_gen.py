"""Caller ID generation for FXS ports: the audio plus the schedule the line layer keeps.

A CidSignal is a tuple of steps the line layer runs in order, starting at the moment
its `placement` names (the end of the first ring, the moment before ringing would
start, or an off-hook moment for call waiting). Steps are frozen dataclasses:

    PolarityReversal()   swap tip and ring (the SLIC does it; no audio)
    Wait(ms)             keep the line quiet for ms
    Play(samples, what)  send these 8 kHz int16 samples ("fsk", "dtmf", "alert", "sas")
    RingPulse(ms)        one short burst of ring voltage (ETSI RP-AS)
    MuteVoice(on)        cut (on=True) or restore the speech path of a call in progress
    AwaitAck(digits, timeout_ms)
                         wait for the phone to answer with one of these DTMF digits; if
                         none comes in time, run `abort_steps` instead of the rest

After the last step, the next ring (or the first, for before_ring) must wait at least
`min_gap_before_next_ring_ms`. For after_first_ring the steps begin with the GR-30 wait
of min_delay_after_ring_ms, so `fits_ring_gap(off_ms)` says whether the whole signal fits
a cadence's silence. `samples` renders the steps as the line carries them (waits and
ring pulses as silence, an acknowledgement assumed at once): for recording and tests.

Placements: after_first_ring, before_ring, no_ring (message waiting: nothing rings; a
reversal made to alert is undone at the end), off_hook (call waiting). Alerts: none,
polarity_reversal, polarity_reversal_dual_tone (reversal then DT-AS), ring_pulse, cas.

Timings (chosen values sit inside the ranges the standards give):
- Bell 202, GR-30: 300 seizure bits, 180 mark bits, message; on-hook after the first
  ring, starting >= 500 ms after it and ending >= 200 ms before the second.
- V.23, EN 300 659-1, before the first ring: after a polarity reversal (data 300 ms
  later, a vendor-typical figure); after a reversal, >= 100 ms, and the dual-tone alert
  2130 + 2750 Hz of 88-110 ms (DT-AS), data 45-500 ms later; or after a ring pulse of
  200-300 ms (RP-AS), data 500-800 ms later. The first ring follows the data by >= 200 ms.
  After the first ring it keeps the Bell 202 timing. 300 seizure and 180 mark bits.
- BT SIN 227 (UK): reversal, >= 100 ms, alert tone, 96-315 seizure bits, 55-90 mark bits.
- Call waiting (type II, off-hook): speech muted, subscriber alerting tone (440 Hz) and
  the CPE alerting signal 2130 + 2750 Hz of about 80 ms, the phone acknowledges with DTMF
  'A' or 'D' within 160 ms, data 50-500 ms later with 80 mark bits and no seizure.
- DTMF caller ID: 70 ms tones with 70 ms gaps, optionally after a polarity reversal.
- Levels: FSK -13.5 dBm0 by default; alert tones -15 dBm0 per tone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from firmware.dsp.callerid import (
    DTMF_FORMATS,
    CallerIdError,
    CallerIdInfo,
    DtmfFormat,
    encode_dtmf,
    encode_mdmf,
    encode_mwi_mdmf,
    encode_mwi_sdmf,
    encode_sdmf,
)
from firmware.dsp.dtmf import generate_dtmf
from firmware.dsp.fsk import (
    BELL202,
    SAMPLE_RATE_HZ,
    V23,
    FskStandard,
    async_bits,
    mark_bits,
    modulate,
    seizure_bits,
)
from firmware.dsp.levels import dbm0_to_amplitude, to_int16

Standard = Literal["bell202", "v23", "dtmf"]
FskName = Literal["bell202", "v23"]
MessageFormat = Literal["mdmf", "sdmf"]
FSK_NAMES: tuple[FskName, ...] = ("bell202", "v23")
MESSAGE_FORMATS: tuple[MessageFormat, ...] = ("mdmf", "sdmf")
Placement = Literal["after_first_ring", "before_ring", "no_ring", "off_hook"]
Alert = Literal["none", "polarity_reversal", "polarity_reversal_dual_tone", "ring_pulse",
                "cas"]
ALERTS: tuple[Alert, ...] = ("none", "polarity_reversal", "polarity_reversal_dual_tone",
                             "ring_pulse")  # the on-hook ones
# Country profiles (firmware/dsp/countries) name "after the first ring" as an alert.
PROFILE_AFTER_FIRST_RING = "after_first_ring"

DEFAULT_FSK_LEVEL_DBM0 = -13.5
DEFAULT_ALERT_LEVEL_DBM0 = -15.0  # per tone
DEFAULT_DTMF_LEVEL_DBM0 = -8.0  # high group; low group 2 dB below

# Telcordia GR-30 (Bell 202, on-hook) and GR-30 type II (call waiting).
GR30_SEIZURE_BITS = 300
GR30_MARK_BITS = 180
GR30_CW_MARK_BITS = 80
GR30_MIN_DELAY_AFTER_RING_MS = 500.0
GR30_MIN_GAP_BEFORE_RING_MS = 200.0
GR30_CAS_MS = 80.0
GR30_CAS_HZ = (2130.0, 2750.0)
GR30_ACK_TIMEOUT_MS = 160.0
GR30_ACK_DIGITS = "AD"
GR30_ACK_TO_DATA_MS = 100.0  # 50-500 ms
SAS_HZ = 440.0
SAS_MS = 300.0
SAS_LEVEL_DBM0 = -13.0

# ETSI EN 300 659-1 (V.23, on-hook).
EN300659_SEIZURE_BITS = 300
EN300659_MARK_BITS = 180
EN300659_DTAS_HZ = (2130.0, 2750.0)
EN300659_DTAS_MS = 100.0  # 88-110 ms
EN300659_LR_TO_DTAS_MS = 150.0  # >= 100 ms
EN300659_DTAS_TO_DATA_MS = 60.0  # 45-500 ms
EN300659_RPAS_MS = 250.0  # 200-300 ms
EN300659_RPAS_TO_DATA_MS = 600.0  # 500-800 ms
EN300659_MIN_DATA_TO_RING_MS = 200.0
EN300659_CW_ACK_DIGITS = "D"  # EN 300 659-2 off-hook acknowledgement
LR_TO_DATA_MS = 300.0  # reversal-only alerting: vendor-typical, not from a standard

# BT SIN 227.
SIN227_SEIZURE_BITS = 300  # 96-315
SIN227_MARK_BITS = 80  # 55-90

# DTMF caller ID.
DTMF_CID_ON_MS = 70.0
DTMF_CID_OFF_MS = 70.0

# Marks after the checksum so the last stop bit is not cut by the receiver's filters.
TRAILING_MARK_BITS = 8


@dataclass(frozen=True)
class PolarityReversal:
    """Swap tip and ring."""


@dataclass(frozen=True)
class Wait:
    ms: float


@dataclass(frozen=True, eq=False)
class Play:
    samples: npt.NDArray[np.int16]
    what: str

    @property
    def ms(self) -> float:
        return len(self.samples) * 1000.0 / SAMPLE_RATE_HZ


@dataclass(frozen=True)
class RingPulse:
    ms: float


@dataclass(frozen=True)
class MuteVoice:
    on: bool


@dataclass(frozen=True)
class AwaitAck:
    digits: str
    timeout_ms: float


CidStep = PolarityReversal | Wait | Play | RingPulse | MuteVoice | AwaitAck


@dataclass(frozen=True, eq=False)
class CidSignal:
    """Caller ID (or message waiting) for one FXS port: steps and timing rules."""

    standard: Standard
    placement: Placement
    alert: Alert
    steps: tuple[CidStep, ...]
    payload: bytes  # the FSK message, or the DTMF digits in ASCII
    min_delay_after_ring_ms: float = 0.0
    min_gap_before_next_ring_ms: float = 0.0
    abort_steps: tuple[CidStep, ...] = field(default=())

    @property
    def duration_ms(self) -> float:
        """Length of all steps (an acknowledgement counted as instant)."""
        return sum(s.ms for s in self.steps if isinstance(s, Wait | Play | RingPulse))

    @property
    def samples(self) -> npt.NDArray[np.int16]:
        parts: list[npt.NDArray[np.int16]] = []
        for step in self.steps:
            if isinstance(step, Play):
                parts.append(step.samples)
            elif isinstance(step, Wait | RingPulse):
                parts.append(silence(step.ms))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def fits_ring_gap(self, ring_off_ms: float) -> bool:
        """Whether an after-first-ring signal fits a cadence's silence of ring_off_ms."""
        return self.duration_ms + self.min_gap_before_next_ring_ms <= ring_off_ms


def silence(ms: float) -> npt.NDArray[np.int16]:
    return np.zeros(round(ms * SAMPLE_RATE_HZ / 1000.0), dtype=np.int16)


def tone(freqs: tuple[float, ...], ms: float,
         level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> npt.NDArray[np.int16]:
    """A sum of sines of `level_dbm0` each (alert tones)."""
    t = np.arange(round(ms * SAMPLE_RATE_HZ / 1000.0)) / SAMPLE_RATE_HZ
    amplitude = dbm0_to_amplitude(level_dbm0)
    wave = sum(amplitude * np.sin(2.0 * np.pi * f * t) for f in freqs)
    return to_int16(wave)


def fsk_burst(message: bytes, standard: FskStandard, seizure: int, marks: int,
              level_dbm0: float = DEFAULT_FSK_LEVEL_DBM0) -> npt.NDArray[np.int16]:
    """Seizure, marks, the message as async characters, and trailing marks."""
    bits = np.concatenate([seizure_bits(seizure), mark_bits(marks), async_bits(message),
                           mark_bits(TRAILING_MARK_BITS)])
    return modulate(bits, standard, level_dbm0)


def fsk_message(info: CallerIdInfo, fmt: MessageFormat) -> bytes:
    if fmt == "sdmf":
        return encode_sdmf(info)
    if fmt == "mdmf":
        return encode_mdmf(info)
    raise CallerIdError(f"unknown message format {fmt!r} (mdmf or sdmf)")


def _alert_steps(alert: Alert, level_dbm0: float, *, dtas_gap_ms: float) -> list[CidStep]:
    """What precedes the data before ringing (or without ringing)."""
    if alert == "none":
        return []
    if alert == "polarity_reversal":
        return [PolarityReversal(), Wait(LR_TO_DATA_MS)]
    if alert == "polarity_reversal_dual_tone":
        return [PolarityReversal(), Wait(EN300659_LR_TO_DTAS_MS),
                Play(tone(EN300659_DTAS_HZ, EN300659_DTAS_MS, level_dbm0), "alert"),
                Wait(dtas_gap_ms)]
    if alert == "ring_pulse":
        return [RingPulse(EN300659_RPAS_MS), Wait(EN300659_RPAS_TO_DATA_MS)]
    raise CallerIdError(f"alert {alert!r} is not an on-hook alert")


def _signal(standard: Standard, payload: bytes, data: Play, placement: Placement,
            alert: Alert, alert_level_dbm0: float) -> CidSignal:
    if placement == "after_first_ring":
        if alert != "none":
            raise CallerIdError(f"caller ID after the first ring takes no alert, not {alert!r}")
        return CidSignal(standard, placement, alert,
                         (Wait(GR30_MIN_DELAY_AFTER_RING_MS), data), payload,
                         min_delay_after_ring_ms=GR30_MIN_DELAY_AFTER_RING_MS,
                         min_gap_before_next_ring_ms=GR30_MIN_GAP_BEFORE_RING_MS)
    steps = _alert_steps(alert, alert_level_dbm0, dtas_gap_ms=EN300659_DTAS_TO_DATA_MS)
    steps.append(data)
    if placement == "no_ring" and alert != "none" and alert != "ring_pulse":
        # Nothing rings afterwards: give the line its idle polarity back.
        steps += [Wait(EN300659_MIN_DATA_TO_RING_MS), PolarityReversal()]
    gap = EN300659_MIN_DATA_TO_RING_MS if placement == "before_ring" else 0.0
    return CidSignal(standard, placement, alert, tuple(steps), payload,
                     min_gap_before_next_ring_ms=gap)


def fsk_cid(info: CallerIdInfo, standard: FskName = "bell202", *, fmt: MessageFormat = "mdmf",
            alert: Alert = "none", placement: Placement | None = None,
            level_dbm0: float = DEFAULT_FSK_LEVEL_DBM0,
            alert_level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> CidSignal:
    """On-hook FSK caller ID. Without an alert it goes after the first ring (GR-30 and
    EN 300 659-1 alike); with one it goes before the first ring."""
    fsk = _fsk_standard(standard)
    message = fsk_message(info, fmt)
    seizure, marks = ((GR30_SEIZURE_BITS, GR30_MARK_BITS) if standard == "bell202"
                      else (EN300659_SEIZURE_BITS, EN300659_MARK_BITS))
    data = Play(fsk_burst(message, fsk, seizure, marks, level_dbm0), "fsk")
    where = placement or ("after_first_ring" if alert == "none" else "before_ring")
    return _signal(standard, message, data, where, alert, alert_level_dbm0)


def sin227_cid(info: CallerIdInfo, *, fmt: MessageFormat = "mdmf",
               level_dbm0: float = DEFAULT_FSK_LEVEL_DBM0,
               alert_level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> CidSignal:
    """UK BT SIN 227: reversal, alert tone, V.23 with 55-90 mark bits, before ringing."""
    message = fsk_message(info, fmt)
    data = Play(fsk_burst(message, V23, SIN227_SEIZURE_BITS, SIN227_MARK_BITS, level_dbm0),
                "fsk")
    return _signal("v23", message, data, "before_ring", "polarity_reversal_dual_tone",
                   alert_level_dbm0)


def dtmf_cid(info: CallerIdInfo, *, fmt: DtmfFormat = "A_C", alert: Alert = "none",
             placement: Placement = "before_ring",
             level_dbm0: float = DEFAULT_DTMF_LEVEL_DBM0,
             alert_level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> CidSignal:
    """DTMF caller ID (India: alert="polarity_reversal"). Before ringing by default."""
    digits = encode_dtmf(info, fmt)
    tones = generate_dtmf(digits, DTMF_CID_ON_MS, DTMF_CID_OFF_MS, level_dbm0)
    data = Play(tones, "dtmf")
    return _signal("dtmf", digits.encode("ascii"), data, placement, alert, alert_level_dbm0)


def mwi_signal(on: bool, standard: FskName = "bell202", *, fmt: MessageFormat = "mdmf",
               alert: Alert | None = None, level_dbm0: float = DEFAULT_FSK_LEVEL_DBM0,
               alert_level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> CidSignal:
    """Visual message waiting indicator, on-hook and without ringing. Bell 202 sends
    it unannounced; V.23 announces it with a reversal and the dual-tone alert."""
    if fmt not in ("mdmf", "sdmf"):
        raise CallerIdError(f"unknown message format {fmt!r} (mdmf or sdmf)")
    message = encode_mwi_mdmf(on) if fmt == "mdmf" else encode_mwi_sdmf(on)
    fsk = _fsk_standard(standard)
    seizure, marks = ((GR30_SEIZURE_BITS, GR30_MARK_BITS) if standard == "bell202"
                      else (EN300659_SEIZURE_BITS, EN300659_MARK_BITS))
    data = Play(fsk_burst(message, fsk, seizure, marks, level_dbm0), "fsk")
    chosen: Alert = alert or ("none" if standard == "bell202"
                              else "polarity_reversal_dual_tone")
    return _signal(standard, message, data, "no_ring", chosen, alert_level_dbm0)


def call_waiting_cid(info: CallerIdInfo, standard: FskName = "bell202", *,
                     fmt: MessageFormat = "mdmf", sas: bool = True,
                     level_dbm0: float = DEFAULT_FSK_LEVEL_DBM0,
                     alert_level_dbm0: float = DEFAULT_ALERT_LEVEL_DBM0) -> CidSignal:
    """Type II caller ID to a phone already in a call (off-hook)."""
    fsk = _fsk_standard(standard)
    message = fsk_message(info, fmt)
    data = Play(fsk_burst(message, fsk, 0, GR30_CW_MARK_BITS, level_dbm0), "fsk")
    ack = GR30_ACK_DIGITS if standard == "bell202" else EN300659_CW_ACK_DIGITS
    steps: list[CidStep] = [MuteVoice(True)]
    if sas:
        steps.append(Play(tone((SAS_HZ,), SAS_MS, SAS_LEVEL_DBM0), "sas"))
    steps += [Play(tone(GR30_CAS_HZ, GR30_CAS_MS, alert_level_dbm0), "alert"),
              AwaitAck(ack, GR30_ACK_TIMEOUT_MS), Wait(GR30_ACK_TO_DATA_MS), data,
              MuteVoice(False)]
    return CidSignal(standard, "off_hook", "cas", tuple(steps), message,
                     abort_steps=(MuteVoice(False),))


def generate_cid(info: CallerIdInfo, standard: str, *, fmt: str | None = None,
                 alert: str = "none", level_dbm0: float | None = None) -> CidSignal:
    """One entry for every on-hook caller ID variant, taking the words of the command
    line and of the country profiles ([caller_id] standard and alert, where the alert
    "after_first_ring" means none). `fmt` is mdmf (default) or sdmf for FSK, and the digit
    format A_C (default), A_HASH or D_C for DTMF.
    """
    if alert == PROFILE_AFTER_FIRST_RING:
        alert = "none"
    if alert not in ALERTS:
        raise CallerIdError(f"unknown caller ID alert {alert!r} (one of {', '.join(ALERTS)})")
    if standard == "dtmf":
        fmt = fmt or "A_C"
        if fmt not in DTMF_FORMATS:
            raise CallerIdError(f"DTMF caller ID format {fmt!r}: use A_C, A_HASH or D_C")
        level = DEFAULT_DTMF_LEVEL_DBM0 if level_dbm0 is None else level_dbm0
        return dtmf_cid(info, fmt=fmt, alert=alert, level_dbm0=level)
    if standard not in FSK_NAMES:
        raise CallerIdError(f"caller ID standard {standard!r} is not supported "
                            "(bell202, v23 or dtmf)")
    fmt = fmt or "mdmf"
    if fmt not in MESSAGE_FORMATS:
        raise CallerIdError(f"unknown message format {fmt!r} (mdmf or sdmf)")
    level = DEFAULT_FSK_LEVEL_DBM0 if level_dbm0 is None else level_dbm0
    return fsk_cid(info, standard, fmt=fmt, alert=alert, level_dbm0=level)


def _fsk_standard(name: str) -> FskStandard:
    if name == "bell202":
        return BELL202
    if name == "v23":
        return V23
    raise CallerIdError(f"unknown FSK standard {name!r} (bell202 or v23)")
