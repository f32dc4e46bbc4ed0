"""ctypes wrapper over spandsp's supervisory (call-progress) tone receiver, super_tone_rx,
built from one of our country profiles: the speed reference for firmware.dsp.tone_detect
in tools/bench_dsp.py. Tones with more than two sines are given by their first two."""

from __future__ import annotations

import ctypes

import numpy as np
import numpy.typing as npt

from firmware.dsp.profiles import CountryProfile

_lib = ctypes.CDLL("libspandsp.so.2")
_REPORT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)
_lib.super_tone_rx_make_descriptor.restype = ctypes.c_void_p
_lib.super_tone_rx_make_descriptor.argtypes = [ctypes.c_void_p]
_lib.super_tone_rx_add_tone.restype = ctypes.c_int
_lib.super_tone_rx_add_tone.argtypes = [ctypes.c_void_p]
_lib.super_tone_rx_add_element.restype = ctypes.c_int
_lib.super_tone_rx_add_element.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * 5
_lib.super_tone_rx_init.restype = ctypes.c_void_p
_lib.super_tone_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, _REPORT, ctypes.c_void_p]
_lib.super_tone_rx.restype = ctypes.c_int
_lib.super_tone_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_lib.super_tone_rx_free.restype = ctypes.c_int
_lib.super_tone_rx_free.argtypes = [ctypes.c_void_p]
_lib.super_tone_rx_free_descriptor.restype = ctypes.c_int
_lib.super_tone_rx_free_descriptor.argtypes = [ctypes.c_void_p]


class SpandspToneRx:
    """super_tone_rx set up with every tone of a profile; `reports` collects
    (tone name or None, level) as spandsp calls back."""

    def __init__(self, profile: CountryProfile) -> None:
        self._desc = _lib.super_tone_rx_make_descriptor(None)
        self.names: list[str] = []
        for tone in profile.tones:
            tone_id = _lib.super_tone_rx_add_tone(self._desc)
            self.names.append(tone.name)
            for step in tone.steps:
                f1 = int(step.freqs[0]) if step.freqs else -1
                f2 = int(step.freqs[1]) if len(step.freqs) > 1 else -1
                if step.duration_ms is None:
                    low, high = 500, 0
                else:
                    low, high = int(step.duration_ms * 0.8), int(step.duration_ms * 1.2)
                _lib.super_tone_rx_add_element(self._desc, tone_id, f1, f2, low, high)
        self.reports: list[tuple[str | None, int]] = []
        self._callback = _REPORT(self._report)  # kept: C holds this pointer
        self._state = _lib.super_tone_rx_init(None, self._desc, self._callback, None)

    def _report(self, _user: int | None, code: int, level: int, _delay: int) -> None:
        self.reports.append((self.names[code] if 0 <= code < len(self.names) else None, level))

    def feed(self, samples: npt.NDArray[np.int16]) -> None:
        pcm = np.ascontiguousarray(samples, dtype=np.int16)
        _lib.super_tone_rx(self._state, pcm.ctypes.data, pcm.size)

    def feed_raw(self, address: int, count: int) -> None:
        _lib.super_tone_rx(self._state, address, count)

    def close(self) -> None:
        if self._state:
            _lib.super_tone_rx_free(self._state)
            _lib.super_tone_rx_free_descriptor(self._desc)
            self._state = None

    def __del__(self) -> None:
        self.close()
