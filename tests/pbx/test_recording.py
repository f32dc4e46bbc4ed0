"""Call recording in the routing core: which calls are recorded, the on-demand code, the
consent prompt, and the stop at the end of the conversation."""

from __future__ import annotations

import pytest

from firmware.core.errors import ConfigError
from firmware.core.events import (
    Answer,
    Digit,
    Party,
    Play,
    PlayDone,
    Record,
    Release,
    Seize,
    Setup,
)
from firmware.pbx.recpolicy import RecordingPolicy, combine

from .office import Driver, office_plan


@pytest.mark.parametrize(("settings", "mode"), [
    ((), "never"),
    (("", ""), "never"),
    (("on_demand",), "on_demand"),
    (("on_demand", "always"), "always"),
    (("always", "never"), "never"),
    (("never", "on_demand", "always"), "never"),
    (("", "always"), "always"),
])
def test_settings_combine_never_then_always_then_on_demand(settings: tuple[str, ...],
                                                           mode: str) -> None:
    assert combine(settings) == mode


def test_policy_counts_lines_trunk_did_and_groups() -> None:
    policy = RecordingPolicy(extensions=(("fxs1", "on_demand"),), trunks=(("itsp", "always"),),
                             inbound=(("5550100", "never"), ("*", "on_demand")),
                             groups=(("sales", "always"),))
    assert policy.mode(lines=["fxs1", "fxs2"]) == "on_demand"
    assert policy.mode(lines=["fxs2", "fxs3"]) == "never"  # nothing set
    assert policy.mode(lines=["fxs1"], trunk="itsp") == "always"
    assert policy.mode(lines=["fxs1"], trunk="itsp", did="5550100") == "never"
    assert policy.mode(lines=["fxs2"], did="5559999") == "on_demand"  # the * route
    assert policy.mode(lines=["fxs2"], groups=["sales"]) == "always"
    assert policy.records_anything
    assert not RecordingPolicy(extensions=(("fxs1", "never"),)).records_anything


def test_bad_policy_names_the_party() -> None:
    with pytest.raises(ConfigError, match="trunk 'itsp'"):
        RecordingPolicy(trunks=(("itsp", "sometimes"),))
    with pytest.raises(ConfigError, match="toggle code '\\*x'"):
        RecordingPolicy(toggle="*x")


def _internal_call(drv: Driver) -> None:
    """fxs1 (101) calls fxs2 (102), which answers."""
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")
    drv.send(Answer("fxs2"))


def _records(out: list[object]) -> list[Record]:
    return [e for e in out if isinstance(e, Record)]


def test_always_records_from_the_answer_to_the_hang_up() -> None:
    drv = Driver(office_plan(recording=RecordingPolicy(extensions=(("fxs2", "always"),))))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert not _records(out)  # ringing is not recorded
    out = drv.send(Answer("fxs2"))
    assert _records(out) == [Record(1, "fxs1", "fxs2", True)]
    out = drv.send(Release("fxs2"))
    assert _records(out) == [Record(1, "fxs1", "fxs2", False)]


def test_never_beats_always() -> None:
    policy = RecordingPolicy(extensions=(("fxs1", "always"), ("fxs2", "never")))
    drv = Driver(office_plan(recording=policy))
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")
    assert not _records(drv.send(Answer("fxs2")))


def test_unset_is_not_recorded_and_the_code_is_just_digits() -> None:
    drv = Driver(office_plan())
    _internal_call(drv)
    assert not _records(drv.dial("fxs1", "*1"))


def test_on_demand_code_starts_and_stops() -> None:
    drv = Driver(office_plan(recording=RecordingPolicy(extensions=(("fxs1", "on_demand"),))))
    _internal_call(drv)
    assert not _records(drv.dial("fxs1", "*"))
    assert _records(drv.dial("fxs1", "1")) == [Record(1, "fxs1", "fxs2", True)]
    # The callee's handset may key it too: it is a line of the box.
    assert _records(drv.dial("fxs2", "*1")) == [Record(1, "fxs1", "fxs2", False)]
    assert _records(drv.dial("fxs1", "*1")) == [Record(1, "fxs1", "fxs2", True)]
    assert _records(drv.send(Release("fxs1"))) == [Record(1, "fxs1", "fxs2", False)]


def test_code_digits_never_reach_a_sip_partner() -> None:
    """fxs2 calls out through the trunk; its on-demand code stays in the box, other
    digits (and a broken code) go out as RFC 4733, in order."""
    drv = Driver(office_plan(recording=RecordingPolicy(trunks=(("itsp", "on_demand"),))))
    drv.send(Seize("fxs2"))
    out = drv.dial("fxs2", "95551234")
    out += drv.advance(4)  # the interdigit timer dials it
    leg = next(e.leg for e in out if isinstance(e, Setup))
    drv.send(Answer(leg))
    out = drv.dial("fxs2", "*1")
    assert [e for e in out if isinstance(e, Digit)] == []
    assert _records(out) == [Record(1, "fxs2", leg, True)]
    out = drv.dial("fxs2", "5*2**1")
    sent = "".join(e.digit for e in out if isinstance(e, Digit))
    assert sent == "5*2*"  # "*2" broke the code; "**1": the first * is released
    assert _records(out) == [Record(1, "fxs2", leg, False)]


def test_sip_caller_cannot_key_the_code() -> None:
    drv = Driver(office_plan(recording=RecordingPolicy(inbound=(("*", "on_demand"),))))
    drv.send(Setup("sip7", "5559999", Party("5551234")))
    drv.send(Answer("fxs2"))
    assert not _records(drv.dial("sip7", "*1"))
    assert _records(drv.dial("fxs2", "*1")) == [Record(1, "sip7", "fxs2", True)]


def test_consent_prompt_plays_to_both_then_recording_starts() -> None:
    policy = RecordingPolicy(extensions=(("fxs1", "always"),),
                             consent=("builtin:recording_notice",))
    drv = Driver(office_plan(recording=policy))
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")
    out = drv.send(Answer("fxs2"))
    assert [e for e in out if isinstance(e, Play)] == [
        Play("fxs1", ("builtin:recording_notice",)),
        Play("fxs2", ("builtin:recording_notice",))]
    assert not _records(out)
    assert _records(drv.send(PlayDone("fxs2"))) == [Record(1, "fxs1", "fxs2", True)]
    assert not _records(drv.send(PlayDone("fxs1")))  # the second end starts nothing more


def test_hang_up_during_consent_stops_the_prompt_and_records_nothing() -> None:
    policy = RecordingPolicy(extensions=(("fxs1", "always"),), consent=("builtin:x",))
    drv = Driver(office_plan(recording=policy))
    _internal_call(drv)
    out = drv.send(Release("fxs2"))
    assert not _records(out)
    assert Play("fxs1", ()) in out


def test_a_group_records_the_calls_its_members_answer() -> None:
    from firmware.pbx.office import Group

    from .office_support import MEMBERS, answer, call_in, driver

    drv = driver(Group("sales", "600", MEMBERS),
                 recording=RecordingPolicy(groups=(("sales", "always"),)))
    call_in(drv)
    assert _records(answer(drv, "fxs3")) == [Record(1, "sip1", "fxs3", True)]
    assert _records(drv.send(Release("sip1"))) == [Record(1, "sip1", "fxs3", False)]


def test_an_ip_phone_records_on_demand_with_the_code() -> None:
    from firmware.pbx.plan import Extension

    from .office import ALICE, BOB, CAROL

    phone = Extension("110", "phone110", "Desk IP", phone=True)
    drv = Driver(office_plan(extensions=(ALICE, BOB, CAROL, phone),
                             recording=RecordingPolicy(extensions=(("phone110", "on_demand"),))))
    drv.send(Setup("phone110", "102", Party("110", "Desk IP")))
    drv.send(Answer("fxs2"))
    assert _records(drv.dial("phone110", "*1")) == [Record(1, "phone110", "fxs2", True)]
