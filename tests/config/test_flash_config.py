"""[[fxs]] call_waiting and hold_music, [features] no_call_waiting: the plan gets them,
and the hold music is a prompt the commit checks and builds (firmware/app/promptrefs.py)."""

from __future__ import annotations

from firmware.app.promptrefs import prompt_uses
from firmware.app.wiring import build_plan
from firmware.config import parse_config

BOX = """
[[fxs]]
port = 1
extension = "101"
[[fxs]]
port = 2
extension = "102"
call_waiting = false
hold_music = "file:hold.wav"
[features]
no_call_waiting = "*71"
"""


def test_plan_and_hold_music() -> None:
    config = parse_config(BOX)
    plan = build_plan(config)
    assert plan.feature_defaults("101").call_waiting
    assert plan.feature_defaults("101").hold_music == "builtin:music"
    assert not plan.feature_defaults("102").call_waiting
    assert plan.feature_defaults("102").hold_music == "file:hold.wav"
    assert plan.feature_codes.meaning("*71555#") == ("no_call_waiting", "555")
    uses = [u.ref for u in prompt_uses(config) if u.where.endswith("hold_music")]
    assert sorted(uses) == ["builtin:music", "file:hold.wav"]
