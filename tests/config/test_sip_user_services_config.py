"""[[sip_user]] forwarding, do-not-disturb and voicemail keys: the same names, defaults,
help and ranges as [[fxs]]'s, the same checks (a number, not the extension itself; a PIN
of digits), the dial plan gets them and the greeting is a prompt the commit builds."""

from __future__ import annotations

import pytest

from firmware.app.promptrefs import prompt_uses
from firmware.app.wiring import build_plan
from firmware.config import InvalidConfigError, parse_config
from firmware.config.describe import field_info

KEYS = ("forward_always", "forward_busy", "forward_no_answer", "forward_after_s", "dnd",
        "voicemail", "voicemail_pin", "voicemail_after_s", "voicemail_max_s",
        "voicemail_greeting")

BOX = """
[[fxs]]
port = 1
extension = "101"
[[sip_user]]
extension = "110"
password = "phone-110-pass"
{more}
"""


def box(more: str) -> str:
    return BOX.format(more=more)


@pytest.mark.parametrize("key", KEYS)
def test_same_key_as_a_handset_port(key: str) -> None:
    phone, handset = field_info("sip_user", key), field_info("fxs", key)
    assert phone is not None and handset is not None
    assert (phone.type, phone.default, phone.lo, phone.hi, phone.help) == \
        (handset.type, handset.default, handset.lo, handset.hi, handset.help)


def test_the_plan_gets_them() -> None:
    config = parse_config(box('forward_busy = "101"\nforward_no_answer = "101"\n'
                              "forward_after_s = 8\ndnd = true"))
    features = build_plan(config).feature_defaults("110")
    assert (features.forward_always, features.forward_busy, features.forward_no_answer,
            features.forward_after_s, features.dnd) == ("", "101", "101", 8.0, True)
    assert not features.call_waiting  # a phone takes one call at a time


def test_defaults_are_off() -> None:
    features = build_plan(parse_config(box(""))).feature_defaults("110")
    assert (features.forward_always, features.forward_busy, features.forward_no_answer,
            features.forward_after_s, features.dnd) == ("", "", "", 20.0, False)


@pytest.mark.parametrize(("more", "key", "message"), [
    ('forward_always = "1O1"', "sip_user[0].forward_always", "must be a number to dial"),
    ('forward_busy = "110"', "sip_user[0].forward_busy", "forwards the extension to itself"),
    ("forward_after_s = 0.5", "sip_user[0].forward_after_s", ""),
    ("dnd = 3", "sip_user[0].dnd", ""),
    ('voicemail_pin = "12a4"', "sip_user[0].voicemail_pin", "digits"),
    ("voicemail_max_s = 1", "sip_user[0].voicemail_max_s", ""),
])
def test_a_wrong_value_is_refused_naming_the_key(more: str, key: str, message: str) -> None:
    with pytest.raises(InvalidConfigError) as refused:
        parse_config(box(more))
    [problem] = refused.value.problems
    assert problem.key == key, problem
    assert message in problem.message
    assert problem.line == 8  # the line of the key in the file


def test_a_handset_port_keeps_its_checks() -> None:
    with pytest.raises(InvalidConfigError,
                       match=r"fxs\[0\]\.forward_always: forwards the extension to itself"):
        parse_config(BOX.format(more="").replace('extension = "101"\n',
                                                 'extension = "101"\nforward_always = "101"\n',
                                                 1))


def test_the_mailbox_and_its_greeting() -> None:
    config = parse_config(box('name = "Desk IP"\nvoicemail = true\nvoicemail_pin = "0042"\n'
                              'voicemail_after_s = 12\nvoicemail_greeting = "say:en:Desk is out"'))
    features = build_plan(config).feature_defaults("110")
    assert (features.voicemail, features.voicemail_pin, features.voicemail_after_s) == \
        (True, "0042", 12.0)
    [use] = [u for u in prompt_uses(config) if u.where.endswith("voicemail_greeting")]
    assert (use.where, use.ref) == ("sip_user[Desk IP].voicemail_greeting",
                                    "say:en:Desk is out")
