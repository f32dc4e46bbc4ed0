"""Prompt commands: ``prompt.list``, ``prompt.status``, ``prompt.play`` (into an off-hook
handset), ``prompt.stop`` and ``prompt.upload`` (a WAV file, base64 in the arguments; the
web page's form sends it)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Protocol

from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError

MAX_UPLOAD_BASE64 = 70 * 1024 * 1024


class Prompts(Protocol):
    def list(self) -> list[dict[str, object]]: ...

    async def play(self, name: str, port: int, language: str) -> dict[str, Any]: ...

    def stop(self, port: int) -> dict[str, Any]: ...

    def status(self) -> dict[str, Any]: ...

    async def upload(self, name: str, data: bytes) -> dict[str, Any]: ...


class PromptSystem(Protocol):
    def prompts(self) -> Prompts:
        """The box's prompt cache and player (raises CommandError if it has none)."""
        ...


def register(table: CommandTable) -> None:
    @table.command("prompt.list", "the prompts the box can play: name, language, duration, "
                   "source", role="user")
    async def prompt_list(system: PromptSystem, args: Mapping[str, Any]) -> Any:
        return system.prompts().list()

    @table.command("prompt.play", "play a prompt into an off-hook handset (it does not ring)",
                   {"name": str, "port": int, "language": str}, ("name", "port"),
                   role="installer")
    async def prompt_play(system: PromptSystem, args: Mapping[str, Any]) -> Any:
        return await system.prompts().play(args["name"], args["port"],
                                           args.get("language") or "")

    @table.command("prompt.status", "prompts playing now, plays and ends so far, the cache",
                   role="user")
    async def prompt_status(system: PromptSystem, args: Mapping[str, Any]) -> Any:
        return system.prompts().status()

    @table.command("prompt.stop", "stop the prompt playing into a handset",
                   {"port": int}, ("port",), role="installer")
    async def prompt_stop(system: PromptSystem, args: Mapping[str, Any]) -> Any:
        return system.prompts().stop(args["port"])

    @table.command("prompt.upload", "store a WAV file as prompts/NAME (file:NAME in menus)",
                   {"name": str, "data": str}, ("name", "data"), role="admin")
    async def prompt_upload(system: PromptSystem, args: Mapping[str, Any]) -> Any:
        text = args["data"]
        if len(text) > MAX_UPLOAD_BASE64:
            raise CommandError(f"{args['name']}: too big to upload")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise CommandError(f"{args['name']}: the upload is not base64 data") from None
        return await system.prompts().upload(args["name"], data)
