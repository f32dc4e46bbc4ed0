"""Hook-flash services (firmware/pbx/flashcalls.py): call waiting, hold, swap, recall,
three-way calls, attended and blind transfer, with the fake-clock driver."""

from __future__ import annotations

import random

import pytest

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    Flash,
    Hold,
    Party,
    Play,
    Release,
    Seize,
    Setup,
    Tone,
    Unbridge,
)
from firmware.pbx.calls import PbxOutput
from firmware.pbx.features import LineFeatures

from .office import Driver, office_plan

MUSIC = Play("fxs2", ("builtin:music",), loop=True)


def bridged(out: list[PbxOutput], a: str, b: str) -> bool:
    return Bridge(a, b) in out or Bridge(b, a) in out


def unbridged(out: list[PbxOutput], a: str, b: str) -> bool:
    return Unbridge(a, b) in out or Unbridge(b, a) in out


def waiting_tone(out: list[PbxOutput]) -> bool:
    return any(isinstance(o, Tone) and o.tone == "callwaiting" for o in out)


def talk(drv: Driver, caller: str, number: str, callee: str) -> None:
    drv.send(Seize(caller))
    drv.dial(caller, number)
    out = drv.send(Seize(callee))
    assert bridged(out, caller, callee), out


def test_second_call_waits_and_flash_answers_it_then_swaps(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")  # Alice talks to Bob
    drv.send(Seize("fxs3"))
    out = drv.dial("fxs3", "101")  # Carol calls Alice
    assert Tone("fxs1", "callwaiting", caller=Party("103", "Carol")) in out  # + type II
    assert Tone("fxs3", "ringback") in out
    assert not any(isinstance(o, Setup) for o in out), "no ringing: Alice is off-hook"
    assert drv.pbx.leg_state("fxs1") == "connected"
    out = drv.send(Flash("fxs1"))  # answer Carol, Bob on hold
    assert unbridged(out, "fxs1", "fxs2") and MUSIC in out
    assert bridged(out, "fxs1", "fxs3") and Tone("fxs3", None) in out
    out = drv.send(Flash("fxs1"))  # swap: back to Bob, Carol on hold
    assert unbridged(out, "fxs1", "fxs3")
    assert Play("fxs3", ("builtin:music",), loop=True) in out
    assert Play("fxs2", ()) in out and bridged(out, "fxs1", "fxs2")
    states = sorted(c.state for c in drv.pbx.calls())
    assert states == ["connected", "on hold"]


def test_no_call_waiting_when_switched_off_or_star70(drv: Driver) -> None:
    drv.pbx.set_features({"101": LineFeatures(call_waiting=False)})
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Seize("fxs3"))
    assert Tone("fxs3", "busy") in drv.dial("fxs3", "101")
    drv2 = Driver(drv.pbx.plan)
    drv2.send(Seize("fxs1"))
    drv2.dial("fxs1", "*70102#")  # this call is not to be interrupted
    drv2.send(Seize("fxs2"))
    drv2.send(Seize("fxs3"))
    out = drv2.dial("fxs3", "101")
    assert Tone("fxs3", "busy") in out and not waiting_tone(out)


def test_a_sip_caller_waits_and_is_answered_by_flash(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    out = drv.send(Setup("sip1", "5550100", Party("5557777"), trunk="itsp"))
    assert waiting_tone(out) and Alerting("sip1") in out
    out = drv.send(Flash("fxs1"))
    assert Answer("sip1") in out and bridged(out, "fxs1", "sip1")


def test_waiting_caller_gives_up(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "101")
    drv.send(Release("fxs3"))
    out = drv.send(Flash("fxs1"))  # nothing aside any more: hold Bob, recall dial tone
    assert Tone("fxs1", "stutter") in out and MUSIC in out


def test_hanging_up_with_a_waiting_call_rings_back(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "101")
    out = drv.send(Release("fxs1"))  # Alice ends with Bob: Carol's call now rings
    assert Tone("fxs2", "busy") in out
    assert Setup("fxs1", "101", Party("103", "Carol")) in out
    out = drv.send(Seize("fxs1"))
    assert bridged(out, "fxs1", "fxs3")


def test_hanging_up_with_a_party_on_hold_recalls(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "101")
    drv.send(Flash("fxs1"))  # Carol answered, Bob held
    out = drv.send(Release("fxs1"))  # Alice hangs up on Carol: Bob is still held
    assert Tone("fxs3", "busy") in out
    ring = [o for o in out if isinstance(o, Setup)]
    assert [(o.leg, o.caller.number) for o in ring] == [("fxs1", "102")]
    assert drv.pbx.leg_state("fxs1") == "ringing"
    out = drv.send(Seize("fxs1"))
    assert Play("fxs2", ()) in out and bridged(out, "fxs1", "fxs2")


def test_held_party_hangs_up(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))  # Bob held, Alice hears stutter dial tone
    drv.send(Release("fxs2"))
    out = drv.send(Release("fxs1"))  # nothing left: no recall
    assert not any(isinstance(o, Setup) for o in out)
    assert drv.pbx.leg_state("fxs1") == "idle" and drv.pbx.leg_state("fxs2") == "idle"


def test_flash_holds_and_dials_then_flash_back_abandons_the_consultation(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    out = drv.send(Flash("fxs1"))
    assert Tone("fxs1", "stutter") in out and MUSIC in out and unbridged(out, "fxs1", "fxs2")
    out = drv.dial("fxs1", "103")
    assert Setup("fxs3", "103", Party("101", "Alice")) in out
    out = drv.send(Flash("fxs1"))  # Carol still rings: give up, back to Bob
    assert Release("fxs3", Cause.NORMAL_CLEARING) in out
    assert bridged(out, "fxs1", "fxs2") and Play("fxs2", ()) in out


def test_three_way_call_and_its_hang_ups(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    out = drv.send(Seize("fxs3"))
    assert bridged(out, "fxs1", "fxs3")
    out = drv.send(Flash("fxs1"))  # join
    assert bridged(out, "fxs1", "fxs2") and bridged(out, "fxs2", "fxs3")
    assert Play("fxs2", ()) in out
    out = drv.send(Release("fxs3"))  # Carol leaves: Alice and Bob go on
    assert unbridged(out, "fxs2", "fxs3") and unbridged(out, "fxs1", "fxs3")
    assert not unbridged(out, "fxs1", "fxs2")
    assert drv.pbx.leg_state("fxs1") == "connected"
    out = drv.send(Release("fxs2"))
    assert Tone("fxs1", "busy") in out


def test_flash_in_three_way_drops_the_third(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))
    drv.send(Flash("fxs1"))
    out = drv.send(Flash("fxs1"))
    assert Tone("fxs3", "busy") in out and unbridged(out, "fxs1", "fxs3")
    out = drv.send(Release("fxs1"))
    assert Tone("fxs2", "busy") in out


def test_held_party_leaves_a_three_way_call(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))
    drv.send(Flash("fxs1"))
    out = drv.send(Release("fxs2"))
    assert unbridged(out, "fxs2", "fxs3") and unbridged(out, "fxs1", "fxs2")
    out = drv.send(Release("fxs3"))
    assert Tone("fxs1", "busy") in out


def test_controller_hanging_up_a_three_way_call_leaves_the_others_talking(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))
    drv.send(Flash("fxs1"))
    out = drv.send(Release("fxs1"))
    assert unbridged(out, "fxs1", "fxs2") and unbridged(out, "fxs1", "fxs3")
    assert not unbridged(out, "fxs2", "fxs3")
    assert drv.pbx.leg_state("fxs2") == "connected" == drv.pbx.leg_state("fxs3")
    out = drv.send(Release("fxs3"))
    assert Tone("fxs2", "busy") in out


def test_attended_transfer(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))  # Alice talks to Carol, Bob held
    out = drv.send(Release("fxs1"))
    assert Play("fxs2", ()) in out and bridged(out, "fxs2", "fxs3")
    assert drv.pbx.leg_state("fxs1") == "idle"
    calls = drv.pbx.calls()
    assert [(c.caller, c.callee, c.state) for c in calls] == [("fxs2", "fxs3", "connected")]
    reasons = [r.reason for r in drv.pbx.take_records()]
    assert sum("transferred by fxs1" in r for r in reasons) == 2, reasons
    out = drv.send(Release("fxs2"))
    assert unbridged(out, "fxs2", "fxs3") and Tone("fxs3", "busy") in out


def test_blind_transfer(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.dial("fxs1", "103")  # Carol rings
    out = drv.send(Release("fxs1"))  # Alice hangs up before Carol answers
    assert Play("fxs2", ()) in out and Tone("fxs2", "ringback") in out
    assert not any(isinstance(o, Release) and o.leg == "fxs3" for o in out)
    out = drv.send(Seize("fxs3"))
    assert bridged(out, "fxs2", "fxs3") and Tone("fxs2", None) in out
    assert drv.pbx.leg_state("fxs1") == "idle"


def test_blind_transfer_of_a_sip_caller(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", Party("5557777"), trunk="itsp"))
    drv.send(Seize("fxs1"))
    out = drv.send(Flash("fxs1"))
    assert Play("sip1", ("builtin:music",), loop=True) in out
    assert Hold("sip1", True) in out, "a SIP partner is held by re-INVITE too"
    drv.dial("fxs1", "103")
    out = drv.send(Release("fxs1"))
    assert Hold("sip1", False) in out and Play("sip1", ()) in out
    assert Play("sip1", ("builtin:ringback",), loop=True) in out, "the SIP caller hears ringback"
    out = drv.send(Seize("fxs3"))
    assert bridged(out, "sip1", "fxs3") and Play("sip1", ()) in out
    assert not any(isinstance(o, Answer) for o in out), "the SIP caller was answered already"


def test_silence_on_hold_by_setting(drv: Driver) -> None:
    drv.pbx.set_features({"101": LineFeatures(hold_music="")})
    talk(drv, "fxs1", "102", "fxs2")
    out = drv.send(Flash("fxs1"))
    assert not any(isinstance(o, Play) for o in out) and Tone("fxs1", "stutter") in out


def test_a_held_sip_partner_is_resumed_on_swap(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", Party("5557777"), trunk="itsp"))
    drv.send(Seize("fxs1"))
    drv.send(Seize("fxs3"))
    drv.dial("fxs3", "101")  # waits
    out = drv.send(Flash("fxs1"))
    assert Hold("sip1", True) in out
    out = drv.send(Flash("fxs1"))
    assert Hold("sip1", False) in out and bridged(out, "fxs1", "sip1")
    assert not any(isinstance(o, Hold) and o.leg.startswith("fxs") for o in out)


@pytest.mark.parametrize("seed", range(60))
def test_random_flashes_keep_the_books_straight(seed: int) -> None:
    """Random hook events (flashes among them), answers and hang-ups on three handsets
    and two SIP legs: nothing raises, a leg is in at most two calls (the second one aside
    on a handset's desk), every desk's handset is in its call aside, and when everyone
    hangs up nothing is left."""
    rnd = random.Random(seed)
    drv = Driver(office_plan())
    phones, sips = ["fxs1", "fxs2", "fxs3"], ["sip1", "sip2"]
    for _ in range(250):
        r = rnd.random()
        if r < 0.25:
            drv.send(Flash(rnd.choice(phones)))
        elif r < 0.45:
            drv.send(Seize(rnd.choice(phones)))
        elif r < 0.6:
            drv.send(Release(rnd.choice(phones + sips)))
        elif r < 0.75:
            drv.dial(rnd.choice(phones), rnd.choice(["101", "102", "103", "95551234#"]))
        elif r < 0.82:
            drv.send(Setup(rnd.choice(sips), "5550100", Party("5557777"), trunk="itsp"))
        elif r < 0.9:
            drv.send(Answer(rnd.choice(["out1", "out2", "out3", *sips])))
        else:
            drv.advance(rnd.choice([1, 5, 30, 70]))
        legs = [leg for c in drv.pbx._calls.values() for leg in c.legs()]
        desks = drv.pbx._handsets.desks
        assert {leg for leg in legs if legs.count(leg) > 1} <= set(desks)
        assert all(legs.count(leg) <= 2 for leg in legs)
        for leg, desk in desks.items():
            assert leg in desk.aside.legs(), (leg, desk)
    for leg in phones + sips + [f"out{i}" for i in range(1, 40)]:
        drv.send(Release(leg))
    drv.advance(1000)
    for leg in phones + sips:
        drv.send(Release(leg))
    assert [c for c in drv.pbx._calls.values() if c.legs()] == []


def test_a_waiting_call_not_answered_goes_to_the_mailbox(drv: Driver) -> None:
    drv.pbx.set_features({"101": LineFeatures(voicemail=True, voicemail_after_s=20)})
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Seize("fxs3"))
    out = drv.dial("fxs3", "101")
    assert waiting_tone(out), "call waiting comes before the mailbox"
    out = drv.advance(20)
    assert not any(isinstance(o, Release) and o.leg == "fxs1" for o in out), out
    assert Tone("fxs3", None) in out
    states = sorted(c.state for c in drv.pbx.calls())
    assert states == ["connected", "voicemail"], states
    assert drv.pbx._handsets.desks == {}
    out = drv.send(Flash("fxs1"))  # nothing waits any more: a flash holds Bob
    assert Tone("fxs1", "stutter") in out


def test_the_called_handset_transfers_its_caller(drv: Driver) -> None:
    talk(drv, "fxs2", "101", "fxs1")  # Bob called Alice; Alice (the callee) transfers
    out = drv.send(Flash("fxs1"))
    assert MUSIC in out and unbridged(out, "fxs1", "fxs2")
    drv.dial("fxs1", "103")
    drv.send(Seize("fxs3"))
    out = drv.send(Release("fxs1"))
    assert bridged(out, "fxs2", "fxs3")
    [call] = drv.pbx.calls()
    assert (call.caller, call.callee, call.state) == ("fxs2", "fxs3", "connected")


def test_recall_shows_the_held_sip_caller(drv: Driver) -> None:
    drv.send(Setup("sip1", "5550100", Party("5557777", "Dave"), trunk="itsp"))
    drv.send(Seize("fxs1"))
    drv.send(Flash("fxs1"))
    out = drv.send(Release("fxs1"))
    assert Setup("fxs1", "101", Party("5557777", "Dave")) in out
    out = drv.send(Answer("fxs1"))  # the ring trip of a line being rung
    assert bridged(out, "fxs1", "sip1") and Hold("sip1", False) in out


def test_recall_not_answered_ends_the_held_call(drv: Driver) -> None:
    talk(drv, "fxs1", "102", "fxs2")
    drv.send(Flash("fxs1"))
    drv.send(Release("fxs1"))  # recall rings
    out = drv.advance(60)
    assert Release("fxs1", Cause.NO_ANSWER) in out
    assert Play("fxs2", ()) in out and Tone("fxs2", "busy") in out, "an off-hook held handset"
    assert not any(isinstance(o, Release) and o.leg == "fxs2" for o in out)
    assert drv.pbx.leg_state("fxs1") == "idle"
    assert [r.reason for r in drv.pbx.take_records()][-1] == "recall not answered"
