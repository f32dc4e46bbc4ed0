"""Forwarding and do-not-disturb of an IP phone (``[[sip_user]]``), as for a handset
(tests/pbx/test_forwarding.py), on the office plan with the phone Desk 110 (leg phone110):
its star codes come as the called number of its INVITE, and its "code call" ends at once
(a release, there being no handset to hear the confirmation)."""

from __future__ import annotations

import pytest

from firmware.app.wiring import build_plan
from firmware.config.schema import Config, FxsPort, SipUser
from firmware.core.causes import Cause
from firmware.core.events import Answer, Party, Release, Seize, Setup, Tone
from firmware.pbx import forwardcheck
from firmware.pbx.cdr import Disposition
from firmware.pbx.features import LineFeatures
from firmware.pbx.plan import Extension, InboundRoute

from .office import ALICE, BOB, CAROL, Driver, office_plan

DESK = Extension("110", "phone110", "Desk IP", phone=True)
PHONE = LineFeatures(call_waiting=False)  # as wiring.phone_features gives it


def desk(**settings: object) -> Driver:
    features = LineFeatures(**{"call_waiting": False, **settings})  # type: ignore[arg-type]
    return Driver(office_plan(extensions=(ALICE, BOB, CAROL, DESK),
                              forwarding=(("110", features),)))


@pytest.fixture
def drv() -> Driver:
    return desk()


def phone_code(drv: Driver, number: str) -> list[object]:
    """The phone dials ``number`` (its INVITE's user part)."""
    return list(drv.send(Setup("phone110", number, Party("110", "Desk IP"))))


def setups(out: list[object]) -> list[tuple[str, str]]:
    return [(o.leg, o.called) for o in out if isinstance(o, Setup)]


def call_desk(drv: Driver) -> list[object]:
    drv.send(Seize("fxs1"))
    return list(drv.dial("fxs1", "110"))


def test_forward_always_by_the_phones_star_code(drv: Driver) -> None:
    out = phone_code(drv, "*72103")
    assert Release("phone110", Cause.NORMAL_CLEARING) in out  # the code "call" ends
    assert drv.pbx.line_features()["110"].forward_always == "103"
    assert drv.pbx.take_features_changed()
    out = call_desk(drv)
    assert setups(out) == [("fxs3", "103")]
    assert next(o for o in out if isinstance(o, Setup)).caller.number == "101"
    drv.send(Release("fxs1"))
    phone_code(drv, "*73")
    assert drv.pbx.line_features()["110"].forward_always == ""
    assert setups(call_desk(drv)) == [("phone110", "110")]


def test_configured_do_not_disturb_gives_busy() -> None:
    drv = desk(dnd=True)
    out = call_desk(drv)
    assert Tone("fxs1", "busy") in out and not setups(out)
    record = drv.pbx.take_records()[-1]
    assert record.disposition is Disposition.BUSY and "do not disturb" in record.reason


def test_do_not_disturb_by_star_code_refuses_a_trunk_caller_busy() -> None:
    drv = Driver(office_plan(extensions=(ALICE, BOB, CAROL, DESK),
                             forwarding=(("110", PHONE),),
                             inbound=(InboundRoute("*", "110"),)))
    phone_code(drv, "*78")
    assert drv.pbx.line_features()["110"].dnd
    out = drv.send(Setup("sip1", "5550110", Party("5557777"), trunk="itsp"))
    assert Release("sip1", Cause.USER_BUSY) in out and not setups(out)
    phone_code(drv, "*79")
    assert not drv.pbx.line_features()["110"].dnd
    out = drv.send(Setup("sip2", "5550110", Party("5557777"), trunk="itsp"))
    assert setups(out) == [("phone110", "5550110")]


def test_forward_busy_while_the_phone_is_in_a_call(drv: Driver) -> None:
    phone_code(drv, "*90103")
    assert setups(call_desk(drv)) == [("phone110", "110")]  # idle: the phone rings
    drv.send(Release("fxs1"))
    drv.send(Release("phone110"))
    # The phone calls Bob and he answers: the phone is in a call.
    assert setups(phone_code(drv, "102")) == [("fxs2", "102")]
    drv.send(Answer("fxs2"))
    assert drv.pbx.leg_state("phone110") == "connected"
    assert setups(call_desk(drv)) == [("fxs3", "103")]


def test_busy_phone_without_forward_busy_gives_busy(drv: Driver) -> None:
    phone_code(drv, "102")
    drv.send(Answer("fxs2"))
    out = call_desk(drv)
    assert Tone("fxs1", "busy") in out and not setups(out)  # no call waiting on a phone


def test_forward_no_answer_after_its_time() -> None:
    drv = desk(forward_no_answer="103", forward_after_s=12.0)
    assert setups(call_desk(drv)) == [("phone110", "110")]
    assert drv.advance(11.9) == []
    out = drv.advance(0.1)
    assert Release("phone110", Cause.NO_ANSWER) in out
    assert setups(out) == [("fxs3", "103")]
    out = drv.send(Answer("fxs3"))
    assert any(getattr(o, "b", None) == "fxs3" for o in out)


def test_a_phones_code_to_itself_or_nowhere_is_refused(drv: Driver) -> None:
    for number in ("*72110", "*72555"):
        out = phone_code(drv, number)
        assert Release("phone110", Cause.INVALID_NUMBER_FORMAT) in out, out
        assert not any(isinstance(o, Tone) for o in out)  # no tone for a SIP leg
    assert drv.pbx.line_features()["110"].forward_always == ""


def test_a_handset_forwards_to_the_phone_and_the_phone_onwards(drv: Driver) -> None:
    drv.send(Seize("fxs2"))
    drv.dial("fxs2", "*72110")
    drv.advance(5.0)
    drv.send(Release("fxs2"))
    phone_code(drv, "*72103")
    # 101 dials 102, which forwards to the phone, which forwards to 103.
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert setups(out) == [("fxs3", "103")]
    drv.send(Answer("fxs3"))
    drv.send(Release("fxs1"))
    path = list(drv.pbx.take_records()[-1].path)
    assert path.index("forward:102") < path.index("forward:110"), path


def test_form_checks_for_a_phone() -> None:
    plan = office_plan(extensions=(ALICE, BOB, CAROL, DESK),
                       forwarding=(*((n, LineFeatures()) for n in ("101", "102", "103")),
                                   ("110", PHONE)))
    current = {n: plan.feature_defaults(n) for n, _ in plan.forwarding}
    values, errors = forwardcheck.check(plan, current, "110",
                                        {"forward_always": "103", "dnd": "on",
                                         "call_waiting": "off"})
    assert errors == {} and values["forward_always"] == "103"
    _, errors = forwardcheck.check(plan, current, "110", {"call_waiting": "on"})
    assert "one call at a time" in errors["call_waiting"]
    _, errors = forwardcheck.check(plan, current, "110", {"forward_busy": "110"})
    assert "this extension itself" in errors["forward_busy"]
    _, errors = forwardcheck.check(plan, current, "110", {"forward_busy": "555"})
    assert "leads nowhere" in errors["forward_busy"]
    current["103"].forward_always = "110"
    _, errors = forwardcheck.check(plan, current, "110", {"forward_always": "103"})
    assert "loop" in errors["forward_always"]
    _, errors = forwardcheck.check(plan, current, "101", {"forward_always": "110"})
    assert errors == {}  # a handset may forward to the phone


def test_the_plan_takes_a_sip_users_forwarding_from_the_configuration() -> None:
    config = Config(fxs=(FxsPort(port=1, extension="101"), FxsPort(port=2, extension="102")),
                    sip_user=(SipUser(extension="110", password="secret-110",
                                      forward_busy="102", forward_no_answer="101",
                                      forward_after_s=7.0, dnd=True),))
    plan = build_plan(config)
    features = plan.feature_defaults("110")
    assert (features.forward_busy, features.forward_no_answer, features.forward_after_s,
            features.dnd, features.call_waiting) == ("102", "101", 7.0, True, False)
    assert plan.feature_defaults("101") == LineFeatures(call_waiting=True)
