"""``minipbx status`` shows calls out per trunk and the spending guard (pbx.tollguard)."""

from __future__ import annotations

from firmware.app.status_text import format_status


def test_spending_guard_and_calls_out_are_shown() -> None:
    text = format_status({"outbound": {
        "calls_out": {"provider": 2, "fxo1": 1}, "international_minutes_last_hour": 61.5,
        "max_international_minutes_per_hour": 60.0, "international_blocked": True}})
    assert "Calls out: provider 2, fxo1 1" in text
    assert ("Spending guard: 61.5 of 60 international/premium minutes in the last hour; "
            "REFUSING new international and premium calls") in text


def test_no_limit_no_guard_line() -> None:
    text = format_status({"outbound": {
        "calls_out": {}, "international_minutes_last_hour": 3.0,
        "max_international_minutes_per_hour": 0, "international_blocked": False}})
    assert "Spending guard" not in text and "Calls out" not in text
