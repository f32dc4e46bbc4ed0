"""The call-back's screen and requests with a fake clock (firmware/pbx/callback.py): the
order of the rules, the rolling hour of the rate limits, retries and the kept history."""

from __future__ import annotations

from firmware.core.clock import FakeClock
from firmware.pbx.callback import MAX_KEPT, RateLimit, Requests, Screen


def no_cost(number: str) -> str | None:
    return None


def test_rules_in_order_and_the_cleaned_number() -> None:
    screen = Screen.build(("9x.",), per_address_per_hour=10, per_number_per_hour=10)
    clock = FakeClock()
    assert screen.check(" 9 (555) 12-34 ", "a", clock.now(), no_cost) == ("95551234", None)
    _, refusal = screen.check("12", "a", clock.now(), no_cost)
    assert refusal is not None and refusal.code == "bad_number"
    _, refusal = screen.check("5551234", "a", clock.now(), no_cost)
    assert refusal is not None and (refusal.code, refusal.status) == ("not_allowed", 403)
    _, refusal = screen.check("919005551234", "a", clock.now(),
                              lambda n: "it is a premium-rate number")
    assert refusal is not None and refusal.message.endswith("it is a premium-rate number")


def test_the_rate_limit_is_a_rolling_hour() -> None:
    limit = RateLimit(2)
    clock = FakeClock()
    limit.add("k", clock.now())
    clock.advance(1800)
    limit.add("k", clock.now())
    assert limit.over("k", clock.now())
    clock.advance(1800)  # the first is an hour old now
    assert not limit.over("k", clock.now())
    assert not RateLimit(0).over("k", clock.now())  # 0: no limit


def test_refused_requests_count_for_the_address_not_for_the_number() -> None:
    screen = Screen.build(("9x.",), per_address_per_hour=2, per_number_per_hour=1)
    clock = FakeClock()
    screen.check("5551234", "a", clock.now(), no_cost)  # refused: not allowed
    assert screen.check("95550001", "b", clock.now(), no_cost)[1] is None
    _, refusal = screen.check("95550002", "a", clock.now(), no_cost)
    assert refusal is None  # the address's second
    _, refusal = screen.check("95550003", "a", clock.now(), no_cost)
    assert refusal is not None and refusal.code == "rate_address"
    _, refusal = screen.check("95550001", "c", clock.now(), no_cost)
    assert refusal is not None and refusal.code == "rate_number"


def test_requests_retry_then_fail_and_old_ones_are_forgotten() -> None:
    clock = FakeClock()
    requests = Requests(attempts=2, retry_after_s=60)
    r = requests.add("95551234", "a", clock.now())
    assert requests.open_for("95551234") is r
    assert requests.next_due(clock.now()) is r and r.state == "office" and r.attempts == 1
    requests.failed(r, clock.now(), "nobody in the office answered")
    assert r.state == "queued" and requests.next_due(clock.now()) is None
    assert requests.next_deadline(clock.now()) == clock.now() + 60
    clock.advance(60)
    assert requests.next_due(clock.now()) is r and r.attempts == 2
    requests.failed(r, clock.now(), "the visitor did not answer")
    assert r.state == "failed" and requests.open_for("95551234") is None
    for i in range(MAX_KEPT + 5):
        done = requests.add(f"9555{i:04d}", "a", clock.now())
        requests.finished(done, clock.now())
    assert len(requests.items) <= MAX_KEPT + 1
