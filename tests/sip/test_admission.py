"""The rules that pick which new INVITEs reach pjsua (firmware/sip/admission.py)."""

from __future__ import annotations

import logging
import re

import pytest

from firmware.sip.admission import (
    PER_SOURCE_BURST,
    TOTAL_BURST,
    Admission,
    Refusal,
    TokenBucket,
    parse_networks,
)

TRUNK = {"provider": parse_networks(["192.0.2.10", "198.51.100.0/24"])}


def admission() -> Admission:
    a = Admission()
    a.set_sources(TRUNK)
    return a


def test_only_a_trunks_addresses_may_call_in() -> None:
    a = admission()
    assert a.decide("192.0.2.10", 0, 4, 0.0) is None
    assert a.decide("198.51.100.77", 0, 4, 0.0) is None
    assert a.decide("192.0.2.11", 0, 4, 0.0) == Refusal(403, "source")
    assert a.decide("not an address", 0, 4, 0.0) == Refusal(403, "source")
    assert a.trunk_for("198.51.100.1") == "provider"
    assert a.counts == {"admitted": 2, "source": 2, "capacity": 0, "rate": 0}


def test_no_trunks_means_no_calls_from_the_network() -> None:
    assert Admission().decide("127.0.0.1", 0, 4, 0.0) == Refusal(403, "source")


def test_full_call_slots_refuse_with_503_before_the_rate_is_spent() -> None:
    a = admission()
    assert a.decide("192.0.2.10", 4, 4, 0.0) == Refusal(503, "capacity")
    assert a.counts["capacity"] == 1


def test_a_burst_from_one_address_is_cut_to_its_bucket_and_refills() -> None:
    a = admission()
    taken = sum(a.decide("192.0.2.10", 0, 4, 0.0) is None for _ in range(100))
    assert taken == PER_SOURCE_BURST
    assert a.decide("192.0.2.10", 0, 4, 0.0) == Refusal(503, "rate")
    assert a.decide("192.0.2.10", 0, 4, 1.0) is None  # a second later: ten more tokens


def test_all_addresses_together_share_the_total_bucket() -> None:
    a = admission()
    taken = sum(a.decide(f"198.51.100.{i}", 0, 4, 0.0) is None for i in range(1, 101))
    assert taken == TOTAL_BURST


def test_refusals_are_logged_once_a_minute_per_address_and_reason(
        caplog: pytest.LogCaptureFixture) -> None:
    a = admission()
    with caplog.at_level(logging.WARNING, "firmware.sip.admission"):
        for i in range(500):
            a.decide("203.0.113.9", 0, 4, i * 0.01)
        a.decide("203.0.113.9", 0, 4, 61.0)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "203.0.113.9" in lines[0] and "403" in lines[0] and "allow list" in lines[0]
    assert lines[1].startswith("refused 500 new call(s)"), lines[1]


def test_token_bucket_never_exceeds_its_burst() -> None:
    b = TokenBucket(rate=10, burst=3)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert [b.take(100.0) for _ in range(4)] == [True, True, True, False]


def test_bad_network_names_the_entry() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300' is not an IP address or network")):
        parse_networks(["10.0.0.0/8", "10.0.0.300"])
