"""Calls between sites: what arrives over a link, and what happens when a site is away.

Rules (the data and its rules are in ``sitelinks``):

- A call arriving over a link (``from_site``) is routed by its called number: an
  extension of this site rings (busy: USER_BUSY back to the other site); a group or menu
  of this site takes it (the office's ``dispatch``); a number an outbound route of this
  site matches leaves through that route's trunks and lines, links left out, with the
  origin ``site NAME`` and this site's ``transit`` permission (the other site's route said
  ``via = "site:THIS"``); anything else: UNALLOCATED_NUMBER (404 to the hub).
- A call to another site's number that fails for the way (the hub says the site is offline
  with 503, no answer in time, the hub's registration is down) rings the link's fallback
  extension when one is configured (``fall_back``); otherwise the usual congestion tone.
"""

from __future__ import annotations

import logging

from firmware.core.causes import Cause
from firmware.core.events import Alerting, Setup, Tone
from firmware.pbx.actions import Board, leave, offer
from firmware.pbx.calls import Call, Phase, Timer
from firmware.pbx.destinations import Destination
from firmware.pbx.dispatch import send_to
from firmware.pbx.plan import ToExtension, ToGroup, ToMenu, ToTrunk
from firmware.pbx.sitelinks import is_link
from firmware.pbx.tollguard import Origin, tries_next_trunk

logger = logging.getLogger(__name__)


def from_site(board: Board, call: Call, link: str, now: float) -> None:
    """``call`` arrived over the link trunk ``link`` for ``call.called``."""
    plan = board.plan
    number = call.called
    target = plan.resolve(number)
    if isinstance(target, ToExtension):
        offer(board, call, target.extension, now)
        return
    if isinstance(target, ToTrunk):
        trunks = tuple(t for t in target.route.trunks if not is_link(t))
        if trunks:
            call.origin = Origin("trunk", f"site via {link}", plan.sites.transit)
            leave(board, call, call.origin, trunks, target.number, now)
            return
    elif isinstance(target, ToGroup):
        send_to(board, call, Destination("group", target.group.name), now)
        return
    elif isinstance(target, ToMenu):
        send_to(board, call, Destination("menu", target.menu.name), now)
        return
    logger.info("call %d from %s: no extension, group or route for %r here", call.call_id,
                link, number)
    offer(board, call, None, now)


def fall_back(board: Board, call: Call, cause: Cause, now: float) -> bool:
    """The call to another site failed before answer with ``cause``: ring the link's
    fallback extension if there is one and it is free; True when it rings."""
    if not is_link(call.trunk) or not tries_next_trunk(cause):
        return False
    link = board.plan.sites.link_for(call.called)
    if link is None or not link.fallback:
        return False
    ext = board.plan.extension(link.fallback)
    if ext is None or ext.leg == call.a or board.leg_state(ext.leg) != "idle":
        return False
    logger.info("call %d: site %s unreachable (%s): ringing fallback %s", call.call_id,
                link.name, cause.name, ext.number)
    if call.b is not None:
        call.former.append(call.b)
    call.tried.append(f"site {link.name}: {cause.name}")
    call.trunk = None
    call.b = ext.leg
    board.emit(Setup(ext.leg, call.called, call.caller))
    board.emit(Tone(call.a, "ringback") if board.plan.is_fxs(call.a) else Alerting(call.a))
    call.enter(Phase.RINGING, now)
    call.arm(Timer.NO_ANSWER, now + board.plan.timers.no_answer_s)
    return True
