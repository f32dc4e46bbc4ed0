"""Voicemail (firmware/pbx/voicemail.py) on the office plan: Bob 102 (fxs2) has a mailbox
with PIN 1234; Alice 101 (fxs1) calls him."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from firmware.core.events import (
    Answer,
    MailboxEdit,
    Party,
    Play,
    PlayDone,
    Release,
    Seize,
    Setup,
    Tone,
    VoiceMessage,
)
from firmware.pbx.cdr import Disposition
from firmware.pbx.destinations import destination
from firmware.pbx.features import LineFeatures
from firmware.pbx.plan import InboundRoute
from firmware.pbx.schedules import Switch

from .office import Driver, office_plan

BOB_BOX = LineFeatures(voicemail=True, voicemail_pin="1234", voicemail_after_s=10.0,
                       voicemail_max_s=60.0)


@pytest.fixture
def vm() -> Driver:
    return Driver(office_plan(forwarding=(("102", BOB_BOX),)))


def plays(out: Sequence[object]) -> list[tuple[str, ...]]:
    return [o.prompts for o in out if isinstance(o, Play) and o.prompts]


def messages(out: Sequence[object]) -> list[VoiceMessage]:
    return [o for o in out if isinstance(o, VoiceMessage)]


def test_no_answer_goes_to_voicemail_and_records_until_hang_up(vm: Driver) -> None:
    vm.send(Seize("fxs1"))
    out = vm.dial("fxs1", "102")
    assert any(isinstance(o, Setup) and o.leg == "fxs2" for o in out)
    assert vm.advance(9.0) == []
    out = vm.advance(1.5)  # voicemail_after_s: Bob stops ringing, the box answers
    assert Release("fxs2", out[0].cause) in out  # type: ignore[union-attr]
    assert plays(out) == [("builtin:vm_extension", "digits:102", "builtin:vm_unavailable",
                           "builtin:beep")]
    assert not messages(out)
    out = vm.send(PlayDone("fxs1"))
    [start] = messages(out)
    assert start.on and start.mailbox == "102" and start.leg == "fxs1"
    assert start.caller.number == "101"
    out = vm.send(Release("fxs1"))
    [stop] = messages(out)
    assert not stop.on and stop.call_id == start.call_id
    record = vm.pbx.take_records()[-1]
    assert record.disposition is Disposition.ANSWERED
    assert "message left in mailbox 102" in record.reason
    assert record.path[-1] == "voicemail:102"


def test_hang_up_during_greeting_keeps_nothing(vm: Driver) -> None:
    vm.send(Seize("fxs1"))
    vm.dial("fxs1", "102")
    vm.advance(11.0)
    out = vm.send(Release("fxs1"))
    assert not messages(out)
    assert "no message" in vm.pbx.take_records()[-1].reason


def test_busy_goes_to_voicemail_and_hash_ends_the_message(vm: Driver) -> None:
    vm.send(Seize("fxs2"))  # Bob off-hook: busy
    vm.send(Seize("fxs1"))
    out = vm.dial("fxs1", "102")
    assert not any(isinstance(o, Setup) for o in out)
    assert plays(out)[0][0] == "builtin:vm_extension"
    vm.send(PlayDone("fxs1"))
    out = vm.dial("fxs1", "#")
    assert [m.on for m in messages(out)] == [False]
    assert plays(out) == [("builtin:goodbye",)]
    out = vm.send(PlayDone("fxs1"))
    assert Tone("fxs1", "busy") in out  # the box hung up on the handset


def test_longest_message_is_cut(vm: Driver) -> None:
    vm.send(Seize("fxs2"))
    vm.send(Seize("fxs1"))
    vm.dial("fxs1", "102")
    vm.send(PlayDone("fxs1"))
    out = vm.advance(61.0)
    assert [m.on for m in messages(out)] == [False]
    assert "longest length" in vm.pbx.take_records()[-1].reason


def test_extension_without_mailbox_is_busy(vm: Driver) -> None:
    vm.send(Seize("fxs3"))  # Carol busy, no mailbox
    vm.send(Seize("fxs1"))
    out = vm.dial("fxs1", "103")
    assert Tone("fxs1", "busy") in out and not messages(out)


def test_stutter_dial_tone_while_new_messages_wait(vm: Driver) -> None:
    vm.pbx.set_mailbox("102", ["m1"], [], False)
    assert vm.send(Seize("fxs2")) == [Tone("fxs2", "stutter")]
    vm.send(Release("fxs2"))
    vm.pbx.set_mailbox("102", [], ["m1"], False)
    assert vm.send(Seize("fxs2")) == [Tone("fxs2", "dial")]


def test_star98_pin_play_delete_and_greeting(vm: Driver) -> None:
    vm.pbx.set_mailbox("102", ["m1", "m2"], ["m0"], False)
    vm.send(Seize("fxs2"))
    vm.dial("fxs2", "*98")
    out = vm.advance(5.0)  # interdigit: *98 alone is one's own mailbox
    assert Tone("fxs2", None) in out
    assert plays(out) == [("builtin:vm_enter_pin",)]
    out = vm.dial("fxs2", "1235")  # wrong
    assert plays(out)[-1] == ("builtin:invalid", "builtin:vm_enter_pin")
    out = vm.dial("fxs2", "1234")
    assert plays(out)[-1] == ("digits:2", "builtin:vm_new", "digits:1", "builtin:vm_old",
                              "builtin:vm_menu")
    out = vm.dial("fxs2", "1")
    assert plays(out)[-1] == ("voicemail:102/m1", "builtin:vm_after")
    assert MailboxEdit("102", "m1", "heard") in out
    out = vm.dial("fxs2", "2")  # next: m2 (still new)
    assert plays(out)[-1] == ("voicemail:102/m2", "builtin:vm_after")
    out = vm.dial("fxs2", "7")
    assert MailboxEdit("102", "m2", "delete") in out
    assert vm.pbx.mailbox("102").new == [] and vm.pbx.mailbox("102").old == ["m0", "m1"]
    out = vm.dial("fxs2", "*")
    assert plays(out)[-1][:4] == ("digits:0", "builtin:vm_new", "digits:2", "builtin:vm_old")
    out = vm.dial("fxs2", "0")
    assert plays(out)[-1] == ("builtin:vm_record_greeting", "builtin:beep")
    out = vm.send(PlayDone("fxs2"))
    [start] = messages(out)
    assert start.greeting and start.on and start.mailbox == "102"
    out = vm.dial("fxs2", "#")
    [stop] = messages(out)
    assert stop.greeting and not stop.on
    assert vm.pbx.mailbox("102").greeting
    vm.send(Release("fxs2"))
    # The next caller hears the owner's greeting.
    vm.send(Seize("fxs2"))
    vm.send(Seize("fxs1"))
    out = vm.dial("fxs1", "102")
    assert plays(out) == [("voicemail:102/greeting", "builtin:beep")]


def test_other_extension_needs_the_pin_and_three_wrong_end_it(vm: Driver) -> None:
    vm.send(Seize("fxs1"))
    vm.dial("fxs1", "*98102")
    out = vm.advance(5.0)
    assert plays(out) == [("builtin:vm_enter_pin",)]
    for _ in range(2):
        vm.dial("fxs1", "0000")
    out = vm.dial("fxs1", "0000")
    assert plays(out) == [("builtin:goodbye",)]
    out = vm.send(PlayDone("fxs1"))
    assert Tone("fxs1", "busy") in out


def test_voicemail_destination_for_a_sip_caller() -> None:
    drv = Driver(office_plan(forwarding=(("102", BOB_BOX),), inbound=(
        InboundRoute("*", switch=Switch(destination("voicemail:102"))),)))
    out = drv.send(Setup("sip2", "5550100", Party("555")))
    assert Answer("sip2") in out
    assert plays(out)[0][0] == "builtin:vm_extension"
    out = drv.send(PlayDone("sip2"))
    [start] = messages(out)
    assert start.leg == "sip2" and start.caller.number == "555"


def test_dnd_with_a_mailbox_sends_callers_there() -> None:
    drv = Driver(office_plan(forwarding=(("102", LineFeatures(voicemail=True, dnd=True)),)))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert not any(isinstance(o, Setup) for o in out)
    assert plays(out)[0][0] == "builtin:vm_extension"


def test_forwarding_numbers_come_before_the_mailbox() -> None:
    box = LineFeatures(voicemail=True, voicemail_after_s=10.0, forward_busy="103",
                       forward_no_answer="103", forward_after_s=5.0)
    drv = Driver(office_plan(forwarding=(("102", box),)))
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")
    out = drv.advance(5.5)  # forward-no-answer's time, not the mailbox's
    assert any(isinstance(o, Setup) and o.leg == "fxs3" for o in out) and not plays(out)
    drv.send(Release("fxs1"))
    drv.send(Seize("fxs2"))  # busy: forward-busy, not the mailbox
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert any(isinstance(o, Setup) and o.leg == "fxs3" for o in out) and not plays(out)


def test_pin_changed_by_phone(vm: Driver) -> None:
    vm.send(Seize("fxs2"))
    vm.dial("fxs2", "*98")
    vm.advance(5.0)
    vm.dial("fxs2", "1234")
    out = vm.dial("fxs2", "8")
    assert plays(out)[-1] == ("builtin:vm_new_pin",)
    out = vm.dial("fxs2", "24680#")
    assert MailboxEdit("102", "", "pin", "24680") in out
    assert plays(out)[-1] == ("builtin:confirmed", "builtin:vm_menu")
    out = vm.dial("fxs2", "8") + vm.dial("fxs2", "12#")  # too short: refused
    assert not [o for o in out if isinstance(o, MailboxEdit)]
    vm.send(Release("fxs2"))
    vm.send(Seize("fxs2"))
    vm.dial("fxs2", "*98")
    vm.advance(5.0)
    out = vm.dial("fxs2", "1234#")  # the old one no longer opens it
    assert plays(out)[-1] == ("builtin:invalid", "builtin:vm_enter_pin")
    out = vm.dial("fxs2", "24680")
    assert MailboxEdit("102", "", "open") in out
