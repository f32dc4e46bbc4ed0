"""The auto-informer's campaign logic with a fake clock: attempts, retry, window, parallel,
reserve, confirmation, and resuming after a restart (firmware/pbx/informer.py)."""

from __future__ import annotations

import json

import pytest

from firmware.core.clock import FakeClock
from firmware.pbx.informer import (
    Campaign,
    InformerError,
    Outcome,
    Result,
    Settings,
    Window,
    parse_numbers,
)

NOON = 12 * 60.0
PLENTY = 99


def plenty(number: str) -> int:
    return PLENTY


def campaign(numbers: list[str], clock: FakeClock, **kw: object) -> Campaign:
    settings = Settings(message=("builtin:notice",), **kw)  # type: ignore[arg-type]
    return Campaign.new("c1", settings, numbers, clock.now())


def start_all(c: Campaign, clock: FakeClock, minute: float = NOON,
              free: object = plenty) -> list[str]:
    out = []
    while (n := c.next_call(clock.now(), minute, free)) is not None:  # type: ignore[arg-type]
        out.append(n)
    return out


def test_parallel_caps_calls_in_progress_and_list_order_is_kept() -> None:
    clock = FakeClock()
    c = campaign(["101", "102", "103", "104"], clock, parallel=2)
    assert start_all(c, clock) == ["101", "102"]
    c.answered("101", clock.now())
    c.heard("101")
    c.ended("101", Outcome.ANSWERED, clock.now())
    assert start_all(c, clock) == ["103"]
    assert c.in_progress() == ["102", "103"]


def test_busy_is_retried_after_retry_after_until_attempts_run_out() -> None:
    clock = FakeClock()
    c = campaign(["555"], clock, attempts=3, retry_after_s=120)
    for attempt in range(1, 4):
        assert start_all(c, clock) == ["555"]
        c.ended("555", Outcome.BUSY, clock.now(), "USER_BUSY")
        assert c.targets[0].attempts == attempt
        assert start_all(c, clock) == []  # not before the retry time
        if attempt < 3:
            assert c.next_deadline(clock.now(), NOON) == clock.now() + 120
        clock.advance(119)
        assert start_all(c, clock) == []
        clock.advance(1)
    target = c.targets[0]
    assert target.final and target.result is Result.BUSY and target.attempts == 3
    assert c.state == "done"
    assert start_all(c, clock) == []


def test_outcomes_give_the_results_of_the_report() -> None:
    clock = FakeClock()
    c = campaign(["1", "2", "3", "4"], clock, attempts=1, parallel=4)
    start_all(c, clock)
    c.ended("1", Outcome.NO_ANSWER, clock.now())
    c.ended("2", Outcome.FAILED, clock.now(), "NO_CIRCUIT_AVAILABLE")
    c.answered("3", clock.now())
    c.heard("3")
    c.ended("3", Outcome.ANSWERED, clock.now())
    c.answered("4", clock.now())
    c.ended("4", Outcome.ANSWERED, clock.now())  # hung up during the message
    results = {t.number: t.result for t in c.targets}
    assert results == {"1": Result.NO_ANSWER, "2": Result.FAILED, "3": Result.HEARD,
                       "4": Result.ANSWERED}
    assert c.targets[3].reason == "hung up before the end of the message"
    assert c.summary()["reached"] == 1


def test_confirmation_digit_is_needed_when_asked_for() -> None:
    clock = FakeClock()
    c = campaign(["201", "202"], clock, confirm_digit="1", attempts=2, retry_after_s=60)
    start_all(c, clock)
    for n in ("201", "202"):
        c.answered(n, clock.now())
        c.heard(n)
    assert c.digit("201", "2") is False  # a wrong key confirms nothing
    assert c.digit("201", "1") is True
    c.ended("201", Outcome.ANSWERED, clock.now())
    c.ended("202", Outcome.ANSWERED, clock.now())
    t201, t202 = c.targets
    assert (t201.result, t201.confirmed, t201.final) == (Result.CONFIRMED, "1", True)
    assert (t202.result, t202.final) == (Result.ANSWERED, False)  # heard, not confirmed
    assert t202.reason == "hung up without pressing 1"
    clock.advance(60)
    assert start_all(c, clock) == ["202"]


def test_refused_numbers_are_not_tried_again() -> None:
    clock = FakeClock()
    c = campaign(["1900555"], clock, attempts=3)
    start_all(c, clock)
    c.ended("1900555", Outcome.REFUSED, clock.now(), "denied: class premium")
    assert c.targets[0].final and c.targets[0].attempts == 1 and c.state == "done"


def test_window_holds_calls_until_it_opens() -> None:
    clock = FakeClock()
    c = campaign(["101"], clock, window="09:00-20:00")
    eight = 8 * 60.0
    assert start_all(c, clock, minute=eight) == []
    assert c.next_deadline(clock.now(), eight) == clock.now() + 3600
    assert start_all(c, clock, minute=20 * 60.0) == []  # the end is not inside
    assert start_all(c, clock, minute=9 * 60.0) == ["101"]


def test_window_over_midnight() -> None:
    w = Window.parse("22:00-06:00")
    assert w.is_open(23 * 60) and w.is_open(5 * 60) and not w.is_open(12 * 60)
    assert w.seconds_to_open(21 * 60) == 3600
    with pytest.raises(InformerError, match="09:00-20:00"):
        Window.parse("9-20")


def test_reserve_keeps_the_last_free_channel_for_people() -> None:
    clock = FakeClock()
    c = campaign(["9555001", "9555002", "9555003"], clock, parallel=3)
    free = {"n": 3}  # channels free for the way these numbers leave

    def channels(number: str) -> int:
        return free["n"]

    started = []
    while (n := c.next_call(clock.now(), NOON, channels)) is not None:
        started.append(n)
        free["n"] -= 1  # the app placed the call: one channel fewer
    assert started == ["9555001", "9555002"]  # the third would take the last channel
    assert free["n"] == 1
    c.ended("9555001", Outcome.BUSY, clock.now())
    free["n"] += 1
    assert c.next_call(clock.now(), NOON, channels) == "9555003"


def test_restart_resumes_where_it_stopped() -> None:
    clock = FakeClock()
    c = campaign(["1", "2", "3"], clock, parallel=2, attempts=2)
    start_all(c, clock)
    c.answered("1", clock.now())
    c.heard("1")
    c.ended("1", Outcome.ANSWERED, clock.now())
    # "2" and "3" are in progress when the daemon stops; the file is what survives.
    saved = json.dumps(c.to_dict())
    again = Campaign.from_dict(json.loads(saved))
    again.resume()
    t1, t2, _ = again.targets
    assert (t1.result, t1.final) == (Result.HEARD, True)
    assert t2.attempts == 0 and t2.reason == "interrupted by a restart"
    assert start_all(again, clock) == ["2", "3"]  # both due at once, "1" is not called
    assert again.targets[1].attempts == 1


def test_stop_ends_the_campaign_and_names_the_calls_to_hang_up() -> None:
    clock = FakeClock()
    c = campaign(["1", "2", "3"], clock, parallel=2)
    start_all(c, clock)
    assert c.stop(clock.now()) == ["1", "2"]
    assert c.state == "stopped" and start_all(c, clock) == []
    assert c.next_deadline(clock.now(), NOON) is None


def test_settings_are_checked_with_the_option_named() -> None:
    with pytest.raises(InformerError, match="parallel 0"):
        Settings(message=("builtin:x",), parallel=0)
    with pytest.raises(InformerError, match="confirm-digit"):
        Settings(message=("builtin:x",), confirm_digit="12")
    with pytest.raises(InformerError, match="message"):
        Settings(message=())


def test_number_lists() -> None:
    assert parse_numbers("101, 102\n# a comment\n9 555-12 34\n101\n*21#") == [
        "101", "102", "95551234", "*21#"]
    with pytest.raises(InformerError, match="line 2: 'abc'"):
        parse_numbers("101\nabc")
    with pytest.raises(InformerError, match="empty"):
        parse_numbers(" \n# nothing\n")


def test_a_retry_cut_off_by_a_restart_keeps_the_result_before_it() -> None:
    clock = FakeClock()
    c = campaign(["555"], clock, attempts=3, retry_after_s=60)
    start_all(c, clock)
    c.ended("555", Outcome.BUSY, clock.now())
    clock.advance(60)
    assert start_all(c, clock) == ["555"]  # the retry is in progress when the box stops
    again = Campaign.from_dict(json.loads(json.dumps(c.to_dict())))
    again.resume()
    target = again.targets[0]
    assert (target.result, target.attempts, target.final) == (Result.BUSY, 1, False)
    assert start_all(again, clock) == ["555"]
