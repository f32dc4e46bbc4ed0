"""Failover through the real daemon: a route's trunks are tried in order for a new call. The
first trunk (sipp) answers 503 Service Unavailable, and the call goes out through the
second (another sipp) or, for a route ending in "fxo1", seizes the simulated PSTN line."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to, uri_user
from tests.e2e.test_tollguard import dial_out, record_for

pytestmark = pytest.mark.slow

FXO = '\n[[fxo]]\nport = 1\nextension = "101"\n'


def test_503_from_the_first_trunk_goes_out_through_the_second(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    down, down_port = peers.sipp_uas(
        peers.scenario("uas_refuse", code=503, reason="Service Unavailable"), rtp_echo=False)
    up, up_port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("first", down_port), trunk_to("second", up_port)],
        outbound=[{"pattern": "9x.", "trunks": ["first", "second"], "strip": 1}]))
    dial_out(box, 1, "95551234")
    box.wait_for("the call through the second trunk",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=15)
    assert down.wait(15) == 0, down.describe()  # the 503 was sent and ACKed
    assert [uri_user(m.request_uri) for m in down.received("INVITE")] == ["5551234"]
    assert [uri_user(m.request_uri) for m in up.received("INVITE")] == ["5551234"]
    box.phone(1, "onhook")
    assert up.wait(15) == 0, up.describe()
    record = record_for(box, "95551234")
    assert (record["status"], record["trunk"]) == ("ANSWERED", "second")


def test_a_route_ending_in_fxo1_seizes_the_pstn_line(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    down, down_port = peers.sipp_uas(
        peers.scenario("uas_refuse", code=503, reason="Service Unavailable"), rtp_echo=False)
    box = daemon_factory(box_config(
        trunks=[trunk_to("first", down_port)],
        outbound=[{"pattern": "9x.", "trunks": ["first", "fxo1"], "strip": 1}]) + FXO)
    dial_out(box, 2, "95551234")
    box.wait_for("the PSTN line seized", lambda: box.port("fxo1")["seized"], timeout=15)
    assert down.wait(15) == 0, down.describe()
    assert len(down.received("INVITE")) == 1
    assert box.port("fxo1")["exchange_state"] in ("ringing", "connected")
    box.phone(2, "onhook")
    box.wait_for("the line released", lambda: not box.port("fxo1")["seized"], timeout=10)
    record = record_for(box, "95551234")
    assert record["trunk"] == "fxo1"
    assert "first: NO_CIRCUIT_AVAILABLE" in box.log()


def test_a_trunk_whose_registration_failed_is_skipped(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """The first trunk's registrar refuses the account (403): its registration has failed,
    so a new call does not wait for that provider but goes out through the second at once."""
    closed, closed_port = peers.sipp_uas(peers.scenario("uas_register_refused",
                                                       linger_ms=20000), rtp_echo=False)
    up, up_port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("first", closed_port, register=True, username="5551000",
                         password="x"),
                trunk_to("second", up_port)],
        outbound=[{"pattern": "9x.", "trunks": ["first", "second"], "strip": 1}]))
    box.wait_for("the first trunk's registration to fail", lambda: box.call("status")["sip"]
                 ["trunks"]["first"]["registration"]["state"] == "failed", timeout=15)
    dial_out(box, 1, "95551234")
    box.wait_for("the call through the second trunk",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=15)
    assert closed.received("INVITE") == []
    assert "trunk first is failed; call not sent" in box.log()
    box.phone(1, "onhook")
    assert up.wait(15) == 0, up.describe()
