"""Transfers handed to SIP peers by REFER (RFC 3515; the flows of RFC 5589), for the
exchange's hook-flash transfers (firmware/pbx/referral.py): whether a peer may be asked,
and the asking. How it ends comes back through ``SipCall.onCallTransferStatus``.

Who may be asked to call whom (``why_not`` says why not):

- Both are calls through trunks, and through the same trunk. A peer reached through a
  provider can reach another number through that provider; a peer of another trunk may
  not know the way there, or may not be let in. IP phones' calls end at the box's own
  registrar, so they are never referred from here.
- That trunk's ``refer`` setting is on (the default; off for a provider that takes REFER
  and then fails it).
- The held party's peer listed REFER in an Allow header (RFC 3261 §20.5) of its INVITE or
  of its answers to ours. A peer that listed nothing is not asked.
- The held call is answered (a REFER travels in a confirmed dialog). With Replaces the
  target's call is answered too, since Replaces names a confirmed dialog; without, it is
  a call we placed (its Request-URI is where the peer is sent).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pjsua2 as pj

from firmware.sip.calls import SipCall
from firmware.sip.trunks import TrunkSpec

log = logging.getLogger(__name__)


def why_not(held: SipCall | None, target: SipCall | None, trunks: Mapping[str, TrunkSpec],
            replaces: bool) -> str | None:
    """Why ``held``'s peer may not be referred to ``target``; None when it may."""
    if held is None or target is None:
        return "not a SIP call"
    if held.trunk is None or target.trunk is None:
        return "not a trunk call"
    if held.trunk != target.trunk:
        return f"different trunks ({held.trunk}, {target.trunk})"
    spec = trunks.get(held.trunk)
    if spec is None or not spec.refer:
        return f"trunk {held.trunk} has refer off"
    if "REFER" not in held.peer_allows:
        return "the peer did not list REFER in Allow"
    if held.state != "connected":
        return "the held call is not answered"
    if replaces and target.state != "connected":
        return "the target's call is not answered"
    if not replaces and not (target.outgoing and target.target_uri):
        return "the target's call was not placed by the box"
    return None


def send_refer(held: SipCall, target: SipCall, replaces: bool) -> None:
    """Send REFER on ``held``: with Replaces of the box's dialog with ``target``, or to the
    URI the box had called ``target`` at. Raises what pjsua2 raises."""
    prm = pj.CallOpParam(True)
    held.referring = True
    try:
        if replaces:
            held.xferReplaces(target, prm)
        else:
            held.xfer(target.target_uri, prm)
    except Exception:
        held.referring = False
        raise
    log.info("%s: REFER sent (%s %s)", held.leg, "Replaces of" if replaces else "to",
             target.leg if replaces else target.target_uri)
