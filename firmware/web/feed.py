"""The dashboard's live feed: one watcher of the box, shared by every open dashboard.

While at least one browser listens, a single task reads ``status`` every SSE_POLL_S, renders
the dashboard's parts, and hands the result to every listener only when it changed. A
listener's queue holds one item: a slow browser gets the newest state, never a backlog.
With nobody listening there is no task and no cost. At shutdown each listener gets an empty
item: its stream ends at once rather than holding the server's stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[dict[str, Any]]]
Render = Callable[[dict[str, Any]], dict[str, str]]


class StatusFeed:
    def __init__(self, fetch: Fetch, render: Render, interval_s: float) -> None:
        self._fetch = fetch
        self._render = render
        self.interval_s = interval_s
        self._listeners: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last: str | None = None

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        self._listeners.add(queue)
        if self._last is not None:
            queue.put_nowait(self._last)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="web-status-feed")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._listeners.discard(queue)

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    async def close(self) -> None:
        """Ends every listener's stream (an empty item means "the server is stopping")."""
        for queue in self._listeners:
            _offer(queue, "")
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        failing = False
        try:
            while self._listeners:
                try:
                    text = json.dumps(self._render(await self._fetch()))
                    failing = False
                except Exception:
                    if not failing:  # once per run of failures, not five times a second
                        log.exception("the dashboard feed could not read the status")
                    failing, text = True, None
                if text is not None and text != self._last:
                    self._last = text
                    for queue in list(self._listeners):
                        _offer(queue, text)
                await asyncio.sleep(self.interval_s)
        finally:
            # Nobody watches: the next listener starts from a fresh reading.
            self._last = None


def _offer(queue: asyncio.Queue[str], text: str) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(text)
