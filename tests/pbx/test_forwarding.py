"""Forwarding and do-not-disturb by star codes (firmware/pbx/features.py, forwarding.py),
on the office plan: Alice 101 (fxs1), Bob 102 (fxs2), Carol 103 (fxs3), trunk itsp
behind 9, inbound * to 102."""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import Answer, Bridge, Party, Release, Seize, Setup, Tone
from firmware.pbx.cdr import Disposition
from firmware.pbx.features import FeatureCodes, LineFeatures

from .office import Driver


def code(drv: Driver, leg: str, digits: str) -> list[object]:
    drv.send(Seize(leg))
    out: list[object] = list(drv.dial(leg, digits))
    out += drv.advance(5.0)  # the interdigit timeout ends a code with a number
    drv.send(Release(leg))
    return out


def setups(out: list[object]) -> list[tuple[str, str]]:
    return [(o.leg, o.called) for o in out if isinstance(o, Setup)]


def test_forward_always_by_star_code_and_stutter_dial_tone(drv: Driver) -> None:
    out = code(drv, "fxs2", "*72103")
    assert Tone("fxs2", "stutter") in out  # the confirmation
    assert drv.pbx.line_features()["102"].forward_always == "103"
    assert drv.pbx.take_features_changed() and not drv.pbx.take_features_changed()
    assert drv.send(Seize("fxs2")) == [Tone("fxs2", "stutter")]  # reminder
    drv.send(Release("fxs2"))
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert setups(out) == [("fxs3", "103")]
    assert next(o for o in out if isinstance(o, Setup)).caller.number == "101"
    drv.send(Release("fxs1"))
    code(drv, "fxs2", "*73")
    assert drv.pbx.line_features()["102"].forward_always == ""
    assert drv.send(Seize("fxs2")) == [Tone("fxs2", "dial")]


def test_do_not_disturb_gives_busy(drv: Driver) -> None:
    code(drv, "fxs2", "*78")
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert Tone("fxs1", "busy") in out and not setups(out)
    record = drv.pbx.take_records()[-1]
    assert record.disposition is Disposition.BUSY and "do not disturb" in record.reason


def test_forward_busy_only_when_busy(drv: Driver) -> None:
    code(drv, "fxs2", "*90103")
    drv.send(Seize("fxs1"))
    assert setups(drv.dial("fxs1", "102")) == [("fxs2", "102")]  # idle: Bob rings
    drv.send(Release("fxs1"))
    drv.send(Seize("fxs2"))  # Bob off-hook: busy
    drv.send(Seize("fxs1"))
    assert setups(drv.dial("fxs1", "102")) == [("fxs3", "103")]


def test_forward_no_answer_after_its_time(drv: Driver) -> None:
    code(drv, "fxs2", "*92103")
    drv.pbx.line_features()["102"].forward_after_s = 12.0
    drv.send(Seize("fxs1"))
    assert setups(drv.dial("fxs1", "102")) == [("fxs2", "102")]
    assert drv.advance(11.9) == []
    out = drv.advance(0.1)
    assert Release("fxs2", Cause.NO_ANSWER) in out
    assert setups(out) == [("fxs3", "103")]
    out = drv.send(Answer("fxs3"))
    assert any(getattr(o, "b", None) == "fxs3" for o in out)  # bridged to Alice


def test_a_trunk_caller_forwarded_out_uses_the_extensions_permission(drv: Driver) -> None:
    code(drv, "fxs2", "*7295551234")
    out = drv.send(Setup("sip1", "5559999", Party("5557777"), trunk="itsp"))  # * -> 102
    placed = [o for o in out if isinstance(o, Setup)]
    assert [(o.called, o.trunk) for o in placed] == [("5551234", "itsp")]
    assert placed[0].caller.number == "5557777"


def test_a_forwarding_loop_ends(drv: Driver) -> None:
    code(drv, "fxs2", "*72103")
    code(drv, "fxs3", "*72102")
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "102")
    assert len(setups(out)) == 1  # after MAX_HOPS forwards someone simply rings


def test_a_code_to_oneself_or_nowhere_is_refused(drv: Driver) -> None:
    assert Tone("fxs2", "congestion") in code(drv, "fxs2", "*72102")
    assert Tone("fxs2", "congestion") in code(drv, "fxs2", "*72555")
    assert drv.pbx.line_features().get("102") is None or \
        drv.pbx.line_features()["102"].forward_always == ""


def test_code_meanings() -> None:
    codes = FeatureCodes()
    assert codes.meaning("*72103") == ("forward_always", "103")
    assert codes.meaning("*72") is None
    assert codes.meaning("*73") == ("forward_always", "")
    assert codes.meaning("*78") == ("dnd", "on")
    assert codes.meaning("*79") == ("dnd", "")
    assert codes.meaning("*7912") is None
    assert codes.meaning("101") is None


def line(**settings: object) -> LineFeatures:
    return LineFeatures(**settings)  # type: ignore[arg-type]


def test_hide_number_for_one_call_and_per_port(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "*67102") + drv.advance(5.0)
    [ring] = [o for o in out if isinstance(o, Setup)]
    assert (ring.leg, ring.caller.presentation) == ("fxs2", "restricted")
    drv.send(Release("fxs1"))
    drv.send(Release("fxs2"))
    drv.advance(1.0)
    drv.pbx.set_features({"101": line(caller_id_block=True)})
    drv.send(Seize("fxs1"))
    [ring] = [o for o in drv.dial("fxs1", "103") if isinstance(o, Setup)]
    assert ring.caller.presentation == "restricted"


def test_anonymous_callers_are_refused_where_asked(drv: Driver) -> None:
    drv.pbx.set_features({"102": line(reject_anonymous=True)})
    out = drv.send(Setup("sip1", "5559999", Party(None, None, "restricted"), trunk="itsp"))
    assert Release("sip1", Cause.CALL_REJECTED) in out and not setups(out)
    out = drv.send(Setup("sip2", "5559999", Party("5557777"), trunk="itsp"))
    assert setups(out) == [("fxs2", "5559999")]


def test_hotline_dials_at_once_and_warm_line_after_its_wait(drv: Driver) -> None:
    drv.pbx.set_features({"101": line(hotline="103"), "102": line(hotline="103",
                                                                  warmline_s=4.0)})
    out = drv.send(Seize("fxs1"))
    assert Tone("fxs1", "dial") not in out and setups(out) == [("fxs3", "103")]
    drv.send(Release("fxs1"))
    out = drv.send(Seize("fxs2"))
    assert Tone("fxs2", "dial") in out and not setups(out)
    assert drv.advance(3.9) == []
    assert setups(drv.advance(0.1)) == [("fxs3", "103")]
    drv.send(Release("fxs2"))
    # A key before the wait: the warm line dials what is keyed instead.
    drv.advance(1.0)
    drv.send(Seize("fxs2"))
    assert setups(drv.dial("fxs2", "101")) == [("fxs1", "101")]


def test_group_and_directed_pickup(drv: Driver) -> None:
    drv.send(Seize("fxs1"))
    drv.dial("fxs1", "102")  # 102 rings
    drv.send(Seize("fxs3"))
    out = drv.dial("fxs3", "*8")
    assert Release("fxs2", Cause.NORMAL_CLEARING) in out  # 102 stops ringing
    assert any(isinstance(o, Bridge) and {o.a, o.b} == {"fxs1", "fxs3"} for o in out), out
    assert drv.pbx.leg_state("fxs3") == drv.pbx.leg_state("fxs1") == "connected"
    drv.send(Release("fxs1"))
    drv.send(Release("fxs3"))
    drv.advance(1.0)
    out = drv.send(Setup("sip1", "5559999", Party("5557777"), trunk="itsp"))  # 102 rings
    drv.send(Seize("fxs1"))
    out = drv.dial("fxs1", "**102") + drv.advance(5.0)
    assert Answer("sip1") in out  # the SIP caller is answered by the picker
    assert drv.pbx.leg_state("fxs1") == "connected"
    records = drv.pbx.take_records()
    assert not any(r.caller_leg == "fxs3" and r.called_number == "*8" for r in records)


def test_pickup_with_nothing_ringing_gives_congestion(drv: Driver) -> None:
    drv.send(Seize("fxs3"))
    assert Tone("fxs3", "congestion") in drv.dial("fxs3", "*8")
