"""Helpers shared by the test packages: waiting with a timeout, collecting line signals,
and loading a tool from tools/ by its path.

Nothing here is timed by the wall clock: a test waits (generously) for what it expects and
never asserts on how fast it came.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from drivers.base import LineSignal

ROOT = Path(__file__).resolve().parents[1]
# Generous: threads on a loaded CI machine can be late by a lot.
WAIT_S = 5.0

S = TypeVar("S")


def wait_until(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    """Poll ``cond`` until it holds or ``timeout`` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


class Signals:
    """A thread-safe sink that keeps every line signal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[LineSignal] = []

    def __call__(self, signal: LineSignal) -> None:
        with self._lock:
            self.items.append(signal)

    def of(self, kind: type[S]) -> list[S]:
        with self._lock:
            return [s for s in self.items if isinstance(s, kind)]

    def wait_for(self, kind: type[S], count: int = 1, timeout: float = WAIT_S) -> list[S]:
        """The signals of ``kind`` once there are ``count`` (or all there are at timeout)."""
        wait_until(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)

    def clear(self) -> None:
        with self._lock:
            self.items.clear()


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` (tools are scripts, not a package), once."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
