"""From ``[site]``, ``[hub]`` and ``[[peer_site]]`` to trunks, routes and links
(docs/multisite.md). Construction only.

- With a hub: one registering trunk ``hub`` (user = the site name, digest auth), which
  carries calls to every site reached through the hub; and per such site a trunk
  ``site:NAME`` to the same hub that does not register, whose calls carry ``;site=NAME``
  in the Request-URI so the hub sends them to that site whatever the number (``via``).
- A peer site with a host: one trunk ``site:NAME`` straight to its box.
- Per peer site, a route for its prefix through its link (``hub`` or ``site:NAME``), and
  per ``[hub] shared`` number a route to the hub, put before the configured routes (a
  number this site serves itself, an extension or group, is resolved before any route).
"""

from __future__ import annotations

from dataclasses import replace

from firmware.config import Config
from firmware.pbx.digitmap import DigitMap
from firmware.pbx.plan import OutboundRoute
from firmware.pbx.sitelinks import HUB_TRUNK, SITE_TRUNK_PREFIX, SiteLink, SiteLinks
from firmware.pbx.tollguard import Permission
from firmware.sip.trunks import TrunkSpec


def site_trunks(config: Config) -> list[TrunkSpec]:
    hub, me = config.hub, config.site.name
    out: list[TrunkSpec] = []
    # Every trunk to the hub: the same server and credentials (digest per site).
    to_hub = TrunkSpec(name=HUB_TRUNK, host=hub.host, port=hub.port, transport=hub.transport,
                       username=hub.username or me, password=hub.password, realm=hub.realm,
                       caller_id=hub.username or me)
    if hub.host:
        out.append(replace(to_hub, register=True, expires_s=hub.register_expires_s))
    for peer in config.peer_site:
        name = SITE_TRUNK_PREFIX + peer.name
        if peer.host:
            out.append(TrunkSpec(name=name, host=peer.host, port=peer.port,
                                 transport=peer.transport, register=False, caller_id=me))
        elif hub.host:
            out.append(replace(to_hub, name=name, uri_params=f";site={peer.name}"))
    return out


def link_trunk(config: Config, peer_host: str, peer_name: str) -> str:
    return SITE_TRUNK_PREFIX + peer_name if peer_host or not config.hub.host else HUB_TRUNK


def site_links(config: Config) -> SiteLinks:
    links = tuple(SiteLink(p.name, DigitMap.parse(p.prefix), link_trunk(config, p.host, p.name),
                           p.fallback)
                  for p in config.peer_site)
    if config.hub.host:  # numbers several sites serve: the hub picks one
        links += tuple(SiteLink(f"shared {n}", DigitMap.parse(n), HUB_TRUNK)
                       for n in config.hub.shared)
    transit = Permission.parse(config.site.transit)
    return SiteLinks(config.site.name, links,
                     None if transit is Permission.INTERNAL else transit)


def site_routes(config: Config) -> tuple[OutboundRoute, ...]:
    routes = tuple(OutboundRoute(DigitMap.parse(p.prefix), link_trunk(config, p.host, p.name))
                   for p in config.peer_site)
    if config.hub.host:
        routes += tuple(OutboundRoute(DigitMap.parse(n), HUB_TRUNK) for n in config.hub.shared)
    return routes
