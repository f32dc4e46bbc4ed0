"""The call-back service over a fake dialer (unit test): every abuse case refused with its
reason and nothing dialled; the flow office -> prompt -> visitor -> joined; retries. The
real calls are in tests/e2e/test_callback.py."""

from __future__ import annotations

import pytest

from firmware.app.callback import REQUEST_PROMPT, CallbackRefused, CallbackService
from firmware.app.wiring import numbering
from firmware.config.schema import CallbackConfig
from firmware.core.causes import Cause
from firmware.core.clock import FakeClock
from firmware.pbx.plan import DialPlan, Extension, OutboundRoute, Trunk
from tests.app.fakedialer import NOON, FakeDialer

TOKEN = "0123456789abcdef"
PLAN = DialPlan(extensions=(Extension("101", "fxs1", "Reception"),),
                trunks=(Trunk("prov"),),
                outbound=(OutboundRoute("9", "prov", strip=1),),
                numbering=numbering("us"))


def service(clock: FakeClock, open_: bool = True, **kw: object) -> tuple[CallbackService,
                                                                          FakeDialer]:
    values: dict[str, object] = {"enabled": True, "to": "ext:101", "allowed": ("9x.",),
                                 "token": TOKEN, "retry_after_s": 60.0, "attempts": 2}
    values.update(kw)
    config = CallbackConfig(**values)  # type: ignore[arg-type]
    dialer = FakeDialer(clock)
    return CallbackService(dialer, lambda: config, lambda: PLAN,
                           lambda name, now: open_), dialer


def refused(svc: CallbackService, number: str, token: str = TOKEN,
            address: str = "198.51.100.7") -> tuple[str, int]:
    with pytest.raises(CallbackRefused) as info:
        svc.take(token, number, address)
    return info.value.refusal.code, info.value.refusal.status


@pytest.mark.parametrize(("number", "token", "code", "status"), [
    ("95551234", "wrong-token-00000", "bad_token", 403),
    ("call me", TOKEN, "bad_number", 400),
    ("5551234", TOKEN, "not_allowed", 403),  # not within 9x.
    ("919005551234", TOKEN, "premium", 403),  # 1900: premium-rate (us profile)
    ("90114420123456", TOKEN, "premium", 403),  # international: over [callback] permission
])
def test_abuse_is_refused_with_its_reason_and_nothing_is_dialled(
        number: str, token: str, code: str, status: int) -> None:
    clock = FakeClock(NOON)
    svc, dialer = service(clock)
    assert refused(svc, number, token) == (code, status)
    dialer.run_due()
    assert dialer.placed == []


def test_too_many_requests_per_address_and_per_number() -> None:
    clock = FakeClock(NOON)
    svc, _ = service(clock, per_address_per_hour=2, per_number_per_hour=1)
    svc.take(TOKEN, "9555 0001", "203.0.113.1")
    assert refused(svc, "95550001", address="203.0.113.2") == ("rate_number", 429)
    svc.take(TOKEN, "95550002", "203.0.113.1")
    assert refused(svc, "95550003", address="203.0.113.1") == ("rate_address", 429)
    clock.advance(3601)
    svc.take(TOKEN, "95550003", "203.0.113.1")  # the hour has passed


def test_closed_office_and_disabled_box_refuse() -> None:
    clock = FakeClock(NOON)
    svc, _ = service(clock, open_=False, schedule="office")
    assert refused(svc, "95551234") == ("closed", 409)
    svc, _ = service(clock, enabled=False)
    assert refused(svc, "95551234") == ("disabled", 404)


def test_the_flow_rings_the_office_then_the_visitor_and_joins_them() -> None:
    clock = FakeClock(NOON)
    svc, dialer = service(clock)
    answer = svc.take(TOKEN, "9 555-1234", "198.51.100.7")
    assert answer["number"] == "95551234"
    dialer.run_due()
    assert [p[:2] for p in dialer.placed] == [("ext:101", "callback:1:office")]
    dialer.news("callback:1:office", "answered", handle="orig1", leg="fxs1")
    assert dialer.plays[-1] == ("fxs1", (REQUEST_PROMPT, "digits:95551234"))
    dialer.news("callback:1:office", "played", handle="orig1")
    assert dialer.placed[-1][:2] == ("95551234", "callback:1:visitor")
    dialer.news("callback:1:visitor", "answered", handle="orig2", leg="sip3")
    assert dialer.joined == [("orig1", "orig2")]
    assert svc.listing()[0]["state"] == "done"


def test_a_visitor_who_does_not_answer_is_tried_again_then_given_up() -> None:
    clock = FakeClock(NOON)
    svc, dialer = service(clock)
    svc.take(TOKEN, "95551234", "198.51.100.7")
    for office in ("orig1", "orig3"):  # the fake numbers its calls in order
        dialer.run_due()
        dialer.news("callback:1:office", "answered", leg="fxs1")
        dialer.news("callback:1:office", "played")
        dialer.news("callback:1:visitor", "ended", cause=Cause.NO_ANSWER)
        assert dialer.hangups[-1] == office  # the member is let go
        clock.advance(60)
    dialer.run_due()
    assert len(dialer.placed) == 4  # two attempts, two calls each; no third
    request = svc.listing()[0]
    assert request["state"] == "failed" and "did not answer" in request["reason"]


def test_nobody_in_the_office_answers() -> None:
    clock = FakeClock(NOON)
    svc, dialer = service(clock, attempts=1)
    svc.take(TOKEN, "95551234", "198.51.100.7")
    dialer.run_due()
    dialer.news("callback:1:office", "ended", handle="orig1", cause=Cause.NO_ANSWER)
    request = svc.listing()[0]
    assert request["state"] == "failed"
    assert request["reason"].startswith("nobody in the office answered")
    assert [p[0] for p in dialer.placed] == ["ext:101"]  # the visitor was never dialled


def test_the_command_answer_carries_the_refusal() -> None:
    svc, _ = service(FakeClock(NOON))
    answer = svc.request("bad-token-0000000", "95551234", "198.51.100.7")
    assert answer == {"refused": {"code": "bad_token", "status": 403, "message": (
        "the request's token is wrong: the web page must send the box's [callback] token")}}
    assert svc.info() == {"enabled": True, "origins": []}


def test_a_join_the_exchange_refuses_fails_the_attempt_and_lets_the_visitor_go() -> None:
    clock = FakeClock(NOON)
    svc, dialer = service(clock, attempts=1)

    def refuse(a: str, b: str) -> None:
        raise ValueError(f"join {a} {b}: needs an answered call")
    dialer.join = refuse  # type: ignore[method-assign]
    svc.take(TOKEN, "95551234", "198.51.100.7")
    dialer.run_due()
    dialer.news("callback:1:office", "answered", leg="fxs1")
    dialer.news("callback:1:office", "played")
    dialer.news("callback:1:visitor", "answered", leg="out1")
    assert dialer.hangups == ["orig2"]  # the visitor's call
    request = svc.listing()[0]
    assert request["state"] == "failed" and "could not join" in request["reason"]
