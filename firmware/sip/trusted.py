"""The addresses each trunk may call in from: its host, its outbound proxy, its allow list.

Host names are resolved when the trunks are (re)built; a provider whose addresses change
needs its networks in ``allow`` (the usual advice for SIP providers anyway). A name that
does not resolve is logged and contributes nothing: the trunk's own ``allow`` list still
counts.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable

from firmware.sip.admission import Network, parse_networks
from firmware.sip.trunks import TrunkSpec

log = logging.getLogger(__name__)

Resolve = Callable[[str], list[str]]


def resolve_host(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except OSError as exc:
        log.warning("trunk host %s does not resolve (%s): calls from it will be refused "
                    "unless its address is in the trunk's allow list", host, exc)
        return []
    return sorted({str(info[4][0]) for info in infos})


def proxy_host(uri: str) -> str:
    """``sip:proxy.example.net:5070;lr`` -> ``proxy.example.net``; ``[::1]`` -> ``::1``."""
    rest = uri.split(":", 1)[1] if uri.lower().startswith(("sip:", "sips:")) else uri
    return host_of(rest.split(";", 1)[0].split("@")[-1])


def host_of(hostport: str) -> str:
    """``127.0.0.1:5060`` -> ``127.0.0.1``; ``[2001:db8::1]:5060`` -> ``2001:db8::1``."""
    if hostport.startswith("["):
        return hostport[1:].split("]", 1)[0]
    return hostport.rsplit(":", 1)[0] if hostport.count(":") == 1 else hostport


def trunk_sources(specs: Iterable[TrunkSpec],
                  resolve: Resolve = resolve_host) -> dict[str, tuple[Network, ...]]:
    out: dict[str, tuple[Network, ...]] = {}
    for spec in specs:
        hosts = [spec.host] + ([proxy_host(spec.outbound_proxy)] if spec.outbound_proxy else [])
        nets: list[Network] = list(parse_networks(spec.allow))
        for host in hosts:
            try:
                nets.append(ipaddress.ip_network(host))
            except ValueError:
                nets.extend(ipaddress.ip_network(a) for a in resolve(host))
        out[spec.name] = tuple(dict.fromkeys(nets))
    return out
