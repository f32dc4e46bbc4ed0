"""The SIP guard: per-address rates on every request, failed authentications, scanners
and growing bans (firmware/sip/guard.py, bans.py, scanners.py)."""

from __future__ import annotations

import logging

import pytest

from firmware.sip.bans import BAN_STEPS_S, FORGET_AFTER_S, BanList
from firmware.sip.guard import FAILED_AUTH_BURST, PER_ADDRESS_BURST, Guard
from firmware.sip.scanners import scanner_in

TRUNK = "192.0.2.10"
STRANGER = "203.0.113.9"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock | None = None) -> Guard:
    return Guard(lambda address: address == TRUNK, clock=clock or Clock())


def test_bans_grow_on_repeat_and_are_forgotten_after_a_clean_day() -> None:
    bans = BanList()
    now = 0.0
    lengths = []
    for _ in range(len(BAN_STEPS_S) + 1):
        ban = bans.ban(STRANGER, "test", now)
        lengths.append(ban.until - ban.since)
        assert bans.banned(STRANGER, ban.until - 0.1)
        assert not bans.banned(STRANGER, ban.until)
        now = ban.until + 10.0
    assert lengths == [*BAN_STEPS_S, BAN_STEPS_S[-1]]
    assert lengths == sorted(lengths)
    fresh = bans.ban(STRANGER, "test", now + 100_000 + FORGET_AFTER_S)
    assert fresh.level == 1 and fresh.until - fresh.since == BAN_STEPS_S[0]


def test_an_active_ban_is_not_lengthened_and_counts_what_it_drops() -> None:
    bans = BanList()
    first = bans.ban(STRANGER, "test", 0.0)
    assert bans.ban(STRANGER, "again", 10.0) is first
    assert [bans.banned(STRANGER, 20.0) for _ in range(3)] == [True] * 3
    assert first.dropped == 3 and bans.dropped == 3


def test_the_ban_table_is_bounded() -> None:
    bans = BanList(max_addresses=10)
    for i in range(50):
        bans.ban(f"198.51.100.{i}", "test", float(i))
    assert len(bans.active(50.0)) == 10
    assert bans.banned("198.51.100.49", 50.0)


def test_a_stranger_over_its_rate_is_banned_and_then_dropped() -> None:
    g = guard()
    verdicts = [g.request(STRANGER, 0.0) for _ in range(int(PER_ADDRESS_BURST) + 1)]
    assert verdicts[:-1] == ["pass"] * int(PER_ADDRESS_BURST)
    assert verdicts[-1] == "drop"
    assert g.banned(STRANGER, 1.0)
    assert not g.banned(STRANGER, BAN_STEPS_S[0] + 1.0)
    assert g.counts["over_rate"] == 1


def test_a_trunk_over_its_rate_gets_busy_never_a_ban(caplog: pytest.LogCaptureFixture) -> None:
    g = guard()
    with caplog.at_level(logging.WARNING, "firmware.sip.guard"):
        verdicts = [g.request(TRUNK, 0.0) for _ in range(1000)]
    assert verdicts.count("busy") == 1000 - PER_ADDRESS_BURST
    assert not g.banned(TRUNK, 0.0) and g.bans() == []
    assert len(caplog.records) == 1  # once a minute, not once a request
    assert g.request(TRUNK, 1.0) == "pass"  # refilled


def test_failed_authentications_ban_after_the_burst() -> None:
    g = guard()
    banned = [g.auth_failed(STRANGER, float(i)) for i in range(int(FAILED_AUTH_BURST) + 1)]
    assert banned == [False] * int(FAILED_AUTH_BURST) + [True]
    assert "failed authentications" in g.bans()[0]["reason"]
    assert not any(g.auth_failed(TRUNK, 0.0) for _ in range(100))


def test_a_scanner_is_banned_but_a_trunk_naming_one_is_not() -> None:
    g = guard()
    g.scanner(STRANGER, "friendly-scanner", 0.0)
    g.scanner(TRUNK, "friendly-scanner", 0.0)
    assert [b["address"] for b in g.bans()] == [STRANGER]
    assert g.counts["scanner"] == 2


def test_unban_lifts_and_forgets_the_history() -> None:
    clock = Clock()
    g = guard(clock)
    g.ban_list.ban(STRANGER, "test", clock.now)
    clock.now += BAN_STEPS_S[0] + 1
    g.ban_list.ban(STRANGER, "test", clock.now)  # the second, longer
    assert g.bans()[0]["ban"] == 2
    lifted = g.unban(STRANGER)
    assert lifted is not None and lifted["address"] == STRANGER
    assert g.bans() == [] and not g.banned(STRANGER, clock.now)
    assert g.unban(STRANGER) is None
    assert g.ban_list.ban(STRANGER, "test", clock.now).level == 1


def test_status_lists_bans_with_time_left() -> None:
    clock = Clock()
    g = guard(clock)
    g.scanner(STRANGER, "sipvicious", clock.now)
    clock.now += 15
    status = g.status()
    assert status["bans_given"] == 1
    [ban] = status["bans"]  # type: ignore[misc]
    assert ban["left_s"] == BAN_STEPS_S[0] - 15 and ban["for_s"] == BAN_STEPS_S[0]


@pytest.mark.parametrize("agent", ["friendly-scanner", "sipvicious", "SIPVicious 0.3.4",
                                   "sipcli/v1.8", "VaxSIPUserAgent/3.1", "sundayddr", "iWar",
                                   "SIPScan", "pplsip"])
def test_scanner_user_agents_are_known_in_any_case(agent: str) -> None:
    head = (f"OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n"
            f"User-Agent: {agent}\r\nCall-ID: x\r\n\r\n").encode()
    assert scanner_in(head) is not None


def test_ordinary_user_agents_and_other_headers_are_not_scanners() -> None:
    for agent in ("Asterisk PBX 20.1", "Grandstream HT802", "sipp", "minipbx", "Linphone"):
        head = f"INVITE sip:1@h SIP/2.0\r\nUser-Agent: {agent}\r\n\r\n".encode()
        assert scanner_in(head) is None, agent
    # The name elsewhere (a display name, the body) is not the User-Agent.
    head = b'INVITE sip:1@h SIP/2.0\r\nFrom: "friendly-scanner" <sip:a@b>\r\n\r\n'
    assert scanner_in(head) is None


def test_status_text_lists_bans_with_the_way_to_lift_them() -> None:
    from firmware.app.status_text import format_status

    clock = Clock()
    g = guard(clock)
    g.scanner(STRANGER, "sipvicious", clock.now)
    clock.now += 75.0
    g.scanner(STRANGER, "sipvicious", clock.now)  # the second ban: 5 min
    clock.now += 10.0
    text = format_status({"sip": {"guard": g.status()}})
    assert "SIP bans (0 requests dropped; `minipbx sip unban ADDRESS` lifts one):" in text
    assert (f"  {STRANGER:<39} ban 2, 4 min 50 s left of 5 min: scanner User-Agent "
            "'sipvicious' (0 requests dropped)") in text
    assert "SIP bans" not in format_status({"sip": {"guard": guard().status()}})
