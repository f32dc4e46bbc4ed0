"""The command table: registration, argument checking and dispatch.

Handlers receive the running system (an object the composition root provides) and the
arguments as a dict; they raise :class:`CommandError` with a message a person can act on.
Front ends never reach the system any other way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from firmware.commands.caller import ROOT, Caller, Role, reset_caller, run_as
from firmware.core.errors import CommandError, PbxError, PermissionDeniedError

log = logging.getLogger(__name__)

Handler = Callable[[Any, Mapping[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: Handler
    # Argument name -> the Python type it must have (int, str, float, bool).
    args: Mapping[str, type] | None = None
    required: tuple[str, ...] = ()
    # The least role that may run it (firmware.commands.caller).
    role: Role = "admin"


class CommandTable:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, command: Command) -> None:
        if command.name in self._commands:
            raise ValueError(f"command {command.name} registered twice")
        self._commands[command.name] = command

    def command(self, name: str, help: str, args: Mapping[str, type] | None = None,
                required: tuple[str, ...] = (), role: Role = "admin",
                ) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.register(Command(name, help, fn, args, required, role))
            return fn
        return deco

    def names(self, caller: Caller | None = None) -> list[str]:
        """Every command's name, or those ``caller`` may run."""
        return sorted(n for n, c in self._commands.items()
                      if caller is None or caller.may(c.role))

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def describe(self, caller: Caller | None = None) -> list[dict[str, Any]]:
        """Name, help, arguments (name: type) and role of each command ``caller`` may run:
        the source of the console's help and completion."""
        return [{"name": c.name, "help": c.help, "role": c.role,
                 "args": {k: t.__name__ for k, t in (c.args or {}).items()},
                 "required": list(c.required)}
                for c in sorted(self._commands.values(), key=lambda c: c.name)
                if caller is None or caller.may(c.role)]

    async def call(self, system: Any, name: str, args: Mapping[str, Any],
                   caller: Caller = ROOT) -> Any:
        command = self._commands.get(name)
        if command is None:
            raise CommandError(
                f"unknown command {name!r}; known: {', '.join(self.names(caller))}")
        if not caller.may(command.role):
            raise PermissionDeniedError(
                f"{name}: needs the {command.role} role; {caller.name} is {caller.role}")
        checked = _check_args(command, args)
        token = run_as(caller)
        try:
            return await command.handler(system, checked)
        except PbxError:
            raise
        except (LookupError, ValueError) as exc:
            # Lower layers speak Python's built-ins; a person gets their text.
            raise CommandError(f"{name}: {exc}") from exc
        except OSError as exc:
            # A full disk or a read-only state dir: the change was not made (files are
            # replaced whole); say which file and what to do rather than "internal error".
            where = f" {exc.filename}" if exc.filename else ""
            raise CommandError(f"{name}: could not write{where}: {exc.strerror or exc}; "
                               "nothing was changed: free space on the state dir's disk "
                               "or make it writable, then try again") from exc
        finally:
            reset_caller(token)


def _check_args(command: Command, args: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(args, Mapping):
        raise CommandError(f"{command.name}: arguments must be an object")
    spec = command.args or {}
    unknown = sorted(set(args) - set(spec))
    if unknown:
        raise CommandError(f"{command.name}: unknown argument(s) {', '.join(unknown)}")
    missing = [a for a in command.required if args.get(a) is None]
    if missing:
        raise CommandError(f"{command.name}: missing argument(s) {', '.join(missing)}")
    out: dict[str, Any] = {}
    for key, value in args.items():
        if value is None:
            continue
        want = spec[key]
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise CommandError(
                f"{command.name}: argument {key} must be {want.__name__}, got {value!r}")
        out[key] = value
    return out
