"""`minipbx signal generate cid|mwi` and `minipbx signal detect cid`: caller ID as WAV files.

signal_cmd.py owns the `signal` command and calls add_cid_generate_parsers and
add_cid_detect_parsers with its `generate` and `detect` sub-parser sets. Each parser
sets `func`, a handler taking the parsed Namespace and returning the exit code:
0 done; 1 the file holds no good caller ID (no carrier, checksum failure, garbled);
2 bad arguments or a file that is missing, not a WAV or cut short. Errors are one line
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, cast

from firmware.dsp.callerid import (
    MSG_MDMF_CALLERID,
    MSG_MDMF_MWI,
    MSG_SDMF_CALLERID,
    MSG_SDMF_MWI,
    Absence,
    CallerIdError,
    CallerIdInfo,
    DtmfFormat,
)
from firmware.dsp.cid_gen import (
    Alert,
    AwaitAck,
    CidSignal,
    MuteVoice,
    Play,
    PolarityReversal,
    RingPulse,
    Wait,
    generate_cid,
    mwi_signal,
)
from firmware.dsp.cid_rx import CidResult, RxStandard, decode_cid
from firmware.media.wavfile import WavError, read_wav, write_wav

EXIT_OK = 0
EXIT_NO_CID = 1
EXIT_USAGE = 2

_ALERTS: dict[str, Alert] = {"none": "none", "polarity": "polarity_reversal",
                             "dtmf-alert": "polarity_reversal_dual_tone",
                             "ring-pulse": "ring_pulse"}
_REASONS: dict[str, Absence] = {"private": "P", "unavailable": "O"}
_DTMF_FORMATS: dict[str, DtmfFormat] = {"a-c": "A_C", "a-hash": "A_HASH", "d-c": "D_C"}
_MESSAGE_NAMES = {MSG_SDMF_CALLERID: "SDMF caller ID", MSG_MDMF_CALLERID: "MDMF caller ID",
                  MSG_SDMF_MWI: "SDMF message waiting", MSG_MDMF_MWI: "MDMF message waiting"}
_REASON_NAMES = {"P": "private", "O": "unavailable"}


def add_cid_generate_parsers(generate_sub: argparse._SubParsersAction[Any]) -> None:
    """Add `cid` and `mwi` to `minipbx signal generate`."""
    cid = generate_sub.add_parser(
        "cid", help="write on-hook caller ID (FSK or DTMF) to a WAV file",
        description="Write the caller ID an FXS port sends, as 8 kHz mono WAV.")
    cid.add_argument("--standard", choices=("bell202", "v23", "dtmf"), required=True)
    cid.add_argument("--format", choices=("mdmf", "sdmf"), default="mdmf",
                     help="FSK message format (default mdmf)")
    cid.add_argument("--dtmf-format", choices=tuple(_DTMF_FORMATS), default="a-c",
                     help="DTMF string: A<number>C, A<number># or D<number>C (default a-c)")
    cid.add_argument("--number", help="calling number")
    cid.add_argument("--name", help="calling name (MDMF only)")
    cid.add_argument("--datetime", metavar="MMDDHHMM",
                     help="date and time shown (FSK; default: now)")
    cid.add_argument("--reason", choices=tuple(_REASONS),
                     help="why the number (and, in MDMF, the name) is not given")
    cid.add_argument("--alert", choices=tuple(_ALERTS), default="none",
                     help="none: after the first ring; others: before it "
                          "(dtmf-alert is the 2130+2750 Hz dual-tone alert)")
    cid.add_argument("--level", type=float, metavar="DBM0", help="signal level in dBm0")
    cid.add_argument("-o", "--output", required=True, metavar="FILE.wav")
    cid.set_defaults(func=_generate_cid)

    mwi = generate_sub.add_parser(
        "mwi", help="write a visual message waiting indication to a WAV file",
        description="Write the on-hook message waiting indication as 8 kHz mono WAV.")
    mwi.add_argument("--standard", choices=("bell202", "v23"), required=True)
    state = mwi.add_mutually_exclusive_group(required=True)
    state.add_argument("--on", dest="on", action="store_true", help="messages are waiting")
    state.add_argument("--off", dest="on", action="store_false", help="no messages waiting")
    mwi.add_argument("--format", choices=("mdmf", "sdmf"), default="mdmf")
    mwi.add_argument("-o", "--output", required=True, metavar="FILE.wav")
    mwi.set_defaults(func=_generate_mwi)


def add_cid_detect_parsers(detect_sub: argparse._SubParsersAction[Any]) -> None:
    """Add `cid` to `minipbx signal detect`."""
    cid = detect_sub.add_parser(
        "cid", help="decode caller ID or message waiting from a WAV file",
        description="Decode FSK (Bell 202, V.23) or DTMF caller ID from an 8 kHz WAV.")
    cid.add_argument("file", metavar="FILE.wav")
    cid.add_argument("--standard", choices=("auto", "bell202", "v23", "dtmf"), default="auto")
    cid.add_argument("--json", action="store_true", help="print the fields as JSON")
    cid.set_defaults(func=_detect_cid)


def _fail(message: str, code: int) -> int:
    print(f"minipbx: {message}", file=sys.stderr)
    return code


def _info_from_args(args: argparse.Namespace) -> CallerIdInfo:
    reason = _REASONS[args.reason] if args.reason else None
    number: str | None = args.number
    name: str | None = args.name
    if args.standard == "dtmf":
        if name is not None:
            raise CallerIdError("DTMF caller ID carries no name")
        return CallerIdInfo(number=number, number_absence=None if number else reason)
    if number is None and reason is None:
        raise CallerIdError("give --number or --reason private|unavailable")
    if args.format == "sdmf" and name is not None:
        raise CallerIdError("SDMF carries no name: use --format mdmf")
    stamp = args.datetime if args.datetime is not None else time.strftime("%m%d%H%M")
    name_reason = reason if args.format == "mdmf" and name is None else None
    return CallerIdInfo(number=number, name=name, datetime=stamp,
                        number_absence=None if number else reason, name_absence=name_reason)


def _generate_cid(args: argparse.Namespace) -> int:
    try:
        info = _info_from_args(args)
        fmt = _DTMF_FORMATS[args.dtmf_format] if args.standard == "dtmf" else args.format
        signal = generate_cid(info, args.standard, fmt=fmt,
                              alert=_ALERTS[args.alert], level_dbm0=args.level)
    except CallerIdError as error:
        return _fail(str(error), EXIT_USAGE)
    return _write(args.output, signal)


def _generate_mwi(args: argparse.Namespace) -> int:
    signal = mwi_signal(bool(args.on), args.standard, fmt=args.format)
    return _write(args.output, signal)


def _write(path: str, signal: CidSignal) -> int:
    try:
        write_wav(path, signal.samples)
    except (OSError, WavError) as error:
        return _fail(f"cannot write {path}: {error}", EXIT_USAGE)
    print(f"wrote {path}: {signal.standard} {signal.placement.replace('_', ' ')}, "
          f"{signal.duration_ms / 1000.0:.2f} s; steps: {describe_steps(signal)}")
    return EXIT_OK


def describe_steps(signal: CidSignal) -> str:
    """The schedule in words: 'reverse polarity, wait 150 ms, alert 100 ms, ...'."""
    words = []
    for step in signal.steps:
        if isinstance(step, PolarityReversal):
            words.append("reverse polarity")
        elif isinstance(step, Wait):
            words.append(f"wait {step.ms:.0f} ms")
        elif isinstance(step, Play):
            words.append(f"{step.what} {step.ms:.0f} ms")
        elif isinstance(step, RingPulse):
            words.append(f"ring pulse {step.ms:.0f} ms")
        elif isinstance(step, MuteVoice):
            words.append("mute voice" if step.on else "restore voice")
        elif isinstance(step, AwaitAck):
            words.append(f"await {'/'.join(step.digits)} within {step.timeout_ms:.0f} ms")
    if signal.placement in ("after_first_ring", "before_ring"):
        words.append(f"then >= {signal.min_gap_before_next_ring_ms:.0f} ms before ringing")
    return ", ".join(words)


def _detect_cid(args: argparse.Namespace) -> int:
    try:
        audio = read_wav(args.file)
    except WavError as error:  # its message names the file
        return _fail(str(error), EXIT_USAGE)
    except OSError as error:
        return _fail(f"{args.file}: {error.strerror or error}", EXIT_USAGE)
    try:
        result = decode_cid(audio.samples, cast(RxStandard, args.standard))
    except CallerIdError as error:
        return _fail(f"{args.file}: {error}", EXIT_NO_CID)
    fields = result_fields(result)
    if args.json:
        print(json.dumps(fields, sort_keys=True))
    else:
        for key, value in fields.items():
            if value is not None:
                print(f"{key}: {value}")
    return EXIT_OK


def result_fields(result: CidResult) -> dict[str, Any]:
    """A decoded message as plain fields (what --json prints)."""
    info = result.info
    if result.message_type is None:
        kind = "DTMF caller ID"
    else:
        kind = _MESSAGE_NAMES.get(result.message_type, f"type 0x{result.message_type:02X}")
    return {
        "standard": result.standard,
        "message": kind,
        "number": info.number if info else None,
        "number_absent": _REASON_NAMES.get(info.number_absence or "") if info else None,
        "name": info.name if info else None,
        "name_absent": _REASON_NAMES.get(info.name_absence or "") if info else None,
        "datetime": info.datetime if info else None,
        "mwi": None if result.mwi is None else ("on" if result.mwi else "off"),
        "raw": result.raw.hex() if result.message_type is not None else result.raw.decode(),
    }
