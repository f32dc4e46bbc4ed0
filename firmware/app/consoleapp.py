"""Wires the installer's console into the daemon: one call after the control socket is up.

- While the box has no admin account, the one-time setup code goes to the log (and the
  serial console shows it before its login).
- ``minipbx console`` reaches the command line over ``state_dir/console.sock`` (0660): root
  on the box, no login.
- ``[console] device`` (``""`` = none) gets a login and the command line at ``baud``; a
  commit that changes ``[console]`` moves it at once (a new device or speed reopens it;
  a new idle time applies to the sessions that are on).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from firmware.app.status_text import format_status
from firmware.commands.table import CommandTable
from firmware.config import Config
from firmware.config.schema import ConsoleConfig
from firmware.console.backend import Backend
from firmware.console.serial_port import SerialConsole
from firmware.console.session import Session, Throttle
from firmware.console.socket_console import SOCKET_NAME, SocketConsole

log = logging.getLogger(__name__)


class Consoles:
    def __init__(self, backend: Backend, config: ConsoleConfig, state_dir: Path) -> None:
        self.backend = backend
        self.config = config
        self.socket = SocketConsole(state_dir / SOCKET_NAME, self._socket_session)
        self.serial: SerialConsole | None = None

    async def start(self) -> None:
        await self.socket.start()
        self._start_serial()

    def follow(self, old: Config, new: Config) -> None:
        """The configuration manager's watcher: ``[console]`` changes apply at commit."""
        if old.console != new.console:
            self.apply(new.console)

    def apply(self, config: ConsoleConfig) -> None:
        before, self.config = self.config, config
        self.backend.baud = config.baud
        if self.serial is not None:
            session = self.serial.session
            if session is not None:
                session.idle_logout_s = float(config.idle_logout_s)
        if (before.device, before.baud) != (config.device, config.baud):
            if self.serial is not None:
                self.serial.close()
                self.serial = None
            self._start_serial()

    async def close(self) -> None:
        if self.serial is not None:
            self.serial.close()
            self.serial = None
        await self.socket.close()

    def _start_serial(self) -> None:
        if not self.config.device:
            return
        self.serial = SerialConsole(self.config.device, self.config.baud, self._serial_session)
        self.serial.start()

    def _serial_session(self, write: Any, throttle: Throttle) -> Session:
        return Session(self.backend, write, via="serial", login=True,
                       idle_logout_s=float(self.config.idle_logout_s), encoding="ascii",
                       throttle=throttle)

    def _socket_session(self, write: Any, close: Any, cols: int, rows: int) -> Session:
        return Session(self.backend, write, via="console", login=False, width=cols,
                       height=rows, idle_logout_s=float(self.config.idle_logout_s),
                       encoding="utf-8", close=close)


async def start_console(config: ConsoleConfig, table: CommandTable, system: Any,
                        state_dir: Path) -> Consoles:
    """Called by the daemon after the control socket starts; follows ``[console]`` at every
    commit."""
    accounts = system.accounts()
    code = accounts.setup_code()
    if code:
        log.warning("no admin account yet: the one-time setup code is %s (the web page's "
                    "first screen and the serial console ask for it; `minipbx setup-code` "
                    "shows it again)", code)
        print(f"  setup code (no admin account yet): {code}", file=sys.stderr, flush=True)
    backend = Backend(table, system, accounts, {"status": format_status}, baud=config.baud)
    consoles = Consoles(backend, config, state_dir)
    await consoles.start()
    system.config().watch(consoles.follow)
    if config.device:
        print(f"  serial console: {config.device} at {config.baud} baud", file=sys.stderr,
              flush=True)
    return consoles
