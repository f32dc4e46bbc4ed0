"""Caller ID reception: FXO lines and the simulated handset hear FSK or DTMF caller ID.

Rules:

- FSK (Bell 202 or V.23, one demodulator for both): a message starts with the first
  character after at least MIN_IDLE_MARK_BITS of mark, so the channel seizure (which
  frames as 0x55 characters with no idle between them) never starts one. The length
  byte says where it ends; the checksum decides whether it counts. A framing error inside
  a message drops it. With standard "auto" the measured mark frequency names the
  standard (below MARK_SPLIT_HZ: Bell 202, above: V.23).
- DTMF: a string starts with 'A', 'B' or 'D' and ends with 'C' or '#'; a pause longer
  than DTMF_DIGIT_TIMEOUT_MS between digits, or more than DTMF_MAX_DIGITS, drops it.
- CidReceiver is fed live audio in any block size (the line layer uses 20 ms frames) and
  returns a CidResult when a message completes (FSK results come up to 80 ms late: the
  demodulator works on 80 ms batches); bad messages leave `last_error` set and
  the receiver listening. decode_cid runs a whole recording through one and raises
  ChecksumError, NoCarrierError or CallerIdError when nothing good was found.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from firmware.dsp.callerid import (
    CallerIdError,
    CallerIdInfo,
    ChecksumError,
    NoCarrierError,
    decode_dtmf,
    decode_message,
)
from firmware.dsp.dtmf import DtmfDetector, DtmfDigit
from firmware.dsp.fsk import (
    BELL202_MARK_HZ,
    SAMPLE_RATE_HZ,
    V23_MARK_HZ,
    FskByte,
    FskDemodulator,
)

__all__ = ["CallerIdError", "ChecksumError", "CidReceiver", "CidResult", "NoCarrierError",
           "decode_cid"]

RxStandard = Literal["bell202", "v23", "dtmf", "auto"]
FoundStandard = Literal["bell202", "v23", "dtmf"]
RX_STANDARDS: tuple[RxStandard, ...] = ("bell202", "v23", "dtmf", "auto")

MIN_IDLE_MARK_BITS = 10.0  # GR-30 sends 180 (80 on call waiting), SIN 227 at least 55
MARK_SPLIT_HZ = (BELL202_MARK_HZ + V23_MARK_HZ) / 2.0
DTMF_START_MARKERS = "ABD"
DTMF_END_MARKERS = "C#"
DTMF_DIGIT_TIMEOUT_MS = 1000.0
DTMF_MAX_DIGITS = 32
FLUSH_MS = 100.0  # silence that pushes the last character through the filters


@dataclass(frozen=True)
class CidResult:
    """One decoded caller ID or message waiting message.

    `raw` is the whole FSK message (type, length, body, checksum) or the DTMF digits;
    `message_type` is None for DTMF; `at_ms` is where the message ended in the stream.
    """

    info: CallerIdInfo | None
    mwi: bool | None
    message_type: int | None
    raw: bytes
    standard: FoundStandard
    at_ms: float


class CidReceiver:
    """Streaming caller ID receiver; feed() it audio, it returns results as they complete.

    If one feed() completes several messages, the later ones come out of the following
    feed() calls (feed an empty array to drain them).
    """

    def __init__(self, standard: RxStandard = "auto", sample_rate: int = SAMPLE_RATE_HZ) -> None:
        if standard not in RX_STANDARDS:
            raise ValueError(f"caller ID standard {standard!r}: use one of "
                             f"{', '.join(RX_STANDARDS)}")
        self.standard = standard
        self.sample_rate = sample_rate
        self._fsk = FskDemodulator(sample_rate) if standard != "dtmf" else None
        self._dtmf = DtmfDetector(sample_rate) if standard in ("dtmf", "auto") else None
        self.reset()

    def reset(self) -> None:
        if self._fsk is not None:
            self._fsk.reset()
        if self._dtmf is not None:
            self._dtmf.reset()
        self._message: bytearray | None = None
        self._digits = ""
        self._last_digit_ms = 0.0
        self._pending: deque[CidResult] = deque()
        self.last_error: CallerIdError | None = None
        self.dtmf_seen = False

    @property
    def carrier_seen(self) -> bool:
        """Whether any FSK carrier or DTMF caller ID digit was heard."""
        fsk = self._fsk is not None and self._fsk.carrier_seen
        return fsk or self.dtmf_seen

    def feed(self, samples: npt.ArrayLike) -> CidResult | None:
        x = np.asarray(samples).reshape(-1)
        if x.size:
            if self._fsk is not None:
                for char in self._fsk.feed(x):
                    self._on_fsk_char(char)
            if self._dtmf is not None:
                for digit in self._dtmf.feed(x):
                    self._on_digit(digit)
        return self._pending.popleft() if self._pending else None

    def flush(self) -> CidResult | None:
        """End of the audio: let the last character or digit through."""
        if self._fsk is not None:
            quiet = np.zeros(round(FLUSH_MS * self.sample_rate / 1000.0))
            for char in self._fsk.feed(quiet) + self._fsk.flush():
                self._on_fsk_char(char)
        if self._dtmf is not None:
            for digit in self._dtmf.flush():
                self._on_digit(digit)
        return self._pending.popleft() if self._pending else None

    def failure(self) -> CallerIdError:
        """The exception that best says why nothing was decoded."""
        if self.last_error is not None:
            return self.last_error
        if self._message:
            return CallerIdError(f"FSK message cut short after {len(self._message)} bytes")
        if self.carrier_seen:
            return CallerIdError("a caller ID signal was heard but no complete message")
        wanted = {"auto": "FSK or DTMF", "dtmf": "DTMF"}.get(self.standard, "FSK")
        return NoCarrierError(f"no {wanted} caller ID signal found")

    def _on_fsk_char(self, char: FskByte) -> None:
        if char.idle_bits >= MIN_IDLE_MARK_BITS:
            self._message = bytearray() if char.framing_ok else None
        if self._message is None:
            return
        if not char.framing_ok:
            self.last_error = CallerIdError(
                f"framing error in byte {len(self._message)} of an FSK message")
            self._message = None
            return
        self._message.append(char.value)
        if len(self._message) >= 2 and len(self._message) == self._message[1] + 3:
            data, self._message = bytes(self._message), None
            try:
                message = decode_message(data)
            except CallerIdError as error:
                self.last_error = error
                return
            end = char.at_sample + 10 * self._fsk_samples_per_bit()
            at_ms = float(end) * 1000.0 / self.sample_rate
            self._pending.append(CidResult(message.info, message.mwi, message.message_type,
                                           message.raw, self._fsk_standard(), at_ms))

    def _fsk_samples_per_bit(self) -> float:
        return self._fsk.samples_per_bit if self._fsk is not None else 0.0

    def _fsk_standard(self) -> FoundStandard:
        if self.standard in ("bell202", "v23"):
            return "bell202" if self.standard == "bell202" else "v23"
        mark = self._fsk.measured_mark_hz if self._fsk is not None else None
        return "v23" if mark is not None and mark > MARK_SPLIT_HZ else "bell202"

    def _on_digit(self, digit: DtmfDigit) -> None:
        if self._digits and digit.start_ms - self._last_digit_ms > DTMF_DIGIT_TIMEOUT_MS:
            self._digits = ""
        self._last_digit_ms = digit.start_ms + digit.duration_ms
        if not self._digits and digit.digit not in DTMF_START_MARKERS:
            return
        self.dtmf_seen = True
        self._digits += digit.digit
        if len(self._digits) > DTMF_MAX_DIGITS:
            self.last_error = CallerIdError(f"DTMF caller ID longer than {DTMF_MAX_DIGITS} digits")
            self._digits = ""
            return
        if digit.digit in DTMF_END_MARKERS:
            digits, self._digits = self._digits, ""
            try:
                info = decode_dtmf(digits)
            except CallerIdError as error:
                self.last_error = error
                return
            self._pending.append(CidResult(info, None, None, digits.encode("ascii"), "dtmf",
                                           self._last_digit_ms))


def decode_cid(samples: npt.ArrayLike, standard: RxStandard = "auto",
               sample_rate: int = SAMPLE_RATE_HZ) -> CidResult:
    """Decode the first caller ID message in a recording.

    Raises ChecksumError when a whole message failed its checksum, NoCarrierError when
    no FSK carrier or DTMF caller ID was heard, CallerIdError for anything else wrong.
    """
    receiver = CidReceiver(standard, sample_rate)
    result = receiver.feed(samples) or receiver.flush()
    if result is None:
        raise receiver.failure()
    return result
