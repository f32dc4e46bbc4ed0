"""ctypes wrapper over speexdsp's acoustic echo canceller (libspeexdsp.so.1, 1.2).

speexdsp is the reference our line echo canceller (firmware.dsp.echo) is compared with:
the tests and tools/bench_echo.py run the same far-end and near-end audio through both
and print both figures side by side. This is the one copy of the wrapper; firmware never
loads speexdsp.

speexdsp's canceller is the linear filter only (its residual echo suppressor lives in
the separate preprocessor), so its figures compare with ours with the NLP off.
Argument order of speex_echo_cancellation: the recorded signal (our near end, Sin), the
played signal (our far end, Rin), then the output.
"""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

LIBRARY_NAME = "libspeexdsp.so.1"
SPEEX_ECHO_SET_SAMPLING_RATE = 24  # speex_echo.h

_lib = ctypes.CDLL(LIBRARY_NAME)
_lib.speex_echo_state_init.restype = ctypes.c_void_p
_lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
_lib.speex_echo_cancellation.restype = None
_lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                         ctypes.c_void_p]
_lib.speex_echo_state_destroy.restype = None
_lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
_lib.speex_echo_ctl.restype = ctypes.c_int
_lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]


class SpeexEchoCanceller:
    """speexdsp's echo canceller with the same calling shape as ours."""

    def __init__(self, frame: int = 160, tail_samples: int = 512, rate: int = 8000) -> None:
        state = _lib.speex_echo_state_init(frame, tail_samples)
        if not state:
            raise RuntimeError("speex_echo_state_init failed")
        self._state: int | None = state
        self.frame = frame
        value = ctypes.c_int(rate)
        _lib.speex_echo_ctl(state, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(value))

    def process(self, far: npt.ArrayLike, near: npt.ArrayLike) -> npt.NDArray[np.int16]:
        """Near-end audio with the echo removed; lengths in whole frames."""
        rin = np.ascontiguousarray(far, dtype=np.int16)
        sin = np.ascontiguousarray(near, dtype=np.int16)
        if rin.size != sin.size or sin.size % self.frame:
            raise ValueError(f"speex needs equal lengths in whole frames of {self.frame}")
        out = np.empty_like(sin)
        for start in range(0, sin.size, self.frame):
            _lib.speex_echo_cancellation(self._state, sin[start:].ctypes.data,
                                         rin[start:].ctypes.data, out[start:].ctypes.data)
        return out

    def close(self) -> None:
        if self._state is not None:
            _lib.speex_echo_state_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
