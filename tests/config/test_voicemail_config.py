"""[[fxs]] voicemail settings: the plan gets them, the greeting is a prompt the commit
builds, a PIN that is not digits is refused naming the key."""

from __future__ import annotations

import pytest

from firmware.app.promptrefs import prompt_uses
from firmware.app.wiring import build_plan
from firmware.config import InvalidConfigError, parse_config

BOX = """
[[fxs]]
port = 1
extension = "101"
[[fxs]]
port = 2
extension = "102"
voicemail = true
voicemail_pin = "{pin}"
voicemail_after_s = 12
voicemail_greeting = "say:en:Bob is out"
[features]
voicemail = "*97"
"""


def test_plan_and_greeting() -> None:
    config = parse_config(BOX.format(pin="0042"))
    plan = build_plan(config)
    features = plan.feature_defaults("102")
    assert (features.voicemail, features.voicemail_pin, features.voicemail_after_s) == \
        (True, "0042", 12.0)
    assert not plan.feature_defaults("101").voicemail
    assert plan.feature_codes.voicemail == "*97"
    [use] = [u for u in prompt_uses(config) if u.where.endswith("voicemail_greeting")]
    assert (use.ref, use.language) == ("say:en:Bob is out", "en")


def test_pin_must_be_digits() -> None:
    with pytest.raises(InvalidConfigError, match=r"voicemail_pin.*digits"):
        parse_config(BOX.format(pin="12a4"))
