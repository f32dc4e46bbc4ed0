"""What the command handlers may ask of the running system. The composition root
implements these protocols; front ends and handlers see nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from firmware.accounts import AccountStore
from firmware.config import Config


class SimControl(Protocol):
    """The test verbs of the simulated board (virtual handsets and PSTN lines)."""

    def phone_hook(self, port: int, action: str) -> dict[str, Any]: ...

    async def phone_dial(self, port: int, digits: str, pulse: bool) -> dict[str, Any]: ...

    def phone_play(self, port: int, pcm: bytes) -> dict[str, Any]: ...

    async def phone_record(self, port: int, seconds: float) -> bytes: ...

    def phone_status(self, port: int) -> dict[str, Any]: ...

    def phone_timing(self, port: int, since: float | None, level: int) -> dict[str, Any]: ...

    def line_ring(self, port: int, cid_number: str | None,
                  cid_name: str | None) -> dict[str, Any]: ...

    def line_hangup(self, port: int) -> dict[str, Any]: ...

    def line_play(self, port: int, pcm: bytes) -> dict[str, Any]: ...

    async def line_record(self, port: int, seconds: float) -> bytes: ...

    def line_status(self, port: int) -> dict[str, Any]: ...


class HwControl(Protocol):
    """Installer diagnostics on the board the box runs."""

    def ports(self) -> list[dict[str, Any]]: ...

    async def ring(self, port: int, seconds: float) -> dict[str, Any]: ...

    async def tone(self, port: int, which: str, seconds: float) -> dict[str, Any]: ...

    async def loopback(self, port: int) -> dict[str, Any]: ...

    def hook_events(self, port: int | None, since: int) -> dict[str, Any]: ...


class ConfigControl(Protocol):
    """The staged configuration (firmware/app/manager.py): one candidate over the running
    configuration, shared by every front end. Staging methods raise
    firmware.config.paths.PathError (lines "PATH: message", ``.fields`` for forms)."""

    def show(self, candidate: bool) -> Config:
        """The running configuration, or the candidate (secrets included: mask them)."""
        ...

    def set(self, path: str, value: str) -> dict[str, Any]:
        """Stage one setting -> {"path", "pending", "problems": [{"path","message"}]}."""
        ...

    def unset(self, path: str) -> dict[str, Any]: ...

    def add(self, table: str, values: Mapping[str, str]) -> dict[str, Any]:
        """Stage a new entry -> {"path": the new entry's PATH, "pending", "problems"}."""
        ...

    def delete(self, path: str) -> dict[str, Any]: ...

    def load(self, text: str, source: str) -> dict[str, Any]:
        """Stage a whole file (InvalidConfigError with file:line: key: messages)."""
        ...

    def diff(self) -> str:
        """Candidate against running, unified diff, passwords hidden ("" = no change)."""
        ...

    def pending(self) -> dict[str, Any]:
        """{"pending": bool, "problems": [...], "confirm_by": wall time | None,
        "confirm_version": int | None, "restart_needed": [PATH...], "version": int}"""
        ...

    async def commit(self, confirm_s: float | None, message: str,
                     user: str) -> dict[str, Any]:
        """-> {"version", "applied": [...], "restart_needed": [PATH...],
        "confirm_by": wall time | None}."""
        ...

    def confirm(self, user: str) -> dict[str, Any]: ...

    def discard(self) -> dict[str, Any]: ...

    def history(self) -> list[dict[str, Any]]:
        """[{"version", "time" (ISO 8601 UTC), "user", "message", "running": bool}]."""
        ...

    def rollback(self, version: int) -> dict[str, Any]:
        """Stage saved version N -> {"staged": N, "diff": str}."""
        ...

    def export(self) -> str:
        """The running configuration as TOML, passwords included."""
        ...

    async def restart(self, when_idle: bool, user: str) -> dict[str, Any]: ...


class SipGuardControl(Protocol):
    """The SIP guard's bans (firmware/sip/guard.py)."""

    def bans(self) -> list[dict[str, object]]:
        """[{"address", "reason", "ban" (its n-th), "for_s", "left_s", "dropped"}]."""
        ...

    def unban(self, address: str) -> dict[str, object] | None:
        """Lift the ban (and forget the history) -> the ban lifted, or None if none."""
        ...


class InformControl(Protocol):
    """The auto-informer's campaigns (firmware/app/informer.py)."""

    async def start(self, name: str, numbers: str,
                    options: Mapping[str, Any]) -> dict[str, Any]:
        """``options``: message, confirm_digit, attempts, retry_after ("2m"), parallel,
        window ("09:00-20:00"), caller_id; -> the campaign's summary. The message's prompts
        are built first; CommandError names one that cannot be."""
        ...

    def status(self, name: str) -> dict[str, Any]: ...

    def stop(self, name: str) -> dict[str, Any]: ...

    def report(self, name: str) -> dict[str, Any]:
        """The summary plus "targets": one dict per number."""
        ...

    def listing(self) -> list[dict[str, Any]]: ...


class CallbackControl(Protocol):
    """The web call-back (firmware/app/callback.py)."""

    def request(self, token: str, number: str, address: str) -> dict[str, Any]:
        """-> {"id", "state", "number", "message"}, or {"refused": {"code", "status",
        "message"}} (logged; nothing is dialled)."""
        ...

    def info(self) -> dict[str, Any]:
        """{"enabled": bool, "origins": [...]}: nothing secret."""
        ...

    def listing(self) -> list[dict[str, Any]]: ...


class System(Protocol):
    def status(self) -> dict[str, Any]: ...

    def hw(self) -> HwControl: ...

    def sim(self) -> SimControl:
        """The simulated board's verbs; raises CommandError on a real board."""
        ...

    def accounts(self) -> AccountStore:
        """The box's accounts (firmware.accounts), kept in the state dir."""
        ...

    def config(self) -> ConfigControl:
        """The candidate configuration, commit, history and restart."""
        ...

    async def register_trunk(self, name: str) -> dict[str, Any]:
        """Send trunk ``name``'s REGISTER now and wait (a while) for the answer:
        {"trunk", "answered": bool, "registration": the status dict}."""
        ...

    def sip_guard(self) -> SipGuardControl:
        """The SIP guard: bans given by the daemon, and lifting one."""
        ...

    def informer(self) -> InformControl:
        """The auto-informer's campaigns."""
        ...

    def callbacks(self) -> CallbackControl:
        """The web call-back's requests."""
        ...
