"""SIP guard commands: ``sip.bans`` lists the addresses the box ignores for now,
``sip.unban`` lifts one (and forgets its history, so its next ban starts short again).

Bans are given by the daemon itself (firmware/sip/guard.py: a scanner's User-Agent, too
many requests a second, too many failed authentications); trunk addresses are never banned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError, NotFoundError


def register(table: CommandTable) -> None:
    @table.command("sip.bans", "addresses whose SIP requests are dropped for now, and why",
                   role="installer")
    async def sip_bans(system: System, args: Mapping[str, Any]) -> Any:
        return system.sip_guard().bans()

    @table.command("sip.unban", "lift an address's SIP ban (and forget its earlier bans)",
                   {"address": str}, ("address",), role="installer")
    async def sip_unban(system: System, args: Mapping[str, Any]) -> Any:
        address = str(args["address"]).strip()
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise CommandError(f"{address!r} is not an IP address (like 203.0.113.5); "
                               "`minipbx sip bans` lists the banned ones") from None
        lifted = system.sip_guard().unban(address)
        if lifted is None:
            raise NotFoundError(f"{address} is not banned; `minipbx sip bans` lists the "
                                "banned addresses")
        return lifted
