"""ctypes wrapper over spandsp's G.711 coder (libspandsp.so.2, 0.0.6): the reference for
firmware.dsp.g711."""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

G711_ALAW = 0
G711_ULAW = 1

_lib = ctypes.CDLL("libspandsp.so.2")
_lib.g711_init.restype = ctypes.c_void_p
_lib.g711_init.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.g711_encode.restype = ctypes.c_int
_lib.g711_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.g711_decode.restype = ctypes.c_int
_lib.g711_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.g711_free.restype = ctypes.c_int
_lib.g711_free.argtypes = [ctypes.c_void_p]


def spandsp_encode(samples: npt.NDArray[np.int16], mode: int) -> npt.NDArray[np.uint8]:
    pcm = np.ascontiguousarray(samples, dtype=np.int16)
    out = np.zeros(pcm.size, dtype=np.uint8)
    state = _lib.g711_init(None, mode)
    try:
        _lib.g711_encode(state, out.ctypes.data, pcm.ctypes.data, pcm.size)
    finally:
        _lib.g711_free(state)
    return out


def spandsp_decode(codes: npt.NDArray[np.uint8], mode: int) -> npt.NDArray[np.int16]:
    data = np.ascontiguousarray(codes, dtype=np.uint8)
    out = np.zeros(data.size, dtype=np.int16)
    state = _lib.g711_init(None, mode)
    try:
        _lib.g711_decode(state, out.ctypes.data, data.ctypes.data, data.size)
    finally:
        _lib.g711_free(state)
    return out
