"""`minipbx signal ...`: make and read telephony signals as WAV files.

  minipbx signal generate dtmf DIGITS -o FILE.wav [--on MS] [--off MS] [--level DBM0]
  minipbx signal generate tone --country CC TONE -o FILE.wav --seconds S
  minipbx signal detect dtmf FILE.wav [--json]
  minipbx signal detect tone --country CC FILE.wav [--json]
  (and caller ID: `generate cid`, `generate mwi`, `detect cid`, from signal_cid.py)

Rules: files are written as 8 kHz mono 16-bit PCM; any WAV that is read is converted to
that first, and stderr says so. Exit codes: 0 done; 1 a detector found nothing;
2 bad arguments or a file that is missing, not a WAV, cut short or cannot be written.
Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from firmware.app.signal_cid import add_cid_detect_parsers, add_cid_generate_parsers
from firmware.dsp.dtmf import (
    DEFAULT_LEVEL_DBM0,
    DEFAULT_OFF_MS,
    DEFAULT_ON_MS,
    DtmfDetector,
    generate_dtmf,
)
from firmware.dsp.profiles import ProfileError, available_profiles, load_profile
from firmware.dsp.tone_detect import detect_tones
from firmware.dsp.tones import TONE_NAMES, generate_tone
from firmware.media.wavfile import WavAudio, WavError, read_wav, write_wav

EXIT_OK = 0
EXIT_NOTHING_FOUND = 1
EXIT_USAGE = 2
MAX_SECONDS = 3600.0


def add_signal_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `signal` with its `generate` and `detect` verbs to the `minipbx` parser."""
    signal = subparsers.add_parser("signal", help="generate and detect telephony signals")
    verbs = signal.add_subparsers(metavar="generate|detect")

    generate = verbs.add_parser("generate", help="write a signal to a WAV file")
    generate_sub = generate.add_subparsers(metavar="KIND")
    dtmf = generate_sub.add_parser("dtmf", help="DTMF digits")
    dtmf.add_argument("digits", help="keys among 0-9 * # A-D")
    dtmf.add_argument("-o", "--output", required=True, help="WAV file to write")
    dtmf.add_argument("--on", type=float, default=DEFAULT_ON_MS, help="tone ms (default 100)")
    dtmf.add_argument("--off", type=float, default=DEFAULT_OFF_MS,
                      help="pause ms (default 100)")
    dtmf.add_argument("--level", type=float, default=DEFAULT_LEVEL_DBM0,
                      help="high-group level in dBm0; the low group is 2 dB below "
                           "(default -7)")
    dtmf.set_defaults(func=_generate_dtmf)
    tone = generate_sub.add_parser("tone", help="a country's call-progress tone")
    tone.add_argument("--country", required=True, choices=available_profiles())
    tone.add_argument("tone", choices=TONE_NAMES)
    tone.add_argument("-o", "--output", required=True, help="WAV file to write")
    tone.add_argument("--seconds", type=float, required=True)
    tone.set_defaults(func=_generate_tone)
    add_cid_generate_parsers(generate_sub)

    detect = verbs.add_parser("detect", help="read a WAV file and report what it holds")
    detect_sub = detect.add_subparsers(metavar="KIND")
    d_dtmf = detect_sub.add_parser("dtmf", help="DTMF digits: key, start ms, duration ms")
    d_dtmf.add_argument("file")
    d_dtmf.add_argument("--json", action="store_true")
    d_dtmf.set_defaults(func=_detect_dtmf)
    d_tone = detect_sub.add_parser("tone", help="a country's call-progress tones")
    d_tone.add_argument("--country", required=True, choices=available_profiles())
    d_tone.add_argument("file")
    d_tone.add_argument("--json", action="store_true")
    d_tone.set_defaults(func=_detect_tone)
    add_cid_detect_parsers(detect_sub)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"minipbx: {message}", file=sys.stderr)
    return code


def _write(path: str, samples: Any) -> int:
    try:
        write_wav(path, samples)
    except OSError as error:
        return _fail(f"cannot write {path}: {error.strerror or error}")
    return EXIT_OK


def _read(path: str) -> WavAudio | None:
    """The file as 8 kHz mono, or None after saying what is wrong."""
    try:
        audio = read_wav(path)
    except WavError as error:
        _fail(str(error))
        return None
    if audio.converted:
        print(f"minipbx: {path}: {audio.describe_conversion()}", file=sys.stderr)
    return audio


def _generate_dtmf(args: argparse.Namespace) -> int:
    if args.on <= 0 or args.off < 0 or args.level > 3.0:
        return _fail("--on must be positive, --off not negative, --level at most +3 dBm0")
    try:
        samples = generate_dtmf(args.digits, on_ms=args.on, off_ms=args.off,
                                level_dbm0=args.level)
    except ValueError as error:
        return _fail(str(error))
    return _write(args.output, samples)


def _generate_tone(args: argparse.Namespace) -> int:
    if not 0 < args.seconds <= MAX_SECONDS:
        return _fail(f"--seconds must be more than 0 and at most {MAX_SECONDS:.0f}")
    try:
        profile = load_profile(args.country)
    except ProfileError as error:
        return _fail(str(error))
    return _write(args.output, generate_tone(profile.tone(args.tone), args.seconds))


def _detect_dtmf(args: argparse.Namespace) -> int:
    audio = _read(args.file)
    if audio is None:
        return EXIT_USAGE
    detector = DtmfDetector()
    digits = detector.feed(audio.samples) + detector.flush()
    if args.json:
        print(json.dumps([{"digit": d.digit, "start_ms": round(d.start_ms, 1),
                           "duration_ms": round(d.duration_ms, 1)} for d in digits]))
    else:
        for d in digits:
            print(f"{d.digit}  start {d.start_ms:7.0f} ms  duration {d.duration_ms:5.0f} ms")
    return EXIT_OK if digits else EXIT_NOTHING_FOUND


def _detect_tone(args: argparse.Namespace) -> int:
    try:
        profile = load_profile(args.country)
    except ProfileError as error:
        return _fail(str(error))
    audio = _read(args.file)
    if audio is None:
        return EXIT_USAGE
    found = detect_tones(audio.samples, profile)
    if args.json:
        print(json.dumps([{"tone": s.name, "start_ms": round(s.start_ms, 1),
                           "end_ms": round(s.end_ms, 1)} for s in found]))
    else:
        for s in found:
            print(f"{s.name:<12} {s.start_ms:7.0f} ms to {s.end_ms:7.0f} ms")
    return EXIT_OK if found else EXIT_NOTHING_FOUND
