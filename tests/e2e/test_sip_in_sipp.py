"""Calls from sipp (an independent SIP stack) into the box: the DID picks the extension,
the handset rings and shows the caller's number and name (decoded from the on-hook audio
by the virtual handset), lifting it answers with 200 OK, the caller's BYE ends the call;
an unknown DID gets 404, a busy handset 486, and a CANCEL stops the ringing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.harness import Daemon, tones_in
from tests.e2e.peers import Peers, Sipp, box_config, trunk_to

pytestmark = pytest.mark.slow

DID = "5551000"  # rings extension 101, phone 1



@pytest.fixture
def box(daemon_factory: Callable[..., Daemon]) -> Daemon:
    # sipp calls from 127.0.0.1: the trunk there is what lets it in.
    return daemon_factory(box_config(trunks=[trunk_to("provider", 5060)],
                                     inbound=[{"did": DID, "extension": "101"}]))


def target(box: Daemon) -> str:
    return f"127.0.0.1:{box.sip_port}"


def caller_id(box: Daemon, port: int = 1) -> dict[str, Any]:
    """The caller ID the handset decoded (it comes between the first and second ring)."""
    found: dict[str, Any] = box.wait_for(
        "caller ID on the handset",
        lambda: (s := box.phone_status(port))["caller_id"] and s["caller_id"], timeout=12)
    return found


def got(sipp: Sipp, code: int) -> bool:
    return bool(sipp.received(code))


def test_inbound_call_rings_with_caller_id_answers_and_ends_on_bye(box: Daemon,
                                                                   peers: Peers) -> None:
    sipp = peers.sipp_uac(target(box), DID, peers.scenario(
        "uac_call", From='"Carol" <sip:5557777@127.0.0.1>', headers="",
        answer_timeout_ms=30000, hold_ms=1000))
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    cid = caller_id(box)
    assert cid["number"] == "5557777", cid
    assert cid["name"] == "Carol", cid
    assert got(sipp, 180), sipp.describe()
    assert not got(sipp, 200)

    box.phone(1, "offhook")
    box.wait_for("200 OK at sipp", lambda: got(sipp, 200), timeout=10)
    assert not box.port("fxs1")["ringing"]
    assert box.port("fxs1")["exchange_state"] == "connected"
    ok = sipp.received(200)[0]
    assert ok.cseq_method == "INVITE" and "PCMU/8000" in ok.body, ok

    # sipp hangs up after 1 s: the BYE is answered, the handset hears busy tone.
    assert sipp.wait(20) == 0, sipp.describe()
    box.wait_for("the call to end", lambda: box.port("fxs1")["exchange_state"] != "connected")
    heard = box.hear(1, 3.0)
    assert "busy" in tones_in(heard), tones_in(heard)


def test_asserted_identity_is_shown_and_cancel_stops_the_ringing(box: Daemon,
                                                                 peers: Peers) -> None:
    sipp = peers.sipp_uac(target(box), DID, peers.scenario(
        "uac_cancel", From="<sip:sipp@127.0.0.1>", ring_ms=6000,
        headers='\nP-Asserted-Identity: "Dave" <sip:5558888@127.0.0.1>'))
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    cid = caller_id(box)
    assert (cid["number"], cid["name"]) == ("5558888", "Dave"), cid  # PAI over From
    # sipp sends CANCEL: 200 for it, 487 for the INVITE, the ACK; the ringing stops.
    assert sipp.wait(20) == 0, sipp.describe()
    box.wait_for("the ringing to stop", lambda: not box.port("fxs1")["ringing"])
    box.wait_for("phone 1 idle", lambda: box.port("fxs1")["line_state"] == "idle")
    box.wait_for("the SIP call to go", lambda: box.call("status")["sip"]["calls"] == {})
    assert got(sipp, 487), sipp.describe()


def test_unknown_did_gets_404(box: Daemon, peers: Peers) -> None:
    sipp = peers.sipp_uac(target(box), "5550000", peers.scenario(
        "uac_refused", From="<sip:5557777@127.0.0.1>", code=404))
    assert sipp.wait(20) == 0, sipp.describe()
    assert not box.port("fxs1")["ringing"]


def test_call_to_offhook_handset_gets_486(box: Daemon, peers: Peers) -> None:
    box.phone(1, "offhook")
    sipp = peers.sipp_uac(target(box), DID, peers.scenario(
        "uac_refused", From="<sip:5557777@127.0.0.1>", code=486))
    assert sipp.wait(20) == 0, sipp.describe()
    assert box.port("fxs1")["exchange_state"] != "connected"
