"""A group's queue and office hours on the simulated board with sipp callers.

Queue: with its one member busy, a second caller is answered and waits (music), hears
their place again after announce_every_s, and rings the member as soon as the member is
free again. Office hours: a route's to/closed_to
follow a [[schedule]] at the box's own clock, and MINIPBX_CLOCK_SHIFT_S moves that clock
(the daemon's seam for this test) to the other side of the hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, Sipp, box_config, trunk_to
from tests.e2e.test_office_group import PHONES, ringing, table

pytestmark = pytest.mark.slow


def call(peers: Peers, box: Daemon, did: str, hold_ms: int) -> Sipp:
    return peers.sipp_uac(f"127.0.0.1:{box.sip_port}", did, peers.scenario(
        "uac_call", From='"Caller" <sip:5557777@127.0.0.1>', headers="",
        answer_timeout_ms=30000, hold_ms=hold_ms))


def test_a_queued_caller_is_answered_and_rings_the_member_when_free(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    config = box_config(trunks=[trunk_to("provider", 5060)], fxs=PHONES,
                        inbound=[{"did": "5551000", "to": "group:sales"}])
    config += "\n" + table("group", {"name": "sales", "members": ["102"], "queue": True,
                                     "announce_position": True, "announce_every_s": 15.0,
                                     "max_wait_s": 60.0})
    box = daemon_factory(config)
    first = call(peers, box, "5551000", hold_ms=1500)
    box.wait_for("member 102 to ring", lambda: ringing(box) == {2}, timeout=15)
    second = call(peers, box, "5551000", hold_ms=30000)
    box.wait_for("the second caller answered by the queue", lambda: second.received(200),
                 timeout=10)
    states = {c["state"] for c in box.call("status")["calls"]}
    assert "queued" in states, states
    # Waiting 15 s, the caller hears their place again (the music stops for it).
    box.wait_for("the position told again", lambda: "still queued for group sales,"
                 " position 1" in box.log(), timeout=20)
    assert "cannot play builtin:position" not in box.log()
    box.phone(2, "offhook")
    box.wait_for("200 OK at the first caller", lambda: first.received(200), timeout=10)
    assert first.wait(20) == 0, first.describe()  # the first caller hangs up
    box.phone(2, "onhook")
    box.wait_for("member 102 to ring for the queue", lambda: ringing(box) == {2}, timeout=10)
    box.phone(2, "offhook")
    box.wait_for("the queued caller to be connected",
                 lambda: box.port("fxs2")["exchange_state"] == "connected", timeout=5)
    assert box.port("fxs2")["with"], box.port("fxs2")
    box.phone(2, "onhook")  # the box hangs up on the queued caller (sipp: BYE unexpected)
    box.wait_for("the calls to end", lambda: not box.call("status")["calls"], timeout=10)


def hours_around(hours_from_now: float) -> str:
    """A one-hour-each-way range around now + ``hours_from_now`` (UTC), within its day."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours_from_now)
    minute = at.hour * 60 + at.minute
    start, end = max(0, minute - 60), min(24 * 60, minute + 60)
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def hours_box(daemon_factory: Callable[..., Daemon], shift_s: float) -> Daemon:
    config = box_config(trunks=[trunk_to("provider", 5060)], fxs=PHONES, inbound=[
        {"did": "5551000", "to": "ext:102", "closed_to": "ext:103", "schedule": "office"}])
    config += "\n" + table("schedule", {
        "name": "office", "weekdays": ["mon-sun"], "hours": hours_around(0),
        "timezone": "UTC"})
    return daemon_factory(config, env={"MINIPBX_CLOCK_SHIFT_S": str(shift_s)})


@pytest.mark.parametrize(("shift_s", "port"), [(0.0, 2), (12 * 3600.0, 3)])
def test_office_hours_choose_to_or_closed_to(daemon_factory: Callable[..., Daemon],
                                             peers: Peers, shift_s: float, port: int) -> None:
    box = hours_box(daemon_factory, shift_s)
    sipp = call(peers, box, "5551000", hold_ms=500)
    box.wait_for(f"phone {port} to ring", lambda: ringing(box) == {port}, timeout=15)
    box.phone(port, "offhook")
    assert sipp.wait(20) == 0, sipp.describe()
