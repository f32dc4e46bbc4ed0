"""A trunk's registration as ``status`` shows it (issue 7: a dead registrar showed a bare
"registering" for 32 s, then "failed 408" with no word on what happens next). The
bookkeeping and its words, on a fake clock; the daemon test is in
tests/e2e/test_sip_register_dead.py."""

from __future__ import annotations

import pytest

from firmware.app.status_text import registration_text
from firmware.core.clock import FakeClock
from firmware.sip.registration import (
    REG_FIRST_RETRY_S,
    REG_RETRY_S,
    RegistrationState,
    is_retried,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def reg(clock: FakeClock) -> RegistrationState:
    state = RegistrationState(clock.now)
    state.state = "registering"  # the app turns registration on
    return state


def test_registering_shows_the_attempt_and_how_long_from_the_start(
        reg: RegistrationState, clock: FakeClock) -> None:
    reg.started()
    clock.advance(12.3)
    shown = reg.as_dict()
    assert shown["state"] == "registering" and shown["attempt"] == 1
    assert shown["since"] == 1000.0 and shown["for_s"] == 12.3
    assert shown["next_retry_in_s"] is None
    assert registration_text(shown) == "registering (attempt 1, no answer for 12 s)"


def test_no_answer_fails_then_retries_first_soon_then_every_interval(
        reg: RegistrationState, clock: FakeClock) -> None:
    reg.started()
    clock.advance(32.0)  # Timer F: pjsua gives up on the silent registrar
    reg.answered(408, "Request Timeout", 0)
    shown = reg.as_dict()
    assert (shown["state"], shown["code"], shown["attempt"]) == ("failed", 408, 1)
    assert shown["next_retry_in_s"] == REG_FIRST_RETRY_S
    assert registration_text(shown) == \
        f"failed (408 Request Timeout; attempt 2 in about {REG_FIRST_RETRY_S} s)"

    clock.advance(REG_FIRST_RETRY_S)
    reg.started()
    assert (reg.state, reg.attempt, reg.since, reg.next_retry_in_s) == \
        ("registering", 2, clock.now(), None)
    assert registration_text(reg.as_dict()) == \
        "registering (attempt 2, no answer for 0 s; last 408 Request Timeout)"
    clock.advance(32.0)
    reg.answered(408, "Request Timeout", 0)
    assert reg.next_retry_in_s == REG_RETRY_S
    clock.advance(20.0)
    assert reg.next_retry_in_s == REG_RETRY_S - 20.0


def test_success_resets_the_attempts(reg: RegistrationState, clock: FakeClock) -> None:
    reg.started()
    reg.answered(503, "Service Unavailable", 0)
    reg.started()
    clock.advance(0.2)
    reg.answered(200, "OK", 300)
    shown = reg.as_dict()
    assert (shown["state"], shown["attempt"], shown["expires_s"]) == ("registered", 0, 300)
    assert shown["since"] == clock.now() and shown["next_retry_in_s"] is None
    assert registration_text(shown) == "registered (200 OK)"
    # A refresh that fails later is the first failure again: the first retry interval.
    reg.answered(408, "Request Timeout", 0)
    assert reg.next_retry_in_s == REG_FIRST_RETRY_S


@pytest.mark.parametrize("code", [401, 403, 404, 407, 488])
def test_failures_pjsua_does_not_retry_say_so(reg: RegistrationState, code: int) -> None:
    reg.started()
    reg.answered(code, "No", 0)
    assert reg.next_retry_in_s is None
    assert registration_text(reg.as_dict()) == \
        f"failed ({code} No; not retried: check the trunk's settings)"


@pytest.mark.parametrize(("code", "retried"), [(408, True), (480, True), (500, True),
                                               (503, True), (603, True), (486, False)])
def test_retried_codes(code: int, retried: bool) -> None:
    assert is_retried(code) is retried


def test_the_apps_intent_never_hides_what_the_registrar_said(
        reg: RegistrationState) -> None:
    reg.started()
    reg.answered(403, "Forbidden", 0)
    reg.state = "registering"  # the app's late "on" after the answer came
    assert (reg.state, reg.code) == ("failed", 403)
    reg.state = "not registering"
    assert reg.as_dict()["state"] == "not registering" and reg.attempt == 0
    assert registration_text(reg.as_dict()) == "not registering"
