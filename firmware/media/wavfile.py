"""WAV files in and out: everything comes in as 8 kHz mono int16, the line's format.

Rules:

- `read_wav` takes RIFF/WAVE with PCM of 8, 16, 24 or 32 bits, IEEE float of 32 or 64
  bits, plain or WAVE_FORMAT_EXTENSIBLE, any rate and channel count. Channels are
  averaged, the rate is converted with firmware.dsp.resample (a proper low-pass), and
  `converted` tells the caller that any of that happened, so it can say so.
- A file that is missing, unreadable, not RIFF/WAVE, truncated (the data chunk claims
  more bytes than the file holds, or the header ends early) or in an unsupported format
  raises `WavError` (a ValueError) whose one-line message names the file and the fault.
- `write_wav` writes 16-bit mono PCM atomically: a temporary file in the same folder,
  flushed to disk, then os.replace, so a crash never leaves a torn file.
"""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.dsp.levels import to_int16
from firmware.dsp.resample import resample, to_mono

LINE_RATE_HZ = 8000
WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# Streaming writers (and espeak-ng on a pipe) leave these "unknown length" sizes.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)


class WavError(ValueError):
    """A WAV file that cannot be used; the message names the file and the fault."""


@dataclass(frozen=True)
class WavAudio:
    """Audio as the line wants it, and what the file held."""

    samples: npt.NDArray[np.int16]
    original_rate: int
    original_channels: int
    original_format: str
    converted: bool

    def describe_conversion(self) -> str:
        channels = {1: "mono", 2: "stereo"}.get(self.original_channels,
                                                f"{self.original_channels} channels")
        return (f"converted {self.original_rate} Hz {channels} {self.original_format} "
                f"to {LINE_RATE_HZ} Hz mono 16-bit")


@dataclass(frozen=True)
class _Format:
    tag: int
    channels: int
    rate: int
    bits: int


def read_wav(path: str | os.PathLike[str]) -> WavAudio:
    """Read any common WAV file as 8 kHz mono int16 (see the module rules)."""
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError:
        raise WavError(f"{name}: no such file") from None
    except OSError as exc:
        raise WavError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{name}: not a WAV file (no RIFF/WAVE header)")
    fmt, payload = _parse_chunks(name, data)
    frames = _decode(name, fmt, payload)
    mono = to_mono(frames)
    if fmt.rate != LINE_RATE_HZ:
        mono = resample(mono, fmt.rate, LINE_RATE_HZ)
    label = f"{fmt.bits}-bit {'float' if fmt.tag == WAVE_FORMAT_IEEE_FLOAT else 'PCM'}"
    converted = (fmt.rate != LINE_RATE_HZ or fmt.channels != 1
                 or not (fmt.tag == WAVE_FORMAT_PCM and fmt.bits == 16))
    return WavAudio(samples=to_int16(mono), original_rate=fmt.rate,
                    original_channels=fmt.channels, original_format=label, converted=converted)


def _parse_chunks(name: str, data: bytes) -> tuple[_Format, bytes]:
    fmt: _Format | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos:pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body_start = pos + 8
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(name, data[body_start:body_start + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError(f"{name}: data chunk comes before the fmt chunk")
            available = len(data) - body_start
            if size in _UNKNOWN_SIZES and size != available:
                size = available  # a stream that never went back to fill in the size
            if size > available:
                raise WavError(f"{name}: truncated: data chunk says {size} bytes, "
                               f"the file holds {available}")
            return fmt, data[body_start:body_start + size]
        pos = body_start + size + (size & 1)
    if fmt is None:
        raise WavError(f"{name}: truncated or damaged: no fmt chunk")
    raise WavError(f"{name}: truncated or damaged: no data chunk")


def _parse_fmt(name: str, body: bytes) -> _Format:
    if len(body) < 16:
        raise WavError(f"{name}: truncated fmt chunk ({len(body)} bytes)")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 26:
            raise WavError(f"{name}: truncated WAVE_FORMAT_EXTENSIBLE fmt chunk")
        (tag,) = struct.unpack_from("<H", body, 24)  # first two bytes of the sub-format GUID
    if channels < 1 or rate < 1:
        raise WavError(f"{name}: bad fmt chunk ({channels} channels at {rate} Hz)")
    supported = ((tag == WAVE_FORMAT_PCM and bits in (8, 16, 24, 32))
                 or (tag == WAVE_FORMAT_IEEE_FLOAT and bits in (32, 64)))
    if not supported:
        kind = {WAVE_FORMAT_PCM: "PCM", WAVE_FORMAT_IEEE_FLOAT: "float"}.get(
            tag, f"format 0x{tag:04x}")
        raise WavError(f"{name}: unsupported WAV encoding: {bits}-bit {kind} "
                       "(use 8/16/24/32-bit PCM or 32/64-bit float)")
    return _Format(tag=tag, channels=channels, rate=rate, bits=bits)


def _decode(name: str, fmt: _Format, payload: bytes) -> npt.NDArray[np.float64]:
    """Frames as float64 (n, channels) in int16 units."""
    width = fmt.bits // 8
    frame = width * fmt.channels
    usable = len(payload) - len(payload) % frame
    raw = payload[:usable]
    if fmt.tag == WAVE_FORMAT_IEEE_FLOAT:
        values = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise WavError(f"{name}: float samples that are not finite")
        values *= 32768.0
    elif width == 1:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 2:
        values = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        values = (np.where(joined >= 1 << 23, joined - (1 << 24), joined) / 256.0)
    else:
        values = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 65536.0
    return values.reshape(-1, fmt.channels)


def write_wav(path: str | os.PathLike[str], samples: npt.ArrayLike,
              rate: int = LINE_RATE_HZ) -> None:
    """Write 16-bit mono PCM atomically (temporary file, fsync, os.replace)."""
    pcm = np.asarray(samples)
    if pcm.ndim != 1:
        raise ValueError("write_wav takes a 1-D array of samples")
    if pcm.dtype != np.int16:
        pcm = to_int16(pcm)
    body = pcm.astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16,
                         WAVE_FORMAT_PCM, 1, rate, rate * 2, 2, 16, b"data", len(body))
    target = Path(os.fspath(path))
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(header)
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
