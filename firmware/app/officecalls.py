"""Starts the auto-informer and the web call-back in the daemon (one call, after the
running system is built): both place calls through the box's dialer
(firmware/app/boxdialer.py) and read their settings from the running configuration, so a
commit changes them for the next call."""

from __future__ import annotations

import asyncio
from pathlib import Path

from firmware.app.box import Box
from firmware.app.boxdialer import BoxDialer
from firmware.app.callback import CallbackService
from firmware.app.informer import Informer
from firmware.app.promptcache import Use
from firmware.app.system import RunningSystem
from firmware.pbx.schedules import is_open
from firmware.sip.adapter import SipAdapter

INFORM_DIR = "inform"


def start_office_calls(loop: asyncio.AbstractEventLoop, box: Box, adapter: SipAdapter,
                       system: RunningSystem, state_dir: Path) -> BoxDialer:
    def sip_calls() -> int:
        calls = adapter.status()["calls"]
        return len(calls) if isinstance(calls, dict) else 0

    def office_open(name: str, now: float) -> bool:
        schedule = box.exchange.plan.schedule_map.get(name)
        return True if schedule is None else is_open(schedule, now)

    async def prepare(refs: tuple[str, ...]) -> list[str]:
        """Build a campaign's message into the prompt cache (off the loop)."""
        prompts = system.prompt_control
        if prompts is None:
            return []
        uses = [Use("message", ref, prompts.language) for ref in refs]
        problems = await asyncio.to_thread(prompts.cache.build, uses)
        return [what for _, what in problems]

    dialer = BoxDialer(box, loop, sip_calls, adapter.max_calls)
    system.informer_service = Informer(state_dir / INFORM_DIR, dialer,
                                       lambda: system.running_config.inform, prepare)
    system.callback_service = CallbackService(dialer, lambda: system.running_config.callback,
                                              lambda: box.exchange.plan, office_open)
    system.informer_service.load()
    return dialer
