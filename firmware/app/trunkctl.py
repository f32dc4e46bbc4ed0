"""The installer's "test registration" of a trunk: send its REGISTER now and wait for the
registrar's answer (or pjsua's own 408 when none comes), within REGISTER_WAIT_S.

The answer belongs to this REGISTER when the trunk's registration left "registering" after
the moment it was sent (RegistrationState.since moves at every change of state).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from firmware.sip.adapter import SipAdapter

REGISTER_WAIT_S = 10.0
"""Long enough for a registrar on the LAN or the internet to answer with a challenge and
the authenticated REGISTER; a silent one leaves the answer to pjsua's timer (32 s)."""
POLL_S = 0.05


async def register_and_wait(adapter: SipAdapter, name: str,
                            wait_s: float = REGISTER_WAIT_S) -> dict[str, Any]:
    sent = time.monotonic()
    registration = adapter.register_now(name)
    deadline = sent + wait_s
    answered = False
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        if registration.state != "registering" and registration.since >= sent:
            answered = True
            break
    return {"trunk": name, "answered": answered, "registration": registration.as_dict()}
