"""Blind transfer: a leg in a connected call hands its partner to another number and goes.

Rules:

- Only a connected call transfers; the transferring leg leaves at once (a SIP leg is
  released, which sends BYE; a handset's own hang-up ends an analog transferrer).
- The partner is placed to the number as a new call, exactly as if it had dialled it, but
  with the *transferrer's* permission: an extension's (handset or IP phone) own class;
  anyone else (a trunk, a PSTN line) has none, so a transfer from outside can reach
  extensions, groups and menus but never leave the box again (``tollguard``). This is
  what keeps a REFER from a trunk from becoming a free call out.
- The new call shows the partner as its caller (its caller ID, or the extension it is),
  and its record says it was transferred; the old call's record says by whom and where.
"""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import Party, Release, Unbridge
from firmware.pbx.actions import Board, place, record
from firmware.pbx.calls import Call, Phase
from firmware.pbx.cdr import Disposition
from firmware.pbx.dispatch import ringback
from firmware.pbx.tollguard import Origin


def blind(board: Board, call: Call, leg: str, number: str, call_id: int, now: float) -> Call:
    """End ``call`` for ``leg`` and place its partner to ``number`` as call ``call_id``
    (returned; the exchange files it)."""
    partner = call.other(leg)
    assert partner is not None and call.b is not None
    if call.bridged:
        board.emit(Unbridge(call.a, call.b))
        call.bridged = False
    if not board.plan.is_fxs(leg):
        board.emit(Release(leg, Cause.NORMAL_CLEARING))
    call.gone.update({leg, partner})
    record(board, call, now, Disposition.ANSWERED, Cause.NORMAL_CLEARING,
           f"transferred by {leg} to {number}")
    return hand_over(board, partner, party_of(board, call, partner),
                     transferrer_origin(board, call, leg), leg, number, call_id, now)


def hand_over(board: Board, partner: str, party: Party, origin: Origin, transferrer: str,
              number: str, call_id: int, now: float, *, answered: bool = False) -> Call:
    """Place ``partner`` (showing as ``party``) to ``number`` as new call ``call_id``, with
    the transferrer's permission ``origin``; returned for the exchange to file.
    ``answered``: the box answered the partner long ago, so it hears ringback as a prompt
    while the number rings."""
    new = Call(call_id, partner, party, now, since=now)
    new.origin = origin
    new.a_up = answered
    new.digits = number
    new.path = [f"transfer:{transferrer}"]
    place(board, new, number, now)
    if answered and new.phase in (Phase.PROCEEDING, Phase.RINGING) and not new.bridged \
            and not new.playing and not board.plan.is_fxs(partner):
        ringback(board, new)  # the far end's ringing may never come as audio
    return new


def party_of(board: Board, call: Call, leg: str) -> Party:
    """Who ``leg`` of ``call`` is, as caller ID for the call it is transferred into."""
    if leg == call.a:
        return call.caller
    ext = board.plan.extension_on(leg)
    if ext is not None:
        return Party(ext.number, ext.name)
    return Party(call.called or None)


def transferrer_origin(board: Board, call: Call, leg: str) -> Origin:
    ext = board.plan.extension_on(leg)
    if ext is not None:
        return ext.origin()
    if leg == call.a and call.origin is not None:
        return call.origin
    return Origin("trunk", call.trunk or leg, None)
