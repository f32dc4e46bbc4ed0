"""ctypes wrapper over spandsp's DTMF receiver and transmitter (libspandsp.so.2, 0.0.6).

spandsp is the reference for our detector: the tests run the same signals through both,
and tools/bench_dsp.py times both on the same frames. This is the one copy of the wrapper.

spandsp's level convention matches ours (firmware.dsp.levels): a full-scale sine
(peak 32767) is +3.14 dBm0 (DBM0_MAX_SINE_POWER in spandsp/telephony.h).

A NULL digit callback makes the receiver queue digits; `dtmf_rx_get` drains the queue.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import numpy.typing as npt

LIBRARY_NAME = "libspandsp.so.2"
MAX_DTMF_DIGITS = 128

_lib = ctypes.CDLL(LIBRARY_NAME)

# Receiver.
_lib.dtmf_rx_init.restype = ctypes.c_void_p
_lib.dtmf_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
_lib.dtmf_rx.restype = ctypes.c_int
_lib.dtmf_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.dtmf_rx_get.restype = ctypes.c_size_t
_lib.dtmf_rx_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_lib.dtmf_rx_status.restype = ctypes.c_int
_lib.dtmf_rx_status.argtypes = [ctypes.c_void_p]
_lib.dtmf_rx_parms.restype = None
_lib.dtmf_rx_parms.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                               ctypes.c_int]
_lib.dtmf_rx_free.restype = ctypes.c_int
_lib.dtmf_rx_free.argtypes = [ctypes.c_void_p]

# Transmitter.
_lib.dtmf_tx_init.restype = ctypes.c_void_p
_lib.dtmf_tx_init.argtypes = [ctypes.c_void_p]
_lib.dtmf_tx_put.restype = ctypes.c_int
_lib.dtmf_tx_put.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_lib.dtmf_tx_set_level.restype = None
_lib.dtmf_tx_set_level.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.dtmf_tx_set_timing.restype = None
_lib.dtmf_tx_set_timing.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
_lib.dtmf_tx.restype = ctypes.c_int
_lib.dtmf_tx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.dtmf_tx_free.restype = ctypes.c_int
_lib.dtmf_tx_free.argtypes = [ctypes.c_void_p]


class SpandspDtmfRx:
    """spandsp's DTMF receiver with queued digits (NULL callback)."""

    def __init__(self) -> None:
        state = _lib.dtmf_rx_init(None, None, None)
        if not state:
            raise RuntimeError("dtmf_rx_init failed")
        self._state: int | None = state
        self._out = ctypes.create_string_buffer(MAX_DTMF_DIGITS + 1)

    def feed(self, samples: npt.NDArray[np.int16]) -> str:
        """Run int16 samples through the receiver; return the digits it queued."""
        pcm = np.ascontiguousarray(samples, dtype=np.int16)
        _lib.dtmf_rx(self._state, pcm.ctypes.data, len(pcm))
        return self.get()

    def feed_raw(self, address: int, count: int) -> None:
        """Feed `count` samples at `address` (no conversion: for the benchmark)."""
        _lib.dtmf_rx(self._state, address, count)

    def get(self) -> str:
        count = _lib.dtmf_rx_get(self._state, self._out, MAX_DTMF_DIGITS)
        return self._out.raw[:count].decode("ascii")

    @property
    def status(self) -> str | None:
        """The digit being heard right now, or None."""
        code = _lib.dtmf_rx_status(self._state)
        return chr(code) if code else None

    def close(self) -> None:
        if self._state is not None:
            _lib.dtmf_rx_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def spandsp_detect(samples: npt.NDArray[np.int16], frame: int = 160) -> str:
    """Decode a whole signal with spandsp, fed in `frame`-sample pieces."""
    rx = SpandspDtmfRx()
    pcm = np.ascontiguousarray(samples, dtype=np.int16)
    digits = []
    for start in range(0, len(pcm), frame):
        digits.append(rx.feed(pcm[start:start + frame]))
    # Flush: a digit is reported only when its pause has been seen.
    digits.append(rx.feed(np.zeros(800, dtype=np.int16)))
    rx.close()
    return "".join(digits)


def spandsp_generate(digits: str, on_ms: int = 100, off_ms: int = 100,
                     level_dbm0: int = -10, twist_db: int = 0) -> npt.NDArray[np.int16]:
    """DTMF from spandsp's transmitter. `level_dbm0` is the low-group tone level;
    the high group is `twist_db` louder."""
    tx = _lib.dtmf_tx_init(None)
    if not tx:
        raise RuntimeError("dtmf_tx_init failed")
    try:
        _lib.dtmf_tx_set_level(tx, level_dbm0, twist_db)
        _lib.dtmf_tx_set_timing(tx, on_ms, off_ms)
        _lib.dtmf_tx_put(tx, digits.encode("ascii"), len(digits))
        chunks = []
        buf = np.zeros(160, dtype=np.int16)
        while True:
            produced = _lib.dtmf_tx(tx, buf.ctypes.data, len(buf))
            if produced <= 0:
                break
            chunks.append(buf[:produced].copy())
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    finally:
        _lib.dtmf_tx_free(tx)
