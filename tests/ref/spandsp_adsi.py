"""ctypes wrapper over spandsp's ADSI (caller ID) receiver and transmitter.

spandsp (libspandsp.so.2, 0.0.6) is the independent decoder for the caller ID we send
and the independent source of caller ID we must receive. The standard codes are those
of /usr/include/spandsp/adsi.h in 0.0.6 (checked there: CLIP_DTMF is 5, not 4).

The receiver hands each message to a C callback: for FSK standards the message without
its checksum (spandsp checks it and drops bad ones), for CLIP_DTMF the digit string up to
and including the terminator. `adsi_next_field` splits a message into (type, body) fields;
the first field it returns is the message type with an empty body. ctypes callbacks are
kept on the receiver object so they outlive every call into C.
"""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

LIBRARY_NAME = "libspandsp.so.2"

# enum in spandsp/adsi.h (0.0.6).
ADSI_STANDARD_CLASS = 1
ADSI_STANDARD_CLIP = 2
ADSI_STANDARD_ACLIP = 3
ADSI_STANDARD_JCLIP = 4
ADSI_STANDARD_CLIP_DTMF = 5

_lib = ctypes.CDLL(LIBRARY_NAME)

PUT_MSG_FUNC = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8),
                                ctypes.c_int)

_lib.adsi_rx_init.restype = ctypes.c_void_p
_lib.adsi_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_int, PUT_MSG_FUNC, ctypes.c_void_p]
_lib.adsi_rx.restype = ctypes.c_int
_lib.adsi_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.adsi_rx_free.restype = ctypes.c_int
_lib.adsi_rx_free.argtypes = [ctypes.c_void_p]
_lib.adsi_next_field.restype = ctypes.c_int
_lib.adsi_next_field.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_uint8),
                                 ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
                                 ctypes.POINTER(ctypes.c_int)]

_lib.adsi_tx_init.restype = ctypes.c_void_p
_lib.adsi_tx_init.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.adsi_tx_put_message.restype = ctypes.c_int
_lib.adsi_tx_put_message.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_lib.adsi_tx_set_preamble.restype = None
_lib.adsi_tx_set_preamble.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                      ctypes.c_int, ctypes.c_int]
_lib.adsi_tx.restype = ctypes.c_int
_lib.adsi_tx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.adsi_tx_free.restype = ctypes.c_int
_lib.adsi_tx_free.argtypes = [ctypes.c_void_p]

Field = tuple[int, bytes]


class SpandspAdsiRx:
    """spandsp's ADSI receiver; `messages` collects what its callback delivered."""

    def __init__(self, standard: int) -> None:
        self.standard = standard
        self.messages: list[bytes] = []
        # Kept on the object: the C side holds this pointer for the receiver's lifetime.
        self._callback = PUT_MSG_FUNC(self._on_message)
        state = _lib.adsi_rx_init(None, standard, self._callback, None)
        if not state:
            raise RuntimeError("adsi_rx_init failed")
        self._state: int | None = state

    def _on_message(self, _user: int | None, msg: ctypes._Pointer[ctypes.c_uint8],
                    length: int) -> None:
        if length > 0:
            self.messages.append(ctypes.string_at(msg, length))

    def feed(self, samples: npt.NDArray[np.int16]) -> None:
        pcm = np.ascontiguousarray(samples, dtype=np.int16)
        _lib.adsi_rx(self._state, pcm.ctypes.data, len(pcm))

    def feed_raw(self, address: int, count: int) -> None:
        """Feed `count` int16 samples at `address` (no conversion: for the benchmark)."""
        _lib.adsi_rx(self._state, address, count)

    def fields(self, message: bytes) -> list[Field]:
        """Split a delivered message with adsi_next_field: [(type, body), ...]."""
        buf = ctypes.create_string_buffer(message, len(message) + 1)
        field_type = ctypes.c_uint8()
        body = ctypes.POINTER(ctypes.c_uint8)()
        length = ctypes.c_int()
        out: list[Field] = []
        pos = -1
        for _ in range(64):
            pos = _lib.adsi_next_field(self._state, buf, len(message), pos,
                                       ctypes.byref(field_type), ctypes.byref(body),
                                       ctypes.byref(length))
            if pos < 0:
                if pos == -2:
                    raise ValueError(f"spandsp: corrupt message structure {message!r}")
                break
            data = ctypes.string_at(body, length.value) if length.value > 0 else b""
            out.append((field_type.value, data))
        return out

    def close(self) -> None:
        if self._state is not None:
            _lib.adsi_rx_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def spandsp_decode(samples: npt.NDArray[np.int16], standard: int,
                   frame: int = 160) -> list[list[Field]]:
    """Decode a whole signal with spandsp (with silence either side); fields per message."""
    rx = SpandspAdsiRx(standard)
    silence = np.zeros(4000, dtype=np.int16)
    pcm = np.concatenate([silence, np.asarray(samples, dtype=np.int16), silence])
    for start in range(0, len(pcm), frame):
        rx.feed(pcm[start:start + frame])
    result = [rx.fields(m) for m in rx.messages]
    rx.close()
    return result


def spandsp_generate(message: bytes, standard: int, preamble_bits: int = -1,
                     preamble_ones: int = -1, postamble_ones: int = -1,
                     stop_bits: int = -1) -> npt.NDArray[np.int16]:
    """Caller ID from spandsp's transmitter. For FSK standards `message` is the type,
    length and body (spandsp recomputes the length and appends the checksum); for
    CLIP_DTMF it is the digit string. -1 keeps spandsp's defaults (300 seizure bits,
    80 mark bits)."""
    tx = _lib.adsi_tx_init(None, standard)
    if not tx:
        raise RuntimeError("adsi_tx_init failed")
    try:
        _lib.adsi_tx_set_preamble(tx, preamble_bits, preamble_ones, postamble_ones, stop_bits)
        if _lib.adsi_tx_put_message(tx, message, len(message)) <= 0:
            raise RuntimeError("adsi_tx_put_message refused the message")
        chunks = []
        buf = np.zeros(160, dtype=np.int16)
        for _ in range(10_000):
            produced = _lib.adsi_tx(tx, buf.ctypes.data, len(buf))
            if produced <= 0:
                break
            chunks.append(buf[:produced].copy())
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    finally:
        _lib.adsi_tx_free(tx)
