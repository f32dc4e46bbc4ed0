"""The configuration manager wired into the running daemon, and ``minipbx restart``.

A restart is a re-execution: the daemon shuts down cleanly (calls ended, trunks
unregistered, pjsua2 destroyed, the control socket removed), then replaces itself with the
same program and the same arguments (``os.execv``). The process id stays, so systemd's
Type=notify unit sees RELOADING=1 and then READY=1 from the new run, and ``make run`` keeps
its terminal; the new run starts from the state dir's saved configuration, which has every
commit (``--config`` is not read over it unless the file changed: firmware.app.startup).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from firmware.app.live import LiveBox
from firmware.app.manager import ConfigManager
from firmware.app.startup import Startup
from firmware.app.system import RunningSystem
from firmware.dsp.profiles import available_profiles

log = logging.getLogger(__name__)

RESTART = 75
"""What the serving coroutine returns when a restart was asked (EX_TEMPFAIL: were the
re-execution to fail, a supervisor restarting on failure still brings the box back)."""


def build_manager(startup: Startup, state_dir: Path, system: RunningSystem,
                  board_override: str | None, restart: asyncio.Event,
                  stop: asyncio.Event) -> ConfigManager:
    applier = LiveBox(system.box, system.board, system.sip_adapter,
                      system.boot_config, on_profile=system.set_profile)

    def request_restart() -> None:
        restart.set()
        stop.set()

    manager = ConfigManager(startup, state_dir, applier, board_override=board_override,
                            known_countries=available_profiles(),
                            request_restart=request_restart)
    system.attach_config(manager)
    return manager


def reexec() -> None:
    """Replace this process with a fresh run of the same command line (returns only if
    that fails)."""
    argv = [sys.executable, *sys.orig_argv[1:]]
    log.warning("restarting: %s", " ".join(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, argv)
    except OSError as exc:  # the caller exits with RESTART: a supervisor starts us again
        log.error("cannot restart by re-executing %s: %s", sys.executable, exc)
