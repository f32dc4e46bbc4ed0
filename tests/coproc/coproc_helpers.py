"""Helpers for the co-processor tests (imported by name: pytest puts this folder on the
path). The emulator is the tool in tools/coproc_emulator.py, loaded by its path."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from drivers.base import LineSignal

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "board" / "vectors"
MCU_DIR = ROOT / "board" / "mcu"
# Generous: threads on a loaded CI machine can be late by a lot; nothing here is timed by
# the wall clock, only waited for.
WAIT_S = 5.0

S = TypeVar("S")


def load_tool(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def wait_until(cond: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.005)
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
        wait_until(lambda: len(self.of(kind)) >= count, timeout)
        return self.of(kind)

    def clear(self) -> None:
        with self._lock:
            self.items.clear()
