"""The other offices of the organisation, as the dial plan sees them (docs/multisite.md).

Data only (the moves are in ``firmware.pbx.sites``): each :class:`SiteLink` is another
site, its numbers (a fixed-length digit map such as ``2xx``), the plan trunk that reaches
it (``hub`` when it is reached through the hub, ``site:NAME`` when directly) and the local
extension that rings when it cannot be reached. Every trunk named ``hub`` or ``site:...``
is a *link*: calls over it stay inside the organisation.

Rules the plan keeps here:

- A number of another site goes out through its link with class INTERNAL (no permission
  needed beyond a handset's own), showing the caller's extension number and name.
- A call that arrives over a link is routed by its called number (an extension, a group,
  a menu of this site) or, for a route of the other site with ``via``, out through this
  site's trunks and lines within ``transit`` (None: never). It never leaves through a link
  again (no loops between sites).
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.pbx.digitmap import DigitMap
from firmware.pbx.tollguard import Permission

HUB_TRUNK = "hub"
SITE_TRUNK_PREFIX = "site:"


def is_link(trunk: str | None) -> bool:
    """Whether the plan trunk ``trunk`` joins this site to another one."""
    return bool(trunk) and (trunk == HUB_TRUNK or str(trunk).startswith(SITE_TRUNK_PREFIX))


@dataclass(frozen=True)
class SiteLink:
    name: str
    numbers: DigitMap
    trunk: str  # "hub" or "site:NAME"
    fallback: str = ""  # a local extension number; "" = none


@dataclass(frozen=True)
class SiteLinks:
    """This site's name and the links to the others (empty: a single box)."""

    name: str = ""
    links: tuple[SiteLink, ...] = ()
    transit: Permission | None = None

    def link_for(self, number: str) -> SiteLink | None:
        """The site that ``number`` belongs to, if another site's."""
        return next((s for s in self.links if s.numbers.fullmatch(number)), None)

    def internal(self, trunks: tuple[str, ...], number: str) -> bool:
        """Whether a call to ``number`` through ``trunks`` is a call to another site's
        number over its link (class INTERNAL), not a call out."""
        link = self.link_for(number)
        return link is not None and bool(trunks) and trunks[0] == link.trunk
