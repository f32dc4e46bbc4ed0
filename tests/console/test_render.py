"""Results as a person reads them on the console (firmware.console.render)."""

from __future__ import annotations

from firmware.console.render import render


def test_staged_problems_read_as_path_then_message() -> None:
    result = {"path": "fxs.1.extension", "pending": True, "problems": [
        {"path": "fxo.1.extension", "message": "no extension '101'"}]}
    text = render("config.set", result, {})
    assert "  fxo.1.extension: no extension '101'" in text.split("\n"), text
    assert "message=" not in text


def test_other_records_in_a_list_stay_key_value_pairs() -> None:
    text = render("x", {"calls": [{"id": 1, "legs": ["fxs1", "fxs2"]}]}, {})
    assert text.split("\n") == ["calls:", "  id=1 legs=fxs1, fxs2"]
