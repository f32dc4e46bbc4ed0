"""The office tables in the configuration file: errors name the table and key, a menu's
choices table becomes its list form, and `config set` edits them like any list."""

from __future__ import annotations

import pytest

from firmware.config import InvalidConfigError, parse_config, to_toml
from firmware.config.paths import set_path

BASE = """
[[fxs]]
port = 1
extension = "101"
[[fxs]]
port = 2
extension = "102"

[[group]]
name = "sales"
number = "600"
members = ["101", "102"]

[[schedule]]
name = "office"
hours = "09:00-13:00,14:00-18:00"
holidays = ["2026-12-25"]
timezone = "Europe/Berlin"
"""


def refusal(text: str) -> str:
    with pytest.raises(InvalidConfigError) as caught:
        parse_config(BASE + text)
    return str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ('[[inbound]]\nto = "group:support"\n', "inbound[0].to: no group named 'support'"),
    ('[[inbound]]\nto = "grop:sales"\n', "inbound[0].to: 'grop:sales': unknown kind 'grop'"),
    ('[[inbound]]\nextension = "101"\nto = "group:sales"\n', "set extension ('101') or to"),
    ('[[inbound]]\ndid = "5"\n', "inbound[0].extension: missing; add extension"),
    ('[[inbound]]\nto = "group:sales"\nclosed_to = "hangup"\n',
     "inbound[0].schedule: closed_to and schedule come together"),
    ('[[inbound]]\nto = "group:sales"\nclosed_to = "hangup"\nschedule = "ofice"\n',
     "no schedule named 'ofice'; did you mean 'office'?"),
    ('[[group]]\nname = "support"\nnumber = "101"\nmembers = ["101"]\n',
     "group[1].number: 101 is already an extension's number"),
    ('[[group]]\nname = "sales"\nmembers = ["103"]\n', "group[1].members[0]: no extension"),
    ('[[group]]\nname = "x"\nmembers = ["101"]\nstrategy = "random"\n',
     "group[1].strategy: must be"),
    ('[[group]]\nname = "q"\nmembers = ["101"]\nannounce_every_s = 10\n',
     "group[1].announce_every_s: must be 0 (on arrival only) or between 15 and 600, got 10"),
    ('[[group]]\nname = "q"\nmembers = ["101"]\nannounce_every_s = 601\n',
     "group[1].announce_every_s: must be between 0 and 600, got 601"),
    ('[[menu]]\nname = "m"\nprompt = "builtin:welcome"\nchoices = ["1=ext:101", "1=hangup"]\n',
     "menu[0].choices[1]: key '1' is given twice"),
    ('[[menu]]\nname = "m"\nprompt = "builtin:welcome"\nchoices = ["x=ext:101"]\n',
     "key 'x' must be keypad symbols"),
    ('[[menu]]\nname = "m"\nprompt = "builtin:welcome"\nchoices = { "1" = "menu:nope" }\n',
     "menu[0].choices[0]: no menu named 'nope'"),
    ('[[menu]]\nname = "m"\nprompt = "b"\nchoices = { "1" = { to = "ext:101", when = 1 } }\n',
     "menu[0].choices.1: unknown key 'when'"),
    ('[[schedule]]\nname = "late"\nhours = "18:00-02:00"\n',
     "schedule[1].hours: '18:00-02:00': the range ends before it starts"),
    ('[[schedule]]\nname = "tz"\ntimezone = "Mars/Base"\n',
     "schedule[1].timezone: timezone: unknown timezone 'Mars/Base'"),
    ('[[schedule]]\nname = "d"\nweekdays = ["mo"]\n', "schedule[1].weekdays: 'mo': unknown"),
    ('[[fxo]]\nport = 1\nto = "menu:main"\n', "fxo[0].to: no menu named 'main'"),
])
def test_refusals_name_table_and_key(text: str, message: str) -> None:
    assert message in refusal(text)


def test_a_choices_table_becomes_the_list_form_and_renders_back() -> None:
    config = parse_config(BASE + """
[[menu]]
name = "main"
prompt = "say:am:Selam"
choices = { "1" = "group:sales", "0" = {to = "ext:101", closed_to = "hangup", schedule = "office"} }

[[inbound]]
to = "menu:main"
closed_to = "announce:builtin:closed"
schedule = "office"
""")
    assert config.menu[0].choices == ("1=group:sales", "0=ext:101|hangup@office")
    assert parse_config(to_toml(config)) == config


def test_config_set_edits_choices_as_a_list() -> None:
    doc = {"fxs": [{"port": 1, "extension": "101"}],
           "menu": [{"name": "main", "prompt": "builtin:welcome"}]}
    doc = set_path(doc, "menu.main.choices", '["1=ext:101", "2=hangup"]')
    assert doc["menu"][0]["choices"] == ["1=ext:101", "2=hangup"]
    config = parse_config(to_toml(parse_config(
        '[[fxs]]\nport = 1\nextension = "101"\n[[menu]]\nname = "main"\n'
        'prompt = "builtin:welcome"\nchoices = ["1=ext:101", "2=hangup"]\n')))
    assert config.menu[0].choices == ("1=ext:101", "2=hangup")


def test_announce_every_s_takes_0_and_15_to_600() -> None:
    for every in (0, 15, 600):
        config = parse_config(BASE.replace('members = ["101", "102"]\n',
                                           f'members = ["101", "102"]\nqueue = true\n'
                                           f'announce_position = true\n'
                                           f'announce_every_s = {every}\n'))
        assert config.group[0].announce_every_s == every
