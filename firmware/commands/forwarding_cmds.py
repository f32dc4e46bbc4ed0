"""Forwarding and do-not-disturb of a phone port's or an IP phone's extension:
forwarding.list, forwarding.show and forwarding.set (issue 11), for the web page's "My
phone" and the API.

Rules:
- The values are the ones star codes change (the app's LineFeatureStore, over the
  exchange's own): a star code's change shows here at once, and a change here is what the
  next call, the next dial tone (stutter while forward-always or do-not-disturb is on)
  and the next star code see. It is saved to features.json before the answer.
- Who may change which extension: an ``admin`` any phone port's or IP phone's
  (``[[sip_user]]``, shown with port None); anyone else (a ``user``, an ``installer``)
  only their own account's extension, and any other is refused with
  PermissionDeniedError (403 on the web). Without ``extension``, one's own.
- forwarding.set takes the settings as text, only those given change, and a change with
  any problem changes nothing (ForwardingError, each problem at its field; the checks are
  firmware/pbx/forwardcheck.py's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from firmware.commands.caller import current_caller
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError, PermissionDeniedError

SETTINGS = ("forward_always", "forward_busy", "forward_no_answer", "forward_after_s", "dnd",
            "call_waiting")


class LineFeatures(Protocol):
    """The app's LineFeatureStore (firmware/app/linefeatures.py), as commands use it."""

    def view(self, extension: str) -> dict[str, Any]: ...

    def change(self, extension: str, submitted: Mapping[str, str]) -> dict[str, Any]: ...


def _store(system: Any) -> LineFeatures:
    store = getattr(system, "line_features", None)
    if store is None:
        raise CommandError("forwarding is not running on this box")
    return store  # type: ignore[no-any-return]


def scope(asked: str | None) -> str:
    """The extension the caller may see and change (asked, or their own)."""
    caller = current_caller()
    if caller.role == "admin" and asked:
        return asked
    own = caller.extension
    if not own:
        raise PermissionDeniedError(
            f"{caller.name} has no extension, so no forwarding of its own: an admin can give "
            "the account one (user add NAME --role user --extension N)")
    if asked and asked != own:
        raise PermissionDeniedError(
            f"only an admin may change extension {asked}'s forwarding; yours is {own}")
    return own


def _ports(system: Any) -> dict[str, int | None]:
    """Extension -> the phone port it rings (None: an IP phone's extension)."""
    config = system.config().show(False)
    ports: dict[str, int | None] = {p.extension: p.port for p in config.fxs}
    ports.update((u.extension, None) for u in config.sip_user)
    return ports


def register(table: CommandTable) -> None:
    @table.command("forwarding.show", "forwarding, do-not-disturb and call waiting of your "
                   "phone (any phone port's or IP phone's as admin), now and as configured",
                   {"extension": str}, role="user")
    async def forwarding_show(system: Any, args: Mapping[str, Any]) -> Any:
        ext = scope(args.get("extension"))
        return dict(_store(system).view(ext), port=_ports(system).get(ext))

    @table.command("forwarding.list", "every phone port's and IP phone's forwarding and "
                   "do-not-disturb", role="admin")
    async def forwarding_list(system: Any, args: Mapping[str, Any]) -> Any:
        store = _store(system)
        # The phone ports in port order, then the IP phones by extension.
        order = sorted(_ports(system).items(),
                       key=lambda e: (e[1] is None, e[1] or 0, e[0]))
        return [dict(store.view(ext), port=port) for ext, port in order]

    @table.command("forwarding.set", "change forwarding (a number, \"\" = off), "
                   "forward_after_s, dnd or call_waiting (on/off) of your phone (any as "
                   "admin); it runs at once, like the star codes",
                   {"extension": str, **{k: str for k in SETTINGS}}, role="user")
    async def forwarding_set(system: Any, args: Mapping[str, Any]) -> Any:
        ext = scope(args.get("extension"))
        submitted = {k: v for k, v in args.items() if k in SETTINGS}
        if not submitted:
            raise CommandError(f"forwarding.set: give one or more of {', '.join(SETTINGS)}")
        return dict(_store(system).change(ext, submitted), port=_ports(system).get(ext))
