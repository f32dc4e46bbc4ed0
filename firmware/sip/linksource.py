"""Which trunk an incoming call came over, for the dial plan (``Setup.trunk``).

Several trunks may share an address (a hub and a provider on one host, every peer on
127.0.0.1 in the tests), so the source port decides first: the trunk whose addresses hold
the source and whose port is the source port. Otherwise the first trunk whose addresses
hold it (TCP and TLS peers connect from passing ports), as the admission decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from firmware.sip.admission import Network
from firmware.sip.trunks import TrunkSpec
from firmware.sip.trusted import host_of


def port_of(source: str) -> int | None:
    """``127.0.0.1:5060`` -> 5060; ``[::1]:5060`` -> 5060; no port -> None."""
    tail = source.rsplit("]", 1)[-1] if source.startswith("[") else source
    if tail.count(":") != 1:
        return None
    text = tail.rsplit(":", 1)[1]
    return int(text) if text.isdigit() else None


def source_trunk(specs: Iterable[TrunkSpec], sources: Mapping[str, Iterable[Network]],
                 source: str) -> str | None:
    """The trunk ``source`` (``host:port`` as pjsip reports it) belongs to, or None."""
    try:
        ip = ipaddress.ip_address(host_of(source))
    except ValueError:
        return None
    port = port_of(source)
    holding = [spec for spec in specs
               if any(ip.version == n.version and ip in n for n in sources.get(spec.name, ()))]
    exact = [spec.name for spec in holding if spec.port == port]
    if exact:
        return exact[0]
    return holding[0].name if holding else None
