"""The echo canceller's block filter in C (firmware/dsp/native/echo.c), through ctypes.

The same library runs the whole canceller (firmware.dsp.echo_native); this module loads
and checks it for both and says once which path the canceller takes.

firmware.dsp.fdaf's numpy filter is the reference; the C file does the same arithmetic in
two calls a block (`front()`, which also takes firmware.dsp.echo's residuals, energies and
peaks, and `adapt()`) instead of about forty small numpy operations, whose per-call cost
was most of a cancelled line's CPU (issue 11: a Pi must run eight lines).

Rules:

- `make_filter()` gives the C filter when its library loads, else the numpy one, and says
  which (and why) in the log once per process. MINIPBX_ECHO_NATIVE=0 asks for numpy;
  MINIPBX_ECHO_LIB names another library than build/native/libecho.so, which
  tools/build_native.sh builds (the box never needs it: the numpy filter is the fallback).
- The library's ABI number and its constants are checked at load against this module and
  firmware.dsp.fdaf; a mismatch (a stale build) means numpy, with the reason logged.
- Both filters have the same methods (`BlockFilter`), so firmware.dsp.echo's control is
  one code for both. Arrays cross as float64 in kept buffers whose addresses are taken
  once; what `estimates()` returns is valid until the next block, as in fdaf.
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from firmware.dsp import fdaf
from firmware.dsp.nativeload import NativeUnavailable, open_library

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
ComplexArray = npt.NDArray[np.complex128]

ENV_LIB = "MINIPBX_ECHO_LIB"
ENV_NATIVE = "MINIPBX_ECHO_NATIVE"
DEFAULT_LIB = Path(__file__).resolve().parents[2] / "build" / "native" / "libecho.so"
ABI = 3  # ECF_ABI in echo.c

_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[object, tuple[object, ...]]] = {
    "ecf_abi": (ctypes.c_int, ()),
    "ecf_new": (_P, (ctypes.c_int, ctypes.c_int, ctypes.c_double)),
    "ecf_free": (None, (_P,)),
    "ecf_reset": (None, (_P,)),
    "ecf_partitions": (ctypes.c_int, (_P,)),
    "ecf_open_uncertainty": (None, (_P, ctypes.c_int)),
    "ecf_push_far": (None, (_P, _P)),
    "ecf_estimates": (None, (_P, _P)),
    "ecf_adapt": (None, (_P, _P)),
    "ecf_copy": (None, (_P, ctypes.c_int)),
    "ecf_front": (None, (_P, _P, _P)),
    "ecf_rfft": (None, (_P, _P, _P)),
    "ecf_irfft": (None, (_P, _P, _P)),
    "ecf_weights": (None, (_P, ctypes.c_int, _P)),
    # The whole canceller (firmware/dsp/echo_native.py).
    "ecc_new": (_P, (ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_uint32, _P,
                     ctypes.c_int)),
    "ecc_free": (None, (_P,)),
    "ecc_reset": (None, (_P,)),
    "ecc_process": (None, (_P, ctypes.c_char_p, ctypes.c_char_p, _P, ctypes.c_int)),
    "ecc_process_f64": (None, (_P, _P, _P, _P, ctypes.c_int)),
    "ecc_status": (None, (_P, _P)),
}


class BlockFilter(Protocol):
    """What firmware.dsp.echo asks of a block filter (fdaf.PartitionedBlockFilter's)."""

    partitions: int

    def reset(self) -> None: ...
    def open_uncertainty(self, forget: bool = False) -> None: ...
    def push_far(self, far: FloatArray) -> None: ...
    def estimates(self) -> FloatArray: ...
    def adapt(self, error: FloatArray) -> None: ...
    def copy_background_to_foreground(self) -> None: ...
    def copy_foreground_to_background(self) -> None: ...


_loaded: dict[Path, ctypes.CDLL | NativeUnavailable] = {}


def library_path() -> Path:
    return Path(os.environ.get(ENV_LIB) or DEFAULT_LIB)


def load(path: Path | None = None) -> ctypes.CDLL:
    """The library, typed and checked (once per path); NativeUnavailable says why not."""
    path = path or library_path()
    found = _loaded.get(path)
    if found is None:
        try:
            found = _open(path)
        except NativeUnavailable as exc:
            found = exc
        _loaded[path] = found
    if isinstance(found, NativeUnavailable):
        raise found
    return found


def _open(path: Path) -> ctypes.CDLL:
    dll = open_library(path, _SIGNATURES)
    if dll.ecf_abi() != ABI:
        raise NativeUnavailable(f"{path} is of ABI {dll.ecf_abi()}, not {ABI}: rebuild it "
                                "(tools/build_native.sh)")
    _check_constants(dll, path)
    return dll


def _check_constants(dll: ctypes.CDLL, path: Path) -> None:
    """The C file repeats fdaf's constants; a filter that drifts from the reference after an
    edit of either must not be used. One block of known audio tells: the second update's
    weights depend on every constant but the drift's, the fifth's on that too."""
    block, taps = 16, 40
    reference = fdaf.PartitionedBlockFilter(block, taps, 3.0)
    native = NativeBlockFilter(block, taps, 3.0, dll)
    rng = np.random.default_rng(11)
    for _ in range(fdaf.DRIFT_EVERY + 1):
        far, near = rng.standard_normal((2, block)) * 1000.0
        for f in (reference, native):
            f.push_far(far)
            f.adapt(near - f.estimates()[0])
    got = native.weights(foreground=False)
    want = reference.weights[fdaf.BACKGROUND]
    if not np.allclose(got, want, rtol=1e-9, atol=1e-9 * float(np.abs(want).max())):
        raise NativeUnavailable(f"{path} disagrees with firmware/dsp/fdaf.py (constants or "
                                "arithmetic changed in one only): rebuild it or fix it")


class NativeBlockFilter:
    """fdaf.PartitionedBlockFilter's two sets of weights, held and updated in C."""

    def __init__(self, block: int, taps: int, near_floor: float,
                 dll: ctypes.CDLL | None = None) -> None:
        if block <= 0 or taps <= 0:
            raise ValueError(f"block and taps must be positive, got {block} and {taps}")
        self._dll = dll if dll is not None else load()
        handle = self._dll.ecf_new(block, taps, near_floor)
        if not handle:
            raise MemoryError("echo filter: ecf_new failed")
        self._handle: int = handle
        self.block = block
        self.taps = taps
        self.bins = block + 1
        self.partitions: int = self._dll.ecf_partitions(handle)
        self._far: FloatArray = np.zeros(block)
        self._error: FloatArray = np.zeros(block)
        self._estimates: FloatArray = np.zeros((2, block))
        # Addresses taken once: ndarray.ctypes costs more than the call it would feed.
        self._far_at = self._far.ctypes.data
        self._error_at = self._error.ctypes.data
        self._estimates_at = self._estimates.ctypes.data
        self._push = self._dll.ecf_push_far
        self._estimate = self._dll.ecf_estimates
        self._adapt = self._dll.ecf_adapt
        self._copy = self._dll.ecf_copy
        self._front = self._dll.ecf_front
        self._rows: FloatArray | None = None
        self._rows_at = 0
        self._measures: FloatArray = np.zeros(10)
        self._measures_at = self._measures.ctypes.data

    def __del__(self) -> None:
        handle = getattr(self, "_handle", 0)
        if handle:
            self._handle = 0
            self._dll.ecf_free(handle)

    def reset(self) -> None:
        self._dll.ecf_reset(self._handle)

    def open_uncertainty(self, forget: bool = False) -> None:
        self._dll.ecf_open_uncertainty(self._handle, int(forget))

    def push_far(self, far: FloatArray) -> None:
        self._far[:] = far
        self._push(self._handle, self._far_at)

    def estimates(self) -> FloatArray:
        self._estimate(self._handle, self._estimates_at)
        return self._estimates

    def adapt(self, error: FloatArray) -> None:
        self._error[:] = error
        self._adapt(self._handle, self._error_at)

    def bind_rows(self, rows: npt.NDArray[Any]) -> None:
        """The kept (6, block) float64 array that `front()` works in (firmware.dsp.echo's)."""
        if rows.shape != (6, self.block) or rows.dtype != np.float64 \
                or not rows.flags.c_contiguous:
            raise ValueError(f"front rows must be a C-contiguous (6, {self.block}) float64 "
                             f"array, got {rows.shape} {rows.dtype}")
        self._rows = rows
        self._rows_at = rows.ctypes.data

    def front(self) -> list[float]:
        """firmware.dsp.echo's first steps of a block in one call: with the far and near
        end in the bound rows 0 and 1, push the far end, write the background and the
        foreground residuals (rows 2, 3) and echo estimates (rows 4, 5), and give the six
        rows' energies and the peaks of the first four (ten numbers)."""
        if self._rows is None:
            raise RuntimeError("front() before bind_rows()")
        self._front(self._handle, self._rows_at, self._measures_at)
        return self._measures.tolist()  # type: ignore[no-any-return]

    def copy_background_to_foreground(self) -> None:
        self._copy(self._handle, 1)

    def copy_foreground_to_background(self) -> None:
        self._copy(self._handle, 0)

    # --- for the tests ---------------------------------------------------------------------
    def weights(self, foreground: bool) -> ComplexArray:
        out = np.zeros((self.partitions, self.bins), np.complex128)
        self._dll.ecf_weights(self._handle, int(foreground), out.ctypes.data)
        return out

    def rfft(self, x: FloatArray) -> ComplexArray:
        """The C transform of 2 * block real samples (its bins)."""
        samples = np.ascontiguousarray(x, np.float64)
        out = np.zeros(self.bins, np.complex128)
        self._dll.ecf_rfft(self._handle, samples.ctypes.data, out.ctypes.data)
        return out

    def irfft(self, spectrum: ComplexArray) -> FloatArray:
        bins = np.ascontiguousarray(spectrum, np.complex128)
        out = np.zeros(2 * self.block)
        self._dll.ecf_irfft(self._handle, bins.ctypes.data, out.ctypes.data)
        return out


_said: set[str] = set()


def choose_native(native: bool | None = None) -> bool:
    """Whether to run in C: `native` if given, else unless MINIPBX_ECHO_NATIVE=0 and while
    the library loads; the choice of numpy (and why) is logged once per process."""
    if native is not None:
        return native
    if os.environ.get(ENV_NATIVE, "1") == "0":
        say(f"echo canceller: numpy block filter ({ENV_NATIVE}=0)")
        return False
    try:
        load()
    except NativeUnavailable as exc:
        say(f"echo canceller: numpy block filter, the C one is unavailable: {exc}",
             logging.WARNING)
        return False
    return True


def make_filter(block: int, taps: int, near_floor: float,
                native: bool | None = None) -> BlockFilter:
    """The C filter if it loads (native None: unless MINIPBX_ECHO_NATIVE=0; True: it or
    NativeUnavailable), else fdaf's numpy filter (native False, or None and no library)."""
    if choose_native(native):
        built = NativeBlockFilter(block, taps, near_floor)
        say(f"echo canceller: C block filter ({library_path()})")
        return built
    return fdaf.PartitionedBlockFilter(block, taps, near_floor)


def say(message: str, level: int = logging.INFO) -> None:
    """Log `message` once per process (firmware.dsp.echo_native's choice too)."""
    if message not in _said:
        _said.add(message)
        log.log(level, message)
