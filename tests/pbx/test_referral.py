"""Hook-flash transfers handed to a SIP peer by REFER (firmware/pbx/referral.py), with the
fake-clock driver: attended (Replaces) and blind, success, refusal, silence, a peer that
hangs up first, and peers that cannot be referred."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Flash,
    Hold,
    Party,
    Play,
    Refer,
    Referred,
    Release,
    Seize,
    Setup,
)
from firmware.pbx.calls import PbxOutput
from firmware.pbx.referral import REFER_WAIT_S

from .office import Driver, office_plan

CALLER = "sip1"  # an outside caller through trunk itsp, answered by Alice (fxs1)


@pytest.fixture
def drv() -> Iterator[Driver]:
    driver = Driver(office_plan())
    asked: list[tuple[str, str]] = []
    driver.pbx.set_refer_check(lambda a, b: asked.append((a, b)) is None)
    driver.asked = asked  # type: ignore[attr-defined]
    yield driver


def consult(drv: Driver) -> str:
    """The caller talks to Alice, who holds it and dials 9 5552222 out: the third's leg."""
    drv.send(Setup(CALLER, "5550100", Party("5557777"), trunk="itsp"))
    drv.send(Seize("fxs1"))
    out = drv.send(Flash("fxs1"))
    assert Hold(CALLER, True) in out
    out = drv.dial("fxs1", "95552222#")
    third = next(o for o in out if isinstance(o, Setup))
    assert third.trunk == "itsp" and third.called == "5552222", third
    return third.leg


def referred_calls(out: list[PbxOutput]) -> list[Refer]:
    return [o for o in out if isinstance(o, Refer)]


def test_attended_transfer_is_bridged_then_handed_over(drv: Driver) -> None:
    third = consult(drv)
    drv.send(Answer(third))  # Alice talks to the third
    out = drv.send(Release("fxs1"))  # and hangs up: attended transfer
    assert Bridge(CALLER, third) in out or Bridge(third, CALLER) in out, "bridged meanwhile"
    assert Hold(CALLER, False) not in out, "held while the REFER goes (RFC 5589)"
    assert referred_calls(out) == [Refer(CALLER, third, replaces=True)]
    assert drv.asked == [(CALLER, third)]  # type: ignore[attr-defined]
    out = drv.send(Referred(CALLER, ok=True, status=200))
    assert Release(CALLER) in out and Release(third) in out
    assert drv.pbx.calls() == []
    reasons = [r.reason for r in drv.pbx.take_records()]
    assert any("handed over by REFER (Replaces)" in r for r in reasons), reasons


def test_attended_transfer_stays_bridged_when_the_peer_refuses(drv: Driver) -> None:
    third = consult(drv)
    drv.send(Answer(third))
    drv.send(Release("fxs1"))
    out = drv.send(Referred(CALLER, ok=False, status=603))
    assert not any(isinstance(o, Release) for o in out)
    assert Hold(CALLER, False) in out, "off hold: the box bridges them"
    assert [(c.caller, c.callee, c.state) for c in drv.pbx.calls()] == [
        (CALLER, third, "connected")]
    out = drv.send(Release(third))  # the two talk through the box until one hangs up
    assert Release(CALLER) in out


def test_blind_transfer_gives_up_the_ringing_call_and_refers(drv: Driver) -> None:
    third = consult(drv)
    drv.send(Alerting(third))
    out = drv.send(Release("fxs1"))  # Alice hangs up while the third rings
    assert referred_calls(out) == [Refer(CALLER, third, replaces=False)]
    assert out.index(referred_calls(out)[0]) < out.index(Release(third)), \
        "the REFER names the third before its call is cancelled"
    assert [(c.caller, c.state) for c in drv.pbx.calls()] == [(CALLER, "referring")]
    assert drv.pbx.leg_state("fxs1") == "idle"
    out = drv.send(Referred(CALLER, ok=True, status=200))
    assert Release(CALLER) in out and drv.pbx.calls() == []
    reasons = [r.reason for r in drv.pbx.take_records()]
    assert any("transferred by REFER to 95552222" in r for r in reasons), reasons


@pytest.mark.parametrize("how", ["refused", "silent"])
def test_blind_transfer_falls_back_to_the_box(drv: Driver, how: str) -> None:
    third = consult(drv)
    drv.send(Alerting(third))
    drv.send(Release("fxs1"))
    if how == "refused":
        out = drv.send(Referred(CALLER, ok=False, status=405))
    else:
        assert not drv.advance(REFER_WAIT_S - 1)
        out = drv.advance(2)
    assert Hold(CALLER, False) in out
    again = [o for o in out if isinstance(o, Setup)]
    assert len(again) == 1 and again[0].called == "5552222" and again[0].trunk == "itsp"
    assert again[0].caller.number == "5557777", "the transferred caller shows"
    assert Play(CALLER, ("builtin:ringback",), loop=True) in out
    out = drv.send(Answer(again[0].leg))
    assert Bridge(CALLER, again[0].leg) in out or Bridge(again[0].leg, CALLER) in out
    reasons = [r.reason for r in drv.pbx.take_records()]
    assert any("REFER failed" in r for r in reasons), reasons


def test_the_peer_hanging_up_while_referring_ends_it(drv: Driver) -> None:
    third = consult(drv)
    drv.send(Alerting(third))
    drv.send(Release("fxs1"))
    out = drv.send(Release(CALLER))
    assert not any(isinstance(o, Setup) for o in out) and drv.pbx.calls() == []
    assert not drv.advance(REFER_WAIT_S + 1), "no fallback after the call ended"
    assert not drv.send(Referred(CALLER, ok=True, status=200))  # late NOTIFY: nothing


def test_no_refer_where_the_sip_layer_says_no(drv: Driver) -> None:
    drv.pbx.set_refer_check(lambda a, b: False)
    third = consult(drv)
    drv.send(Alerting(third))
    out = drv.send(Release("fxs1"))
    assert not referred_calls(out) and Release(third) not in out
    assert Play(CALLER, ("builtin:ringback",), loop=True) in out, "the box bridges it"


def test_handsets_are_never_referred(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")
    drv.send(Seize("fxs2"))
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))
    out = drv.send(Release("fxs1"))
    assert not referred_calls(out)
    assert drv.asked == [], "lines are not even asked about"  # type: ignore[attr-defined]
