"""Who may use a trunk, through the real daemon and a real trunk (sipp): a port's permission
class stops international and premium numbers with congestion tone and a DENIED record
before any INVITE leaves; a call from a trunk to a DID that looks like an outside number
never goes back out; a trunk's max_calls refuses the call over the limit."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest

from firmware.dsp.dtmf import generate_dtmf
from tests.e2e.faults_support import records
from tests.e2e.harness import Daemon, tones_in
from tests.e2e.peers import Peers, Sipp, box_config, trunk_to, uri_user

pytestmark = pytest.mark.slow


def record_for(box: Daemon, number: str) -> dict[str, Any]:
    found: dict[str, Any] = box.wait_for(
        f"the record of the call to {number}",
        lambda: next((r for r in records(box) if r["called_number"] == number), None))
    return found


def invites(sipp: Sipp) -> list[str]:
    return [uri_user(m.request_uri) or "" for m in sipp.received("INVITE")]


def dial_out(box: Daemon, port: int, digits: str) -> None:
    box.phone(port, "offhook")
    box.dial(port, digits + "#")


def hang_up(box: Daemon, port: int) -> None:
    """On-hook until the exchange has the line idle (a short on-hook would be a flash)."""
    box.phone(port, "onhook")
    box.wait_for(f"phone {port} idle", lambda: box.port(f"fxs{port}")["exchange_state"] == "idle")


def connected(box: Daemon, leg: str) -> bool:
    return bool(box.port(leg)["exchange_state"] == "connected")


def box_with_did(daemon_factory: Callable[..., Daemon], peers: Peers) -> tuple[Sipp, Daemon]:
    """A trunk "far" (a sipp that answers) behind the route 9x., the DID 5551000 ringing
    101, and 101 (fxs1) of class premium: it may call anything, so only the origin rule
    can keep a call from outside in."""
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        inbound=[{"did": "5551000", "extension": "101"}],
        fxs=[{"port": 1, "extension": "101", "permission": "premium"}]))
    return uas, box


def test_permission_classes_stop_calls_before_the_trunk(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """fxs1 has the default class (national), fxs2 international: fxs1 calling abroad and
    fxs2 calling a 1-900 number hear congestion and leave DENIED records; the trunk gets one
    INVITE only, fxs2's call abroad that was allowed."""
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        fxs=[{"port": 1, "extension": "101"},
             {"port": 2, "extension": "102", "permission": "international"}]))

    dial_out(box, 1, "9011442079460000")
    assert "congestion" in tones_in(box.hear(1, 1.5))
    record = record_for(box, "9011442079460000")
    assert record["status"] == "DENIED" and record["cause"] == 52
    assert record["reason"] == ("denied: class international needs permission international, "
                                "port fxs1 has national")
    assert "denied: class international" in box.log()

    dial_out(box, 2, "919005551234")
    assert "congestion" in tones_in(box.hear(2, 1.5))
    assert record_for(box, "919005551234")["reason"] == (
        "denied: class premium needs permission premium, port fxs2 has international")

    hang_up(box, 2)
    dial_out(box, 2, "9011442079460000")
    box.wait_for("the allowed call abroad", lambda: connected(box, "fxs2"), timeout=15)
    assert invites(uas) == ["011442079460000"]
    box.phone(2, "onhook")
    assert uas.wait(15) == 0, uas.describe()


def test_a_call_from_the_trunk_cannot_leave_again(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """The trunk calls in for a DID that matches the outbound route (9 + an international
    number): no inbound route has it, so the call is refused with 404 and the trunk side
    (a second sipp, the route's trunk) never gets an INVITE."""
    uas, box = box_with_did(daemon_factory, peers)
    refused = peers.scenario("uac_refused", From="<sip:5557777@127.0.0.1>", code=404)
    for did in ("9011442079460000", "011442079460000"):
        uac = peers.sipp_uac(f"127.0.0.1:{box.sip_port}", did, refused)
        assert uac.wait(25) == 0, uac.describe()
        assert uac.received(404)
        record = record_for(box, did)
        assert record["status"] == "CONGESTION" and record["callee_leg"] is None
    assert not box.port("fxs1")["ringing"]
    assert invites(uas) == []
    # The trunk itself works: the handset (class premium) reaches it.
    dial_out(box, 1, "95551234")
    box.wait_for("the call out", lambda: connected(box, "fxs1"), timeout=15)
    assert invites(uas) == ["5551234"]
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()


def test_trunk_max_calls(daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0), calls=2)
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port, max_calls=1)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}]))
    dial_out(box, 1, "95551234")
    box.wait_for("the first call out", lambda: connected(box, "fxs1"), timeout=15)
    assert box.call("status")["outbound"]["calls_out"] == {"far": 1}
    dial_out(box, 2, "95554321")
    assert "congestion" in tones_in(box.hear(2, 1.5))
    record = record_for(box, "95554321")
    assert record["status"] == "CONGESTION" and record["cause"] == 34
    assert record["reason"] == "trunk far is full (1 calls, max_calls 1)"
    assert invites(uas) == ["5551234"]
    box.phone(1, "onhook")
    box.phone(2, "onhook")


def test_a_committed_permission_and_spending_limit_apply_live(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """The new keys go through staged config and live apply (the dial plan is rebuilt):
    after `config set fxs.1.permission international` and a commit, the same number goes
    out; the spending limit shows in status."""
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}]))
    dial_out(box, 1, "9011442079460000")
    assert "congestion" in tones_in(box.hear(1, 1.5))
    assert record_for(box, "9011442079460000")["status"] == "DENIED"
    hang_up(box, 1)

    box.call("config.set", path="fxs.1.permission", value="international")
    box.call("config.set", path="box.max_international_minutes_per_hour", value="90")
    result = box.call("config.commit", message="reception may call abroad")
    assert result["restart_needed"] == [], result
    guard = box.call("status")["outbound"]
    assert guard["max_international_minutes_per_hour"] == 90
    assert guard["international_blocked"] is False

    dial_out(box, 1, "9011442079460000")
    box.wait_for("the call abroad", lambda: connected(box, "fxs1"), timeout=15)
    assert invites(uas) == ["011442079460000"]
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()


def test_digits_from_a_trunk_caller_after_answer_dial_nothing(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """A caller from the trunk, answered by a handset, sends 9 0 1 4 7 # as RFC 4733
    events (as if dialling out through the box): the call stays as it is, no call is
    placed, the route's trunk gets no INVITE."""
    uas, box = box_with_did(daemon_factory, peers)
    scenario = peers.scenario("uac_digits", From="<sip:5557777@127.0.0.1>", headers="",
                              answer_timeout_ms=15000, hold_ms=3000)
    uac = peers.sipp_uac(f"127.0.0.1:{box.sip_port}", "5551000", scenario)
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    box.phone(1, "offhook")
    box.wait_for("the call in", lambda: connected(box, "fxs1"), timeout=10)
    assert uac.wait(30) == 0, uac.describe()
    # The box got the digits (6 of them), and they dialled nothing.
    assert box.log().count("(rfc4733) from") == 6, box.log()[-3000:]
    assert len(box.call("status")["calls"]) <= 1
    assert invites(uas) == []
    record = record_for(box, "5551000")
    assert record["status"] == "ANSWERED" and record["trunk"] is None
    box.phone(1, "onhook")


def test_a_pstn_caller_cannot_dial_out_through_the_box(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """A call in on the PSTN line, answered, whose caller keys 9 011 44... as DTMF tones:
    no call is placed, the SIP trunk gets no INVITE, the line call goes on."""
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port)],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
        fxs=[{"port": 1, "extension": "101", "permission": "premium"}])
        + '\n[[fxo]]\nport = 1\nextension = "101"\n')
    box.call("sim.line.ring", port=1, cid_number="5557777", cid_name="Mallory")
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=12)
    box.phone(1, "offhook")
    box.wait_for("the line call", lambda: box.port("fxs1")["with"] == "fxo1")
    tones = generate_dtmf("9011442079460000#", on_ms=80, off_ms=80)
    box.call("sim.line.play", port=1, pcm=base64.b64encode(tones.astype("<i2").tobytes())
             .decode())
    time.sleep(len(tones) / 8000 + 4.5)  # the tones, then longer than the interdigit timer
    assert box.port("fxs1")["with"] == "fxo1"
    assert len(box.call("status")["calls"]) == 1
    assert invites(uas) == []
    box.call("sim.line.hangup", port=1)
    box.wait_for("the line released", lambda: not box.port("fxo1")["seized"], timeout=10)
    box.phone(1, "onhook")
