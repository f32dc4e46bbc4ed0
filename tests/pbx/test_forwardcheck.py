"""The checks of a forwarding change from the web page or the API
(firmware/pbx/forwardcheck.py), on the office plan: Alice 101 (national), Bob 102
(international), Carol 103, group sales 600, trunk itsp behind 9 and 00."""

from __future__ import annotations

from firmware.config.describe import field_info
from firmware.pbx import forwardcheck
from firmware.pbx.features import LineFeatures
from firmware.pbx.office import Group
from firmware.pbx.plan import DialPlan

from .office import office_plan


def plan() -> DialPlan:
    return office_plan(groups=(Group("sales", "600", ("101", "102")),),
                       forwarding=tuple((n, LineFeatures()) for n in ("101", "102", "103")))


def features(**by_ext: LineFeatures) -> dict[str, LineFeatures]:
    out = {n: LineFeatures() for n in ("101", "102", "103")}
    out.update(by_ext)
    return out


def check(ext: str, current: dict[str, LineFeatures] | None = None,
          **submitted: str) -> tuple[dict[str, object], dict[str, str]]:
    return forwardcheck.check(plan(), current or features(), ext, submitted)


def test_targets_to_an_extension_a_group_or_outside_are_taken() -> None:
    values, errors = check("101", forward_always="103", forward_busy="600",
                           forward_no_answer="9 555-0101", forward_after_s="15",
                           dnd="on", call_waiting="false")
    assert errors == {}
    assert values == {"forward_always": "103", "forward_busy": "600",
                      "forward_no_answer": "95550101", "forward_after_s": 15.0,
                      "dnd": True, "call_waiting": False}


def test_empty_switches_a_forward_off() -> None:
    assert check("101", forward_always="") == ({"forward_always": ""}, {})


def test_a_bad_number_is_named_at_its_field() -> None:
    values, errors = check("101", forward_always="10a", forward_busy="103")
    assert values == {}  # nothing changes when any field is wrong
    assert set(errors) == {"forward_always"}
    assert "not a phone number" in errors["forward_always"]
    _, errors = check("101", forward_busy="9" * 40)
    assert "at most 32" in errors["forward_busy"]


def test_a_number_that_leads_nowhere_is_refused() -> None:
    _, errors = check("101", forward_no_answer="555")
    assert "555 leads nowhere" in errors["forward_no_answer"]


def test_a_forward_to_oneself_is_refused() -> None:
    _, errors = check("102", forward_always="102")
    assert "this extension itself" in errors["forward_always"]


def test_a_loop_through_another_extensions_forward_always_is_refused() -> None:
    current = features(**{"103": LineFeatures(forward_always="102")})
    _, errors = check("102", current, forward_always="103")
    assert "loop: 102 → 103 → 102" in errors["forward_always"]
    # Longer: 101 -> 102 -> 103 -> 101.
    current = features(**{"102": LineFeatures(forward_always="103"),
                          "103": LineFeatures(forward_always="101")})
    _, errors = check("101", current, forward_busy="102")
    assert "101 → 102 → 103 → 101" in errors["forward_busy"]
    # Busy and no-answer forwards of the others are not followed; nor a loop elsewhere.
    current = features(**{"103": LineFeatures(forward_busy="102"),
                          "101": LineFeatures(forward_always="103")})
    assert check("102", current, forward_always="103")[1] == {}
    current = features(**{"103": LineFeatures(forward_always="101"),
                          "101": LineFeatures(forward_always="103")})
    assert check("102", current, forward_always="103")[1] == {}


def test_an_outside_number_beyond_the_ports_permission_is_refused() -> None:
    _, errors = check("101", forward_always="004930123456")  # Alice: national
    assert "international number" in errors["forward_always"]
    assert "up to national" in errors["forward_always"]
    assert check("102", forward_always="004930123456")[1] == {}  # Bob may


def test_the_no_answer_time_is_checked_against_the_schemas_range() -> None:
    info = field_info("fxs", "forward_after_s")
    assert info is not None
    assert (info.lo, info.hi) == (forwardcheck.AFTER_MIN_S, forwardcheck.AFTER_MAX_S)
    for bad in ("0.5", "301", "ten", "nan", "inf"):
        _, errors = check("101", forward_after_s=bad)
        assert "forward_after_s" in errors, bad
    assert "from 1 to 300 seconds" in check("101", forward_after_s="0")[1]["forward_after_s"]
    assert check("101", forward_after_s=" 300 ")[0] == {"forward_after_s": 300.0}


def test_switches_take_on_and_off_words_only() -> None:
    assert check("101", dnd="yes", call_waiting="0")[0] == {"dnd": True,
                                                           "call_waiting": False}
    _, errors = check("101", dnd="maybe")
    assert "on or off" in errors["dnd"]


def test_only_forwarding_settings_change_this_way() -> None:
    _, errors = check("101", hotline="102")
    assert "not a forwarding setting" in errors["hotline"]
