"""Voice menus: barge-in, choices, timeout after PlayDone, repeats, invalid, nested,
dial_extensions, office hours on a choice; announcements."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import Answer, Digit, Play, PlayDone, Release, Seize, Tone
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import parse_destination
from firmware.pbx.office import Group, Menu
from firmware.pbx.schedules import Switch

from .office import Driver
from .office_support import call_in, driver, setups

P = ("file:welcome",)


def menu(**kw: object) -> Menu:
    fields: dict[str, object] = {
        "name": "main", "prompt": "file:welcome", "number": "700", "language": "am",
        "choices": {"1": Switch(parse_destination("group:sales")),
                    "2": Switch(parse_destination("ext:105")),
                    "9": Switch(parse_destination("menu:sub")),
                    "0": Switch(parse_destination("ext:101"),
                                parse_destination("announce:builtin:closed"), "office")},
        "timeout_s": 5, "repeats": 1,
        "on_timeout": parse_destination("ext:101"), "on_invalid": parse_destination("hangup"),
    }
    fields.update(kw)
    return Menu(**fields)  # type: ignore[arg-type]


SUB = Menu("sub", "say:en:Sub menu", choices={"1": Switch(parse_destination("ext:104"))},
           dial_extensions=False)


def menu_driver(**kw: object) -> Driver:
    drv = driver(Group("sales", "600", ("102", "103")), menus=(menu(**kw), SUB),
                 inbound_to="menu:main")
    drv.clock.advance(10 * 3600)  # 1000 s + 10 h after the epoch: 12:46 UTC, open
    return drv


def test_the_box_answers_and_plays_the_prompt() -> None:
    drv = menu_driver()
    out = call_in(drv)
    assert out == [Answer("sip1"), Play("sip1", P, language="am", barge_in=True)]


def test_a_digit_stops_the_prompt_and_chooses() -> None:
    drv = menu_driver(dial_extensions=False)
    call_in(drv)
    out = drv.send(Digit("sip1", "1", "rfc4733"))
    assert out[0] == Play("sip1", ())
    assert setups(out) == ["fxs2", "fxs3"]
    assert Play("sip1", ("builtin:ringback",), loop=True) in out  # while 102 and 103 ring
    out = drv.send(Answer("fxs3"))
    assert Play("sip1", ()) in out
    drv.send(Release("sip1"))
    assert drv.pbx.records[-1].path == ("menu:main", "group:sales", "ext:103")


def test_timeout_starts_at_play_done_then_repeats_then_on_timeout() -> None:
    drv = menu_driver()
    call_in(drv)
    assert drv.advance(60) == []  # still playing: no timeout yet
    drv.send(PlayDone("sip1"))
    assert drv.advance(4.9) == []
    assert drv.advance(0.1) == [Play("sip1", P, language="am", barge_in=True)]  # the one repeat
    drv.send(PlayDone("sip1"))
    out = drv.advance(5)
    assert setups(out) == ["fxs1"]  # on_timeout: ext:101


def test_invalid_digit_plays_invalid_then_the_prompt_then_on_invalid() -> None:
    drv = menu_driver()
    call_in(drv)
    out = drv.send(Digit("sip1", "8"))
    invalid = Play("sip1", ("builtin:invalid",), language="am", barge_in=True)
    assert out == [Play("sip1", ()), invalid]
    assert drv.send(PlayDone("sip1")) == [Play("sip1", P, language="am", barge_in=True)]
    out = drv.send(Digit("sip1", "8"))
    assert Release("sip1", Cause.NORMAL_CLEARING) in out  # on_invalid: hangup
    assert drv.pbx.records[-1].disposition is Disposition.ANSWERED


def test_nested_menu() -> None:
    drv = menu_driver()
    call_in(drv)
    out = drv.send(Digit("sip1", "9"))
    assert Play("sip1", ("say:en:Sub menu",), barge_in=True) in out
    assert setups(drv.send(Digit("sip1", "1"))) == ["fxs4"]


def test_dial_extensions_waits_for_a_longer_number() -> None:
    drv = menu_driver()
    call_in(drv)
    assert drv.send(Digit("sip1", "1")) == [Play("sip1", ())]  # "1" may grow to 10x
    drv.send(Digit("sip1", "0"))
    assert setups(drv.send(Digit("sip1", "3"))) == ["fxs3"]


def test_dial_extensions_timer_takes_the_short_choice() -> None:
    drv = menu_driver()
    call_in(drv)
    drv.send(Digit("sip1", "1"))
    assert setups(drv.advance(4)) == ["fxs2", "fxs3"]  # interdigit: choice 1


def test_a_choice_follows_office_hours() -> None:
    drv = menu_driver()
    drv.clock.advance(8 * 3600)  # 20:46 UTC: closed
    call_in(drv)
    out = drv.send(Digit("sip1", "0"))
    assert Play("sip1", ("builtin:closed",)) in out
    out = drv.send(PlayDone("sip1"))
    assert out == [Release("sip1", Cause.NORMAL_CLEARING)]


def test_a_handset_dials_the_menu_number() -> None:
    drv = menu_driver()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "700")
    assert Tone("fxs1", None) in out and Play("fxs1", P, language="am", barge_in=True) in out
    assert setups(drv.send(Digit("fxs1", "2"))) == ["fxs5"]


def test_the_caller_hanging_up_in_the_menu() -> None:
    drv = menu_driver()
    call_in(drv)
    drv.send(Release("sip1"))
    record = drv.pbx.records[-1]
    assert record.disposition is Disposition.ANSWERED and "menu main" in record.reason
    assert drv.pbx.calls() == []


def test_an_fxo_caller_reaches_the_menu() -> None:
    drv = menu_driver()
    out = call_in(drv, "fxo1", "")
    assert out[0] == Answer("fxo1")
    assert setups(drv.send(Digit("fxo1", "2"))) == ["fxs5"]
