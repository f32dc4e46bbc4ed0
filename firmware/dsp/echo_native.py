"""The whole line echo canceller in C (firmware/dsp/native/echo.c's ecc_* functions).

firmware.dsp.echo (its control, the NLP) with firmware.dsp.comfort_noise and
firmware.dsp.fdaf (numpy) is the reference and the fallback; the C file does the same
steps for a block in one call, so that a line's 20 ms frame costs one call from Python
instead of some sixty (the control's arithmetic, comfort noise, the int16 conversions).
Measured in the daemon's line pump, that Python was two thirds of a cancelled line's CPU.

Rules:

- The library is firmware.dsp.fdaf_native's (one library, one ABI number, one check of
  the filter's constants at load). The canceller's own numbers are given at creation,
  by name (PARAMS, in echo.c's order), from firmware.dsp.echo and comfort_noise: they
  live in Python only.
- The comfort noise's random numbers are comfort_noise's xorshift32 lanes, made alike in
  C, so the two paths' outputs can be compared sample for sample; they differ only by
  the rounding of the FFTs (a sample unit now and then).
- `process_bytes` takes and gives little-endian int16 frames as bytes (the line port's),
  with no numpy on the way; `process` takes float64 arrays (the tests' material).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from firmware.dsp.fdaf_native import load

# echo.c's enum, in its order.
PARAMS = (
    "far_active", "near_floor", "worse", "copy", "copy_in_doubt", "reset", "cancelled",
    "converged", "smooth", "erle_smoothing", "geigel", "hangover", "path_change",
    "relearn", "noise_rise", "noise_margin", "noise_fall", "spectrum_smoothing",
    "spectrum_every", "batch",
)
STATUS_FIELDS = 7  # ecc_status: four levels, converged, double talk held, passing


class NativeCanceller:
    """One line's canceller state, held and run in C."""

    def __init__(self, block: int, taps: int, nlp: bool, seed: int,
                 params: Mapping[str, float]) -> None:
        if sys.byteorder != "little":  # the frames are little-endian int16
            raise RuntimeError("the C echo canceller takes little-endian frames")
        self._dll = load()
        values = (ctypes.c_double * len(PARAMS))(*(float(params[name]) for name in PARAMS))
        handle = self._dll.ecc_new(block, taps, int(nlp), seed & 0xFFFFFFFF, values,
                                   len(PARAMS))
        if not handle:
            raise MemoryError("echo canceller: ecc_new refused its arguments or had no memory")
        self._handle: int = handle
        self.block = block
        self._process = self._dll.ecc_process
        self._process_f64 = self._dll.ecc_process_f64
        # One frame's output, its address taken once (ctypes' conversions cost more than
        # the call).
        self._frame = ctypes.create_string_buffer(2 * block)
        self._frame_at = ctypes.addressof(self._frame)
        self._status: npt.NDArray[np.float64] = np.zeros(STATUS_FIELDS)

    def __del__(self) -> None:
        handle = getattr(self, "_handle", 0)
        if handle:
            self._handle = 0
            self._dll.ecc_free(handle)

    def reset(self) -> None:
        self._dll.ecc_reset(self._handle)

    def process_bytes(self, far: bytes | None, near: bytes) -> bytes:
        """Whole blocks of little-endian int16 (`far` None: silence), checked by the caller."""
        blocks = len(near) // (2 * self.block)
        if blocks == 1:
            self._process(self._handle, far, near, self._frame_at, 1)
            return self._frame.raw
        out = ctypes.create_string_buffer(len(near))
        self._process(self._handle, far, near, ctypes.addressof(out), blocks)
        return out.raw

    def process(self, far: npt.NDArray[np.float64],
                near: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
        """Whole blocks of float64 samples, checked by the caller."""
        rin = np.ascontiguousarray(far, np.float64)
        sin = np.ascontiguousarray(near, np.float64)
        out = np.empty(sin.size, np.int16)
        self._process_f64(self._handle, rin.ctypes.data, sin.ctypes.data, out.ctypes.data,
                          sin.size // self.block)
        return out

    def status(self) -> list[float]:
        """Far, echo, near and residual levels, converged, double-talk hold, passing."""
        self._dll.ecc_status(self._handle, self._status.ctypes.data)
        return self._status.tolist()  # type: ignore[no-any-return]
