"""Loading our own shared objects (tools/build_native.sh) with ctypes, for the echo filter
here and the line port (firmware/sip/nativelib.py): one error type for
"not usable here, fall back", and the typing of a library's functions from one table."""

from __future__ import annotations

import ctypes
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# name -> (return type, argument types), as ctypes wants them.
Signatures = Mapping[str, tuple[Any, Sequence[Any]]]


class NativeUnavailable(RuntimeError):
    """A library is missing, does not load or does not match; the message says which and
    where. Its callers fall back to their Python code."""


def open_library(path: Path, signatures: Signatures) -> ctypes.CDLL:
    """Load ``path`` and type each function of ``signatures``; a function missing means a
    library older than this code."""
    if not path.is_file():
        raise NativeUnavailable(f"{path} is missing (tools/build_native.sh builds it)")
    try:
        dll = ctypes.CDLL(str(path))
    except OSError as exc:
        raise NativeUnavailable(f"cannot load {path}: {exc}") from None
    for name, (restype, argtypes) in signatures.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            raise NativeUnavailable(f"{path} has no {name}: rebuild it "
                                    "(tools/build_native.sh)") from None
        fn.restype = restype
        fn.argtypes = list(argtypes)
    return dll
