"""A WAV file written as a call goes on: 8 kHz 16-bit, one or two channels.

The header is written first with the sizes of an empty file and put right when the file
is closed, so a recording cut short by a crash still opens as an empty WAV (``read_wav``
takes the data that follows an "unknown" size). Frames come as pairs of 20 ms line frames
(the caller's voice, the callee's), either possibly missing (silence): stereo keeps one
per channel, mono sums them as a conference bridge would.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np

RATE_HZ = 8000
FRAME_SAMPLES = 160  # 20 ms


def wav_header(channels: int, data_bytes: int) -> bytes:
    block = 2 * channels
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, RATE_HZ, RATE_HZ * block,
                                    block, 16)
            + b"data" + struct.pack("<I", data_bytes))


def interleave(pairs: list[tuple[bytes | None, bytes | None]], channels: int) -> bytes:
    """PCM for ``pairs`` of (left, right) s16le line frames; a missing frame is silence."""
    n = len(pairs)
    left = np.zeros((n, FRAME_SAMPLES), np.int16)
    right = np.zeros((n, FRAME_SAMPLES), np.int16)
    for i, (a, b) in enumerate(pairs):
        if a is not None and len(a) == 2 * FRAME_SAMPLES:
            left[i] = np.frombuffer(a, "<i2")
        if b is not None and len(b) == 2 * FRAME_SAMPLES:
            right[i] = np.frombuffer(b, "<i2")
    if channels == 1:
        mixed = left.astype(np.int32) + right
        return bytes(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())
    out = np.empty((n, FRAME_SAMPLES, 2), "<i2")
    out[:, :, 0] = left
    out[:, :, 1] = right
    return out.tobytes()


class WavWriter:
    def __init__(self, path: Path, channels: int) -> None:
        self.path = path
        self.channels = channels
        self.data_bytes = 0
        # Unbuffered: a write the disk refuses must not linger in a buffer.
        self._file: BinaryIO | None = open(path, "wb", buffering=0)  # noqa: SIM115
        self._file.write(wav_header(channels, 0))

    @property
    def seconds(self) -> float:
        return self.data_bytes / (2 * self.channels * RATE_HZ)

    @property
    def file_bytes(self) -> int:
        return 44 + self.data_bytes

    def write(self, pcm: bytes) -> None:
        """Append PCM; an OSError (a full disk) leaves the file as it was before."""
        assert self._file is not None
        try:
            view = memoryview(pcm)
            while view:
                view = view[self._file.write(view) or 0:]
        except OSError:
            self._file.truncate(44 + self.data_bytes)
            self._file.seek(44 + self.data_bytes)
            raise
        self.data_bytes += len(pcm)

    def close(self) -> None:
        """Put the sizes in the header and close (no new blocks: works on a full disk)."""
        if self._file is None:
            return
        try:
            self._file.seek(0)
            self._file.write(wav_header(self.channels, self.data_bytes))
        finally:
            self._file.close()
            self._file = None


def merge_mono_pairs(segments: list[tuple[Path, Path]], writer: WavWriter,
                     chunk_frames: int = 8000) -> None:
    """Append each segment's two mono 8 kHz WAVs (left, right) to ``writer`` side by side
    (or summed, for a mono writer), a chunk at a time; the shorter side of a segment is
    padded with silence, a missing or damaged file is silence."""
    for left_path, right_path in segments:
        left, right = _open_mono(left_path), _open_mono(right_path)
        try:
            while True:
                a = _read(left, chunk_frames)
                b = _read(right, chunk_frames)
                n = max(len(a), len(b))
                if n == 0:
                    break
                a = np.pad(a, (0, n - len(a)))
                b = np.pad(b, (0, n - len(b)))
                if writer.channels == 1:
                    mixed = np.clip(a.astype(np.int32) + b, -32768, 32767).astype("<i2")
                    writer.write(mixed.tobytes())
                else:
                    writer.write(np.stack([a, b], 1).astype("<i2").tobytes())
        finally:
            for f in (left, right):
                if f is not None:
                    f.close()


def _open_mono(path: Path) -> wave.Wave_read | None:
    try:
        f = wave.open(str(path), "rb")  # noqa: SIM115 (closed by merge_mono_pairs)
    except (OSError, EOFError, wave.Error):
        return None
    if f.getnchannels() != 1 or f.getsampwidth() != 2 or f.getframerate() != RATE_HZ:
        f.close()
        return None
    return f


def _read(f: wave.Wave_read | None, frames: int) -> np.ndarray:
    if f is None:
        return np.zeros(0, np.int16)
    try:
        return np.frombuffer(f.readframes(frames), "<i2").copy()
    except (OSError, EOFError, wave.Error):
        return np.zeros(0, np.int16)
