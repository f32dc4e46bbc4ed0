"""Which pjsua2 this process runs, for ``minipbx status``: version, build, call limit, TLS.

Two builds exist: the PyPI wheel (``pjsua2-python``, x86_64 only, 4 calls, OpenSSL 1.0.2 so
TLS 1.2 at most) and the source build of ``make pjsua2`` (distribution ``pjsua2``, our
``tools/pjsua2/config_site.h``, the system OpenSSL 3). The build is told by the
distribution that installed the loaded extension file; the call limit and the OpenSSL
version are read from the loaded library itself through its exported C API (the same
shared object :mod:`firmware.sip.screen` uses), so a mislabelled install cannot lie here.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

log = logging.getLogger(__name__)

# Distribution name -> build, as `minipbx status` says it.
_BUILDS = {"pjsua2-python": "wheel", "pjsua2": "source"}


@dataclass(frozen=True)
class LibraryInfo:
    version: str
    build: str  # wheel, source or unknown
    max_calls: int  # the compiled-in limit as the running library reports it; 0: unknown
    openssl: str  # e.g. "OpenSSL 3.0.19 ..."; "" when it cannot be read
    tls: tuple[str, ...]  # TLS versions our transports offer, e.g. ("1.2", "1.3")
    codecs: tuple[str, ...]  # enabled codec ids, preferred first

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "build": self.build, "max_calls": self.max_calls,
                "openssl": self.openssl, "tls": list(self.tls), "codecs": list(self.codecs)}


def extension_path() -> Path | None:
    """The file of the loaded ``_pjsua2`` extension (loaded on first use of ``pj.Endpoint``)."""
    pj.Endpoint  # noqa: B018 - the PyPI wheel loads its extension lazily
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.rsplit(".", 1)[-1] == "_pjsua2" and path:
            return Path(path).resolve()
    return None


def build_of(path: Path | None) -> str:
    """``wheel`` or ``source``: which distribution installed the extension file at ``path``."""
    if path is None:
        return "unknown"
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower()
        if name not in _BUILDS:
            continue
        for file in dist.files or ():
            if file.name == path.name and Path(str(dist.locate_file(file))).resolve() == path:
                return _BUILDS[name]
    return "unknown"


def tls_versions(openssl: str) -> tuple[str, ...]:
    """The TLS versions our transports offer with this OpenSSL (we never offer below 1.2)."""
    m = re.match(r"(?:OpenSSL|LibreSSL)\s+(\d+)\.(\d+)\.(\d+)", openssl)
    if not m:
        return ()
    major, minor, patch = (int(g) for g in m.groups())
    if (major, minor, patch) >= (1, 1, 1):
        return ("1.2", "1.3")
    return ("1.2",)


def _openssl_text(lib: ctypes.CDLL) -> str:
    for name in ("OpenSSL_version", "SSLeay_version"):  # 1.1 and later; 1.0.x
        try:
            fn = getattr(lib, name)
        except AttributeError:
            continue
        fn.restype = ctypes.c_char_p
        fn.argtypes = [ctypes.c_int]
        text = fn(0)
        return text.decode("ascii", "replace") if text else ""
    return ""


def read_library(ep: Any) -> LibraryInfo:
    """Ask the running library (after ``libInit``; codecs after ``libStart``)."""
    path = extension_path()
    max_calls = 0
    openssl = ""
    if path is not None:
        try:
            lib = ctypes.CDLL(str(path))
            get_max = lib.pjsua_call_get_max_count
            get_max.restype = ctypes.c_uint
            get_max.argtypes = []
            max_calls = int(get_max())
            openssl = _openssl_text(lib)
        except (OSError, AttributeError):
            log.warning("cannot read the call limit or OpenSSL version from %s", path)
    # codecEnum2 lists them in priority order (its priority field reads 128 for every
    # enabled codec in 2.15.1, so the order is what tells); 0 is disabled.
    codecs = tuple(str(c.codecId) for c in ep.codecEnum2() if c.priority > 0)
    return LibraryInfo(version=str(ep.libVersion().full), build=build_of(path),
                       max_calls=max_calls, openssl=openssl, tls=tls_versions(openssl),
                       codecs=codecs)
