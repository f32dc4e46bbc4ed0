"""Recordings from WAV to Ogg Opus, after the call, at low priority, verified.

``opusenc`` (Debian's opus-tools) runs under ``nice -n 19`` and, where present, ``ionice
-c 3`` (idle I/O class), so an encode never takes the CPU or the disk from calls. The
result is written beside the WAV as ``.opus.part``, checked with ``opusinfo`` (a whole Ogg
Opus stream, the channel count and the playing time of the WAV within 0.1 s), and only
then renamed to ``.opus``; the WAV is removed after that. An encode that fails keeps the
WAV and says why.

Bit rates, constrained VBR: 24 kbit/s for stereo and 12 kbit/s for mono, about 10 times
smaller than the 8 kHz 16-bit WAV (256 and 128 kbit/s). Below about 24 kbit/s Opus folds
stereo into one channel (measured here: at 16 kbit/s each side's tone came out in both
channels at equal strength; at 24 kbit/s the other side's leaks in at under 1 %), and a
stereo recording exists to keep the two sides apart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

BITRATE_KBPS = {1: 12, 2: 24}
# opusinfo's "Playback length: 1h:02m:03.500s" / "0m:03.500s".
_LENGTH_RE = re.compile(r"Playback length:\s*(?:(\d+)h:)?(\d+)m:([\d.]+)s")
_CHANNELS_RE = re.compile(r"Channels:\s*(\d+)")
TOLERANCE_S = 0.1


class EncodeError(RuntimeError):
    """An encode or its check failed; the message says which and why."""


@dataclass(frozen=True)
class Encoded:
    path: Path
    bytes: int
    seconds: float
    cpu_s: float  # CPU time opusenc took (user + system)


def tools_missing() -> list[str]:
    return [t for t in ("opusenc", "opusinfo") if shutil.which(t) is None]


def low_priority(command: list[str]) -> list[str]:
    prefix = ["nice", "-n", "19"]
    if shutil.which("ionice"):
        prefix = ["ionice", "-c", "3", *prefix]
    return prefix + command


def encode(wav: Path, out: Path, channels: int, seconds: float) -> Encoded:
    """Encode ``wav`` (``seconds`` long) to ``out``; checked before ``out`` appears."""
    missing = tools_missing()
    if missing:
        raise EncodeError(f"{' and '.join(missing)} not installed (Debian: opus-tools)")
    part = out.with_name(out.name + ".part")
    before = os.times()
    command = low_priority(["opusenc", "--quiet", "--cvbr", "--bitrate",
                            str(BITRATE_KBPS[channels]), str(wav), str(part)])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        part.unlink(missing_ok=True)
        raise EncodeError(f"opusenc could not run: {exc}") from None
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    if done.returncode != 0:
        part.unlink(missing_ok=True)
        raise EncodeError(f"opusenc failed ({done.returncode}): {_tail(done.stderr)}")
    try:
        length, got_channels = check(part)
    except EncodeError:
        part.unlink(missing_ok=True)
        raise
    if got_channels != channels or abs(length - seconds) > TOLERANCE_S:
        part.unlink(missing_ok=True)
        raise EncodeError(f"encoded file holds {length:.2f} s in {got_channels} channels; "
                          f"the WAV {seconds:.2f} s in {channels}")
    os.replace(part, out)
    return Encoded(out, out.stat().st_size, length, cpu)


def check(path: Path) -> tuple[float, int]:
    """(seconds, channels) of an Ogg Opus file, as opusinfo reads it whole."""
    try:
        done = subprocess.run(["opusinfo", str(path)], capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EncodeError(f"opusinfo could not run: {exc}") from None
    length = _LENGTH_RE.search(done.stdout)
    chans = _CHANNELS_RE.search(done.stdout)
    if done.returncode != 0 or length is None or chans is None or "WARNING" in done.stdout:
        raise EncodeError(f"opusinfo does not accept {path.name}: "
                          f"{_tail(done.stdout + done.stderr)}")
    hours, minutes, secs = length.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(secs), int(chans.group(1))


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"
