"""Scheduled signal edges of a virtual device (pulse dialing, hook flash, ring bursts).

Each edge carries its exact planned instant as ``at``; a single timer thread delivers it
no earlier than that instant. Late delivery is harmless because the firmware times by
``at``, which is how a hardware backend behaves too.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Timeline:
    def __init__(self, name: str) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)
        self._thread.start()

    def at(self, when: float, action: Callable[[float], None]) -> None:
        """Run ``action(when)`` on the timer thread at monotonic time ``when``."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), action))
            self._cond.notify()

    def cancel_all(self) -> None:
        with self._cond:
            self._heap.clear()
            self._cond.notify()

    def busy_until(self) -> float:
        """The instant of the last scheduled edge (now if none)."""
        with self._cond:
            return max((w for w, _, _ in self._heap), default=time.monotonic())

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                when, _, action = heapq.heappop(self._heap)
            action(when)
