"""The dashboard feed: one watcher for all listeners, only changes sent, the newest state
for a slow listener, nothing running with nobody listening, and an end at close."""

from __future__ import annotations

import asyncio
from typing import Any

from firmware.web.feed import StatusFeed


def test_the_feed_sends_changes_only_and_stops_with_its_listeners() -> None:
    async def go() -> None:
        state = {"n": 0}
        reads = []

        async def fetch() -> dict[str, Any]:
            reads.append(state["n"])
            if state["n"] < 0:
                raise RuntimeError("the box is unreachable")
            return dict(state)

        feed = StatusFeed(fetch, lambda s: {"n": str(s["n"])}, interval_s=0.01)
        a, b = feed.subscribe(), feed.subscribe()
        assert await asyncio.wait_for(a.get(), 5) == '{"n": "0"}'
        assert await asyncio.wait_for(b.get(), 5) == '{"n": "0"}'
        await asyncio.sleep(0.05)  # several readings, no change: nothing more is sent
        assert a.empty() and b.empty() and len(reads) > 1
        for n in (1, 2, 3):  # b does not read meanwhile: it gets the newest only
            state["n"] = n
            assert await asyncio.wait_for(a.get(), 5) == f'{{"n": "{n}"}}'
        assert b.qsize() == 1 and b.get_nowait() == '{"n": "3"}'
        state["n"] = -1  # a failing reading sends nothing and does not stop the feed
        await asyncio.sleep(0.05)
        state["n"] = 4
        assert await asyncio.wait_for(a.get(), 5) == '{"n": "4"}'
        feed.unsubscribe(a)
        feed.unsubscribe(b)
        await asyncio.sleep(0.05)
        count = len(reads)
        await asyncio.sleep(0.05)
        assert len(reads) == count  # nobody listens: no reading
        c = feed.subscribe()
        assert await asyncio.wait_for(c.get(), 5) == '{"n": "4"}'
        await feed.close()
        assert c.get_nowait() == ""  # the end of the stream
        assert feed.listeners == 0

    asyncio.run(go())
