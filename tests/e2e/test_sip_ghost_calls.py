"""Only a trunk's addresses may ring the office's phones ("ghost calls" defect).

The trunk is at 127.0.0.2; an INVITE for its DID from 127.0.0.3 gets 403 and rings
nothing, the same INVITE from 127.0.0.2 rings phone 1, and an address in the trunk's
``allow`` list may call in too. A box with no trunks takes no call from the network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon, free_port
from tests.e2e.peers import Peers, Sipp, box_config, trunk_to

pytestmark = pytest.mark.slow

DID = "5551000"



def call_from(peers: Peers, box: Daemon, address: str, scenario: Path) -> Sipp:
    return peers.sipp([
        "-sf", str(scenario), f"127.0.0.1:{box.sip_port}", "-s", DID, "-i", address,
        "-p", str(free_port()), "-m", "1", "-timeout", "20s"], name="sipp-uac")


def test_stranger_gets_403_and_rings_nothing_the_trunk_rings(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    trunk = trunk_to("provider", 5060) | {"host": "127.0.0.2", "allow": ["127.0.0.4/32"]}
    box = daemon_factory(box_config(trunks=[trunk],
                                    inbound=[{"did": DID, "extension": "101"}]))
    refused = peers.scenario("uac_refused", From="<sip:5557777@127.0.0.3>", code=403)
    stranger = call_from(peers, box, "127.0.0.3", refused)
    assert stranger.wait(25) == 0, stranger.describe()
    assert stranger.received(403)
    assert not stranger.received(180) and not stranger.received(100)
    assert not box.port("fxs1")["ringing"]
    assert box.call("status")["sip"]["screen"]["refused"]["source"] >= 1

    for address in ("127.0.0.2", "127.0.0.4"):  # the trunk's host, then its allow list
        ringing = peers.scenario("uac_cancel", From=f"<sip:5557777@{address}>", ring_ms=1500,
                                 headers="")
        sipp = call_from(peers, box, address, ringing)
        box.wait_for(f"phone 1 to ring for {address}", lambda: box.port("fxs1")["ringing"],
                     timeout=10)
        assert sipp.wait(25) == 0, sipp.describe()
        box.wait_for("the ringing to stop", lambda: not box.port("fxs1")["ringing"],
                     timeout=10)


def test_a_box_without_trunks_takes_no_calls_from_the_network(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    box = daemon_factory(box_config(inbound=[{"did": DID, "extension": "101"}]))
    refused = peers.scenario("uac_refused", From="<sip:5557777@127.0.0.1>", code=403)
    sipp = call_from(peers, box, "127.0.0.1", refused)
    assert sipp.wait(25) == 0, sipp.describe()
    assert not box.port("fxs1")["ringing"]
