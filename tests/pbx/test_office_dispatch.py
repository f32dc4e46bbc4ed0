"""Destinations other than groups and menus: announce, voicemail (not there yet), hangup,
and dial: with its toll-guard grant for calls from outside."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import Answer, Play, PlayDone, Release, Seize, Setup, Tone
from firmware.pbx.cdr import Disposition
from firmware.pbx.tollguard import NumberingPlan

from .office_support import call_in, driver, setups

# US-like classes: 011 international, 1900 premium, 1 national.
US = NumberingPlan(country_code="1", trunk_prefix="1", international=("011",),
                   premium=("1900",), national=("1",), emergency=("911",))


def test_announce_answers_plays_and_hangs_up() -> None:
    drv = driver(inbound_to="announce:closed")
    assert call_in(drv) == [Answer("sip1"), Play("sip1", ("builtin:closed",))]
    assert drv.send(PlayDone("sip1")) == [Release("sip1", Cause.NORMAL_CLEARING)]
    record = drv.pbx.records[-1]
    assert record.disposition is Disposition.ANSWERED and record.path == ("announce:closed",)


def test_voicemail_of_an_extension_without_mailbox_is_busy() -> None:
    drv = driver(inbound_to="voicemail:102")  # 102 has no voicemail = true
    assert call_in(drv) == [Release("sip1", Cause.USER_BUSY)]
    assert "has no mailbox" in drv.pbx.records[-1].reason


def test_hangup() -> None:
    drv = driver(inbound_to="hangup")
    assert call_in(drv) == [Release("sip1", Cause.NORMAL_CLEARING)]


def test_dial_from_outside_gets_the_national_grant() -> None:
    drv = driver(inbound_to="dial:915551234567", numbering=US)
    out = call_in(drv)
    setup = next(o for o in out if isinstance(o, Setup))
    assert setup.called == "15551234567" and setup.trunk == "itsp"
    assert drv.pbx.leg_state("sip1") == "calling"


def test_dial_from_outside_may_not_go_abroad() -> None:
    drv = driver(inbound_to="dial:9011441234567", numbering=US)
    assert call_in(drv) == [Release("sip1", Cause.OUTGOING_CALL_BARRED)]
    record = drv.pbx.records[-1]
    assert record.disposition is Disposition.DENIED and "international" in record.reason


def test_dial_to_an_extension_or_a_group_number() -> None:
    drv = driver(inbound_to="dial:600")
    assert setups(call_in(drv)) == ["fxs2", "fxs3", "fxs4"]
    drv.send(Release("sip1"))
    assert drv.pbx.records[-1].path == ("group:sales",)


def test_a_handset_calling_a_group_nobody_answers_hears_congestion() -> None:
    drv = driver()
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "600")  # group sales: ringall for total_s 60 s, no overflow
    out = drv.advance(60)
    assert Tone("fxs1", "congestion") in out


def test_a_route_to_an_extension_rings_it_as_extension_does() -> None:
    drv = driver(inbound_to="ext:103")
    out = call_in(drv)
    assert setups(out) == ["fxs3"]
    drv.send(Release("sip1"))
    assert drv.pbx.records[-1].path == ()  # a plain route leaves no path, as before
