"""Suite-wide options. Fixtures live next to the tests that use them."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Every box the tests start shares one folder of spoken prompts (espeak-ng's output
    for a voice and a text), instead of running espeak-ng for its builtins again
    (firmware/app/promptcache.py); keyed by espeak-ng's version, so an upgrade speaks
    afresh. Workers write into it atomically."""
    try:
        version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout.split()[3:4]
    except (OSError, subprocess.TimeoutExpired):
        version = []
    tag = "".join(c for c in "".join(version) if c.isalnum() or c == ".") or "none"
    folder = Path(tempfile.gettempdir()) / f"minipbx-test-prompts-{tag}"
    os.environ.setdefault("MINIPBX_PROMPT_SHARED", str(folder))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--board", action="store", default=None, metavar="NAME",
        help="run the hardware tests against the real board NAME (a board/*.toml profile); "
             "without it they skip")
