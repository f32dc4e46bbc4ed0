"""Test-only commands, present only when the daemon runs with ``MINIPBX_TEST_HOOKS=1`` in
its environment (the fault tests set it; a box in service never has it).

``debug.freeze`` blocks the one asyncio loop for a while, as a bug that hangs the loop
would: the systemd watchdog test shows the WATCHDOG=1 pings stop while it lasts.
``debug.memory`` (with ``PYTHONTRACEMALLOC`` set too) lists the allocation sites that grew
since its first call: how the soak's memory growth was traced to the simulated handsets'
recorders.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError

ENV = "MINIPBX_TEST_HOOKS"
MAX_FREEZE_S = 60.0


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


def register(table: CommandTable) -> None:
    if not enabled():
        return
    register_memory(table)

    @table.command("debug.freeze", "block the daemon's loop (watchdog tests only)",
                   {"seconds": float}, ("seconds",), role="admin")
    async def freeze(system: System, args: Mapping[str, Any]) -> Any:
        seconds = float(args["seconds"])
        if not 0 < seconds <= MAX_FREEZE_S:
            raise CommandError(f"debug.freeze takes 0 to {MAX_FREEZE_S:.0f} seconds, "
                               f"not {seconds}")
        time.sleep(seconds)  # on purpose: the loop must not run meanwhile
        return {"froze_s": seconds}


_baseline: list[Any] = []


def register_memory(table: CommandTable) -> None:
    """``debug.memory``: with PYTHONTRACEMALLOC set, the allocation sites that grew most
    since the first call (the soak's leak hunt)."""
    if not enabled():
        return

    @table.command("debug.memory", "allocation sites grown since the first call (tracemalloc)",
                   {"top": int}, role="admin")
    async def memory(system: System, args: Mapping[str, Any]) -> Any:
        import gc
        import tracemalloc

        if not tracemalloc.is_tracing():
            raise CommandError("start the daemon with PYTHONTRACEMALLOC=1 to trace memory")
        gc.collect()
        snap = tracemalloc.take_snapshot()
        if not _baseline:
            _baseline.append(snap)
            return {"baseline": True}
        stats = snap.compare_to(_baseline[0], "lineno")[: int(args.get("top") or 15)]
        return [str(s) for s in stats]
