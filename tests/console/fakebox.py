"""A small command table and system for the console's unit tests: the real table code, the
real account store and user commands, and stand-ins for status and the config commands."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware.accounts import AccountStore
from firmware.commands import user_cmds
from firmware.commands.caller import current_caller
from firmware.commands.table import CommandTable
from firmware.console.backend import Backend
from firmware.console.session import Session, Throttle
from firmware.core.errors import CommandError

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class FakeSystem:
    def __init__(self, accounts: AccountStore) -> None:
        self.store = accounts
        self.doc: dict[str, Any] = {"box": {"name": "office", "country": "us"},
                                    "fxs": [{"port": 1, "extension": "101"},
                                            {"port": 2, "extension": "102"}]}
        self.pending = False
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.hook_seq = 0
        self.ring_done = asyncio.Event()

    def accounts(self) -> AccountStore:
        return self.store


def build_table() -> CommandTable:
    table = CommandTable()
    user_cmds.register(table)

    def note(system: FakeSystem, name: str, args: Mapping[str, Any]) -> None:
        system.calls.append((name, dict(args), current_caller().name))

    @table.command("status", "ports, trunks and calls", role="user")
    async def status(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        return {"name": system.doc["box"]["name"],
                "ports": [{"leg": "fxs1", "kind": "fxs", "extension": "101"},
                          {"leg": "fxs2", "kind": "fxs", "extension": "102"},
                          {"leg": "fxo1", "kind": "fxo", "extension": None}]}

    @table.command("config.pending", "staged changes", role="user")
    async def pending(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        return {"pending": system.pending}

    @table.command("config.paths", "every PATH", role="installer")
    async def paths(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        out = ["box.name", "box.country"]
        for p in system.doc["fxs"]:
            out += [f"fxs.{p['port']}.extension", f"fxs.{p['port']}.caller_id_standard"]
        return out

    @table.command("config.show", "the configuration", {"candidate": bool, "json": bool},
                   role="installer")
    async def show(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        if args.get("json"):
            return {"config": system.doc}
        return {"toml": "\n".join(f"line {i}" for i in range(60))}

    @table.command("config.set", "stage one setting", {"path": str, "value": str},
                   ("path", "value"), role="installer")
    async def config_set(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        note(system, "config.set", args)
        if args["path"] == "fxs.1.extension" and not args["value"].isdigit():
            raise CommandError(f"fxs.1.extension: must be digits, got {args['value']!r}")
        system.pending = True
        return {"path": args["path"], "pending": True, "problems": []}

    @table.command("config.commit", "apply", {"confirm_s": float, "message": str},
                   role="installer")
    async def commit(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        note(system, "config.commit", args)
        system.pending = False
        return {"version": 2, "applied": ["fxs.1.extension"], "restart_needed": [],
                "confirm_by": None}

    @table.command("hw.ring", "ring a port", {"port": int, "seconds": float}, ("port",),
                   role="installer")
    async def ring(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        note(system, "hw.ring", args)
        await asyncio.sleep(args.get("seconds", 0.0))
        system.ring_done.set()
        return {"port": args["port"], "rang": True}

    @table.command("hw.hook", "hook events", {"port": int, "since": int}, role="installer")
    async def hook(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        system.hook_seq += 1
        seq = system.hook_seq
        return {"last": seq, "events": [] if not args.get("since") else [
            {"seq": seq, "type": "offhook", "port": args.get("port"), "at": float(seq)}]}

    @table.command("sim.phone.hook", "lift a handset", {"port": int, "action": str},
                   ("port", "action"), role="installer")
    async def phone(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        note(system, "sim.phone.hook", args)
        return {"port": args["port"], "hook": args["action"]}

    @table.command("boom", "fails inside", role="user")
    async def boom(system: FakeSystem, args: Mapping[str, Any]) -> Any:
        raise RuntimeError("kaput")

    return table


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Term:
    """A terminal on a Session: type bytes, read what the screen got."""

    def __init__(self, tmp: Path, login: bool = True, idle: float = 0.0, width: int = 80,
                 height: int = 24, throttle: Throttle | None = None) -> None:
        self.store = AccountStore(tmp / "accounts.json")
        self.system = FakeSystem(self.store)
        self.backend = Backend(build_table(), self.system, self.store, baud=9600)
        self.out = bytearray()
        self.closed = False
        self.clock = Clock()
        self.session = Session(self.backend, self.out.extend, via="serial" if login else
                               "console", login=login, width=width, height=height,
                               idle_logout_s=idle, close=self._close, throttle=throttle,
                               clock=self.clock)

    def _close(self) -> None:
        self.closed = True

    def start(self) -> None:
        self.session.start()

    async def type(self, data: str | bytes, settle: float = 0.05) -> str:
        """Send ``data``; what came back, with escape sequences removed."""
        mark = len(self.out)
        self.session.feed(data.encode() if isinstance(data, str) else data)
        await self.settle(settle)
        return ANSI.sub("", self.out[mark:].decode("ascii", "replace"))

    async def settle(self, seconds: float = 0.05) -> None:
        await asyncio.sleep(seconds)

    async def until(self, text: str, timeout: float = 5.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if text in self.text():
                return self.text()
            await asyncio.sleep(0.01)
        raise AssertionError(f"{text!r} not on the screen:\n{self.text()}")

    def text(self) -> str:
        return ANSI.sub("", self.out.decode("ascii", "replace"))

    def clear(self) -> None:
        del self.out[:]

    async def login_admin(self) -> None:
        self.store.add("ann", "admin", "ann's password")
        self.start()
        await self.until("login: ")
        await self.type("ann\r")
        await self.type("ann's password\r")
        await self.until("office> ")
