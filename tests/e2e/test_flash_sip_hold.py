"""Hold by hook flash toward a SIP partner (issue 11): a handset in a call out through a
trunk to sipp flashes; the box re-INVITEs the call with a=sendonly (sipp answers
recvonly) and keeps sending the hold music; a flash back re-INVITEs it to sendrecv."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to

pytestmark = pytest.mark.slow


def test_flash_holds_a_sip_partner_by_reinvite(daemon_factory: Callable[..., Daemon],
                                                peers: Peers) -> None:
    uas, port = peers.sipp_uas(peers.scenario("uas_hold"))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}]))
    box.phone(1, "offhook")
    box.dial(1, "95551234#")
    box.wait_for("the trunk call to connect",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=15)
    box.phone(1, "flash")  # hold: stutter dial tone here, re-INVITE sendonly there
    invites = box.wait_for("the hold re-INVITE",
                           lambda: len(x := uas.received("INVITE")) >= 2 and x, timeout=10)
    assert "a=sendonly" in invites[1].body, invites[1]
    time.sleep(1.0)
    box.phone(1, "flash")  # nothing dialled: back to the held party
    invites = box.wait_for("the resume re-INVITE",
                           lambda: len(x := uas.received("INVITE")) >= 3 and x, timeout=10)
    assert "a=sendonly" not in invites[2].body and "a=inactive" not in invites[2].body, \
        invites[2]
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()
