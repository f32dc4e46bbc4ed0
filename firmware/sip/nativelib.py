"""The native line port's shared object (``firmware/sip/native/lineport.c``) through ctypes.

This module needs no pjsua2: it loads the library and wraps one C port, whose rings Python
reads and writes in whole 20 ms frames (320 bytes, s16le, 8 kHz). Attaching a port to the
conference bridge is :mod:`firmware.sip.nativeport`'s job.

Rings (see the C file): ``say`` (what the line says, Python writes, the clock reads),
``hear`` (what the line hears, the clock writes, Python reads), ``play`` (tones, caller ID and
prompts queued ahead, Python writes, the clock mixes them into ``hear``). A full ring drops
the newest frame (counted in ``stats``); an empty one gives silence; ``say`` keeps at most
``say_keep`` frames at each read of the clock, dropping the oldest.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from firmware.dsp.nativeload import NativeUnavailable as NativeUnavailable  # callers' fallback
from firmware.dsp.nativeload import Signatures, open_library

FRAME_SAMPLES = 160
FRAME_BYTES = 2 * FRAME_SAMPLES

ENV_LIB = "MINIPBX_LINEPORT_LIB"
DEFAULT_LIB = Path(__file__).resolve().parents[2] / "build" / "native" / "liblineport.so"

STAT_NAMES = ("gets", "puts", "heard", "say_overflows", "say_trimmed", "say_underruns",
              "hear_overflows", "play_overflows", "play_flushed", "destroyed")

_P = ctypes.c_void_p
_U = ctypes.c_uint


class NativeLib:
    """The loaded library, its functions typed once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        sig: Signatures = {
            "lp_built_version": (ctypes.c_char_p, ()),
            "lp_frame_samples": (ctypes.c_int, ()),
            "lp_port_struct_size": (ctypes.c_size_t, ()),
            "lp_create": (_P, (ctypes.c_char_p, _U, _U, _U, _U)),
            "lp_free": (None, (_P,)),
            "lp_pjmedia_port": (_P, (_P,)),
            "lp_say": (_U, (_P, ctypes.c_char_p, _U)),
            "lp_hear": (_U, (_P, ctypes.c_char_p, _U)),
            "lp_play": (_U, (_P, ctypes.c_char_p, _U)),
            "lp_play_flush": (None, (_P,)),
            "lp_play_queued": (_U, (_P,)),
            "lp_play_room": (_U, (_P,)),
            "lp_hear_queued": (_U, (_P,)),
            "lp_say_queued": (_U, (_P,)),
            "lp_say_underruns": (ctypes.c_uint64, (_P,)),
            "lp_hear_drop": (None, (_P,)),
            "lp_stats": (None, (_P, ctypes.POINTER(ctypes.c_uint64))),
            "lp_drive_get": (ctypes.c_int, (_P, ctypes.c_char_p)),
            "lp_drive_put": (ctypes.c_int, (_P, ctypes.c_char_p, ctypes.c_uint64)),
            "lp_wait_tick": (ctypes.c_uint64, (ctypes.c_uint64, ctypes.c_int, ctypes.c_int,
                                               ctypes.POINTER(ctypes.c_int64))),
            "lp_wake": (None, ()),
            "lp_name_thread": (None, (ctypes.c_char_p,)),
            "lp_info_image": (ctypes.c_size_t, (_P, ctypes.c_char_p, ctypes.c_long, _U)),
        }
        self.dll = dll = open_library(path, sig)
        if dll.lp_frame_samples() != FRAME_SAMPLES:
            raise NativeUnavailable(f"{path} moves frames of {dll.lp_frame_samples()} samples, "
                                    f"not {FRAME_SAMPLES}")

    @property
    def built_version(self) -> str:
        """The pjproject version whose headers the library was compiled against."""
        return str(self.dll.lp_built_version().decode())

    def wait_tick(self, seen: int, timeout_ms: int, after_us: int) -> tuple[int, int]:
        """Block (GIL released) until the bridge's next tick; (tick count, its ns instant)."""
        at = ctypes.c_int64(0)
        seq = self.dll.lp_wait_tick(seen, timeout_ms, after_us, ctypes.byref(at))
        return int(seq), int(at.value)

    def wake(self) -> None:
        self.dll.lp_wake()

    def name_thread(self, name: str) -> None:
        """Give the calling thread an OS name (15 characters at most), for /proc."""
        self.dll.lp_name_thread(name.encode()[:15])


def load(path: str | Path | None = None) -> NativeLib:
    """The library at ``path``, ``$MINIPBX_LINEPORT_LIB`` or build/native/liblineport.so."""
    chosen = Path(path or os.environ.get(ENV_LIB) or DEFAULT_LIB)
    if not chosen.exists():
        raise NativeUnavailable(f"{chosen} is not built (tools/build_native.sh, run by "
                                "tools/setup.sh)")
    return NativeLib(chosen)


class RingPort:
    """One C line port: its rings, in whole frames. Thread use: ``say``/``hear`` from one
    thread (the pump), ``play``/``flush_play`` from one thread at a time."""

    def __init__(self, lib: NativeLib, name: str, say_cap: int = 16, hear_cap: int = 16,
                 play_cap: int = 64, say_keep: int = 2) -> None:
        self.lib = lib
        self.name = name
        handle = lib.dll.lp_create(name.encode(), say_cap, hear_cap, play_cap, say_keep)
        if not handle:
            raise MemoryError(f"{name}: the native line port could not be allocated")
        self.handle: int = handle
        self._hear_buf = ctypes.create_string_buffer(hear_cap * FRAME_BYTES)
        self._hear_cap = hear_cap
        self._stats = (ctypes.c_uint64 * len(STAT_NAMES))()

    @property
    def pjmedia_port(self) -> int:
        """The address of the port's ``pjmedia_port`` (for ``pjsua_conf_add_port``)."""
        return int(self.lib.dll.lp_pjmedia_port(self.handle))

    def say(self, pcm: bytes) -> int:
        """Queue what the line says (whole frames); returns the frames that fit."""
        return int(self.lib.dll.lp_say(self.handle, _whole(pcm), len(pcm) // FRAME_BYTES))

    def hear(self, max_frames: int | None = None) -> bytes:
        """Take what the line heard since the last call (up to ``max_frames``)."""
        n = self._hear_cap if max_frames is None else min(max_frames, self._hear_cap)
        got = self.lib.dll.lp_hear(self.handle, self._hear_buf, n)
        return self._hear_buf.raw[:got * FRAME_BYTES] if got else b""

    def play(self, pcm: bytes) -> int:
        """Queue audio to mix into what the line hears; returns the frames that fit."""
        return int(self.lib.dll.lp_play(self.handle, _whole(pcm), len(pcm) // FRAME_BYTES))

    def flush_play(self) -> None:
        """Drop everything queued for playback, at the bridge's next tick."""
        self.lib.dll.lp_play_flush(self.handle)

    @property
    def play_queued(self) -> int:
        return int(self.lib.dll.lp_play_queued(self.handle))

    @property
    def play_room(self) -> int:
        return int(self.lib.dll.lp_play_room(self.handle))

    @property
    def hear_queued(self) -> int:
        return int(self.lib.dll.lp_hear_queued(self.handle))

    @property
    def say_queued(self) -> int:
        return int(self.lib.dll.lp_say_queued(self.handle))

    @property
    def say_underruns(self) -> int:
        """Ticks that found nothing to say (the bridge took silence)."""
        return int(self.lib.dll.lp_say_underruns(self.handle))

    def drop_heard(self) -> None:
        self.lib.dll.lp_hear_drop(self.handle)

    def stats(self) -> dict[str, int]:
        self.lib.dll.lp_stats(self.handle, self._stats)
        return dict(zip(STAT_NAMES, (int(v) for v in self._stats), strict=True))

    # --- as the bridge's clock thread would (tests without pjsua2) -----------------------
    def drive_get(self) -> bytes:
        out = ctypes.create_string_buffer(FRAME_BYTES)
        if self.lib.dll.lp_drive_get(self.handle, out) != FRAME_BYTES:
            raise RuntimeError(f"{self.name}: get_frame failed")
        return out.raw

    def drive_put(self, pcm: bytes | None, timestamp: int) -> None:
        if pcm is not None and len(pcm) != FRAME_BYTES:
            raise ValueError(f"a frame is {FRAME_BYTES} bytes, not {len(pcm)}")
        if self.lib.dll.lp_drive_put(self.handle, pcm, timestamp) != 0:
            raise RuntimeError(f"{self.name}: put_frame failed")

    def free(self) -> None:
        """Only for a port no bridge ever held (tests): the bridge may still touch others."""
        if self.handle:
            self.lib.dll.lp_free(self.handle)
            self.handle = 0


def _whole(pcm: bytes) -> bytes:
    if len(pcm) % FRAME_BYTES:
        raise ValueError(f"audio for a line port comes in whole {FRAME_BYTES}-byte frames, "
                         f"not {len(pcm)} bytes")
    return pcm
