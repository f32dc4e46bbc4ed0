"""Calls between sites in the routing core: another site's number, calls arriving over a
link, transit through this site's trunk (via), and the fallback when a site is away."""

from __future__ import annotations

from dataclasses import replace

from firmware.core.causes import Cause
from firmware.core.events import Alerting, Party, Release, Seize, Setup, Tone
from firmware.pbx.digitmap import DigitMap
from firmware.pbx.plan import Extension, OutboundRoute, Trunk
from firmware.pbx.sitelinks import SiteLink, SiteLinks
from firmware.pbx.tollguard import Permission
from tests.pbx.office import Driver, office_plan


def plan(transit: Permission | None = None, fallback: str = "") -> Driver:
    links = SiteLinks("office1", (
        SiteLink("office2", DigitMap.parse("2xx"), "hub", fallback),
        SiteLink("office3", DigitMap.parse("3xx"), "site:office3"),
    ), transit)
    return Driver(office_plan(
        trunks=(Trunk("itsp"), Trunk("hub"), Trunk("site:office2"), Trunk("site:office3")),
        outbound=(OutboundRoute(DigitMap.parse("2xx"), "hub"),
                  OutboundRoute(DigitMap.parse("3xx"), "site:office3"),
                  OutboundRoute("9", ("site:office2", "itsp"), strip=1)),
        sites=links))


def test_another_sites_number_goes_over_its_link_with_the_extension_as_caller_id() -> None:
    drv = plan()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "201")
    setup = next(o for o in out if isinstance(o, Setup))
    # Alice is an internal handset (permission national, no outside number): the other
    # site still sees her extension number and name.
    assert (setup.called, setup.trunk, setup.caller) == ("201", "hub", Party("101", "Alice"))


def test_internal_permission_is_enough_for_another_site() -> None:
    drv = plan()
    drv.pbx.replace_plan(replace(drv.pbx.plan, extensions=(
        Extension("101", "fxs1", "Alice", permission=Permission.INTERNAL),
        *drv.pbx.plan.extensions[1:])))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "305")
    assert any(isinstance(o, Setup) and o.trunk == "site:office3" for o in out), out


def test_a_call_over_a_link_rings_the_extension_it_names() -> None:
    drv = plan()
    out = drv.send(Setup("sip1", "103", Party("201", "Dora"), trunk="hub"))
    assert Setup("fxs3", "103", Party("201", "Dora")) in out
    assert Alerting("sip1") in out


def test_a_call_over_a_link_for_an_unknown_number_is_unallocated() -> None:
    out = plan().send(Setup("sip1", "150", Party("201", "Dora"), trunk="hub"))
    assert Release("sip1", Cause.UNALLOCATED_NUMBER) in out


def test_transit_leaves_through_this_sites_trunk_only_when_allowed() -> None:
    refused = plan().send(Setup("sip1", "95551234", Party("201", "Dora"), trunk="hub"))
    assert Release("sip1", Cause.OUTGOING_CALL_BARRED) in refused
    drv = plan(transit=Permission.NATIONAL)
    out = drv.send(Setup("sip1", "95551234", Party("201", "Dora"), trunk="hub"))
    setup = next(o for o in out if isinstance(o, Setup))
    # The route says site:office2 first: a call that came over a link never goes back.
    assert (setup.called, setup.trunk) == ("5551234", "itsp")


def test_a_site_away_rings_the_fallback_else_congestion() -> None:
    drv = plan(fallback="103")
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "201")
    leg = next(o for o in out if isinstance(o, Setup)).leg
    out = drv.send(Release(leg, Cause.NO_CIRCUIT_AVAILABLE))  # the hub: 503 Site Offline
    assert Setup("fxs3", "201", Party("101", "Alice")) in out
    assert Tone("fxs1", "ringback") in out

    drv = plan()
    drv.send(Seize("fxs1"))
    leg = next(o for o in drv.dial("fxs1", "201") if isinstance(o, Setup)).leg
    assert Tone("fxs1", "congestion") in drv.send(Release(leg, Cause.NO_CIRCUIT_AVAILABLE))


def test_via_a_site_that_is_away_takes_the_routes_next_trunk() -> None:
    drv = plan()
    drv.pbx.replace_plan(replace(drv.pbx.plan, extensions=(
        Extension("101", "fxs1", "Alice", permission=Permission.NATIONAL),
        *drv.pbx.plan.extensions[1:])))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "95551234") + drv.advance(5)  # the interdigit timer ends it
    first = next(o for o in out if isinstance(o, Setup))
    assert (first.trunk, first.called) == ("site:office2", "5551234")
    out = drv.send(Release(first.leg, Cause.NO_CIRCUIT_AVAILABLE))  # 503 Site Offline
    second = next(o for o in out if isinstance(o, Setup))
    assert (second.trunk, second.called) == ("itsp", "5551234")
