"""Blind transfer (firmware/pbx/transfer.py): the partner is placed anew with the
transferrer's permission; a transfer from outside never leaves the box again."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import (
    Answer,
    Bridge,
    Party,
    Release,
    Setup,
    Tone,
    Transfer,
    Unbridge,
)
from firmware.pbx.cdr import Disposition

from .office import Driver

CALLER = Party("5557777", "Dave")


def test_a_trunk_caller_is_transferred_to_another_extension(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", CALLER, trunk="itsp"))  # rings Alice (101)
    drv.send(Answer("fxs1"))
    # Alice is a handset: it cannot REFER, but a SIP leg can transfer its partner...
    # here the trunk leg hands Alice to Carol (103).
    out = drv.send(Transfer("sip1", "103"))
    assert Unbridge("sip1", "fxs1") in out or Unbridge("fxs1", "sip1") in out
    assert Release("sip1", Cause.NORMAL_CLEARING) in out
    ring = [o for o in out if isinstance(o, Setup)]
    assert [(o.leg, o.called) for o in ring] == [("fxs3", "103")]
    assert Tone("fxs1", "ringback") in out  # the transferred handset hears ringback
    out = drv.send(Answer("fxs3"))
    assert Bridge("fxs1", "fxs3") in out
    records = drv.pbx.take_records()
    assert records[0].disposition is Disposition.ANSWERED
    assert "transferred by sip1 to 103" in records[0].reason


def test_a_transfer_from_outside_cannot_leave_the_box(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", CALLER, trunk="itsp"))
    drv.send(Answer("fxs1"))
    out = drv.send(Transfer("sip1", "9900123456"))  # a trunk number: refused
    assert not any(isinstance(o, Setup) for o in out), out
    assert Tone("fxs1", "congestion") in out
    denied = [r for r in drv.pbx.take_records() if r.disposition is Disposition.DENIED]
    assert denied, "the refused transfer leaves a DENIED record"


def test_a_phone_transfers_with_its_own_permission(drv: Driver) -> None:
    """An extension transferring a trunk caller out uses the extension's class."""
    drv.send(Setup("sip1", "5550100", CALLER, trunk="itsp"))
    drv.send(Answer("fxs1"))
    out = drv.send(Transfer("fxs1", "95551234"))
    assert not any(isinstance(o, Release) and o.leg == "fxs1" for o in out), \
        "an analog transferrer is never sent Release (its own hang-up ends it)"
    placed = [o for o in out if isinstance(o, Setup)]
    assert [(o.leg[:3], o.called, o.trunk) for o in placed] == [("out", "5551234", "itsp")]
    assert placed[0].caller.number == "5557777"


def test_transfer_outside_a_connected_call_is_ignored(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", CALLER, trunk="itsp"))  # ringing, not answered
    assert drv.send(Transfer("sip1", "103")) == []
    assert drv.send(Transfer("nobody", "103")) == []
