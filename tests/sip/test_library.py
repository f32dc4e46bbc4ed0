"""What firmware.sip.library tells of the pjsua2 in use: the TLS versions an OpenSSL allows
us, and which distribution installed the loaded extension (read from this venv's own)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from firmware.sip.library import build_of, extension_path, tls_versions


def test_tls_versions_by_openssl() -> None:
    assert tls_versions("OpenSSL 1.0.2k-fips  26 Jan 2017") == ("1.2",)
    assert tls_versions("OpenSSL 1.1.0l  10 Sep 2019") == ("1.2",)
    assert tls_versions("OpenSSL 1.1.1w  11 Sep 2023") == ("1.2", "1.3")
    assert tls_versions("OpenSSL 3.0.19 27 Jan 2026") == ("1.2", "1.3")
    assert tls_versions("") == ()


def test_build_of_the_loaded_extension() -> None:
    path = extension_path()
    assert path is not None and path.exists()
    names = {(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()}
    expected = "source" if "pjsua2" in names else "wheel"
    assert build_of(path) == expected


def test_build_of_a_file_no_distribution_owns(tmp_path: Path) -> None:
    stray = tmp_path / "_pjsua2.cpython-311-x86_64-linux-gnu.so"
    stray.write_bytes(b"")
    assert build_of(stray) == "unknown"
    assert build_of(None) == "unknown"
