"""Voicemail of an IP phone (``[[sip_user]] voicemail``), as a handset's
(tests/pbx/test_voicemail.py), on the office plan with the phone Desk 110 (leg phone110)
and its mailbox: busy and unanswered callers leave messages; the phone dials ``*98`` (its
INVITE's number) and keys the menu by RFC 4733 (Digit events of its leg)."""

from __future__ import annotations

from firmware.app.wiring import build_plan
from firmware.config.schema import Config, FxsPort, SipUser
from firmware.core.causes import Cause
from firmware.core.events import (
    Answer,
    Digit,
    MailboxEdit,
    Party,
    PlayDone,
    Release,
    Seize,
    Setup,
    Tone,
)
from firmware.pbx.features import LineFeatures
from firmware.pbx.plan import Extension

from .office import ALICE, BOB, CAROL, Driver, office_plan
from .test_voicemail import messages, plays

DESK = Extension("110", "phone110", "Desk IP", phone=True)


def desk(**settings: object) -> Driver:
    features = LineFeatures(**{"call_waiting": False, "voicemail": True,  # type: ignore[arg-type]
                               "voicemail_after_s": 10.0, **settings})
    return Driver(office_plan(extensions=(ALICE, BOB, CAROL, DESK),
                              forwarding=(("110", features),)))


def phone_dials(drv: Driver, number: str) -> list[object]:
    return list(drv.send(Setup("phone110", number, Party("110", "Desk IP"))))


def keys(drv: Driver, digits: str) -> list[object]:
    out: list[object] = []
    for digit in digits:
        out += drv.send(Digit("phone110", digit))
    return out


def test_no_answer_at_the_phone_leaves_a_message() -> None:
    drv = desk()
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "110")
    assert any(isinstance(o, Setup) and o.leg == "phone110" for o in out)
    assert drv.advance(9.0) == []
    out = drv.advance(1.5)  # voicemail_after_s: the phone stops ringing, the box answers
    assert Release("phone110", Cause.NO_ANSWER) in out
    assert plays(out) == [("builtin:vm_extension", "digits:110", "builtin:vm_unavailable",
                           "builtin:beep")]
    [start] = messages(drv.send(PlayDone("fxs1")))
    assert start.on and start.mailbox == "110" and start.leg == "fxs1"
    [stop] = messages(drv.send(Release("fxs1")))
    assert not stop.on
    record = drv.pbx.take_records()[-1]
    assert "message left in mailbox 110" in record.reason


def test_a_phone_in_a_call_sends_callers_to_its_mailbox() -> None:
    drv = desk()
    phone_dials(drv, "102")
    drv.send(Answer("fxs2"))
    drv.send(Seize("fxs3"))
    out = drv.dial("fxs3", "110")
    assert not any(isinstance(o, Setup) for o in out)
    assert plays(out)[0][0] == "builtin:vm_extension"


def test_do_not_disturb_with_a_mailbox_sends_callers_there() -> None:
    drv = desk(dnd=True)
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "110")
    assert not any(isinstance(o, Setup) for o in out)
    assert plays(out)[0][0] == "builtin:vm_extension"


def test_the_phone_dials_star98_and_keys_the_menu() -> None:
    drv = desk()  # no PIN: the owner's own phone opens it at once
    drv.pbx.set_mailbox("110", ["m1"], [], False)
    out = phone_dials(drv, "*98")
    assert Answer("phone110") in out
    assert not any(isinstance(o, Tone) for o in out)  # no tone into a SIP leg
    assert plays(out)[-1] == ("digits:1", "builtin:vm_new", "digits:0", "builtin:vm_old",
                              "builtin:vm_menu")
    out = keys(drv, "1")
    assert plays(out)[-1] == ("voicemail:110/m1", "builtin:vm_after")
    assert MailboxEdit("110", "m1", "heard") in out
    out = keys(drv, "7")
    assert MailboxEdit("110", "m1", "delete") in out
    drv.send(Release("phone110"))
    assert "mailbox 110 listened to" in drv.pbx.take_records()[-1].reason


def test_a_pin_is_asked_when_set() -> None:
    drv = desk(voicemail_pin="2468")
    out = phone_dials(drv, "*98")
    assert plays(out) == [("builtin:vm_enter_pin",)]
    out = keys(drv, "2468")
    assert MailboxEdit("110", "", "open") in out


def test_star98_without_a_mailbox_refuses_the_phones_call() -> None:
    drv = desk(voicemail=False)
    out = phone_dials(drv, "*98")
    assert Release("phone110", Cause.UNALLOCATED_NUMBER) in out
    assert not any(isinstance(o, Tone) for o in out)


def test_the_plan_takes_a_sip_users_mailbox_from_the_configuration() -> None:
    config = Config(fxs=(FxsPort(port=1, extension="101"),),
                    sip_user=(SipUser(extension="110", password="secret-110",
                                      voicemail=True, voicemail_pin="0042",
                                      voicemail_after_s=9.0, voicemail_max_s=30.0,
                                      voicemail_greeting="say:en:Desk is out"),))
    features = build_plan(config).feature_defaults("110")
    assert (features.voicemail, features.voicemail_pin, features.voicemail_after_s,
            features.voicemail_max_s, features.voicemail_greeting) == \
        (True, "0042", 9.0, 30.0, "say:en:Desk is out")
