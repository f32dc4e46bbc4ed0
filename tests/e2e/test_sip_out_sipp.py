"""Outside calls from a handset through a SIP trunk to sipp (an independent SIP stack): what
the INVITE carries, audio both ways (sipp echoes the RTP back), local ringback on 180, busy
tone on 486, and the BYE when the handset hangs up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine, tones_in
from tests.e2e.peers import (
    Peers,
    Sipp,
    box_config,
    each_tone_present,
    loud_part,
    name_addr,
    tone_share,
    trunk_to,
    uri_user,
)

pytestmark = pytest.mark.slow



def box_with_trunk(daemon_factory: Callable[..., Daemon], port: int) -> Daemon:
    """Handsets 101 "Reception" and 102; "9" + number leaves through trunk "far" (the 9
    stripped), which presents 5551000 "Example Office"; the ports have no number of their own."""
    return daemon_factory(box_config(
        trunks=[trunk_to("far", port, caller_id="5551000", caller_name="Example Office")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
    ))


def dial_out(box: Daemon, number: str) -> None:
    box.phone(1, "offhook")
    box.dial(1, "9" + number + "#")  # '#' ends the number at once (no interdigit wait)


def connected(box: Daemon) -> bool:
    return bool(box.port("fxs1")["exchange_state"] == "connected")


def test_outbound_invite_carries_number_and_identity_and_audio_flows_both_ways(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = box_with_trunk(daemon_factory, port)
    dial_out(box, "5551234")
    box.wait_for("the trunk call to connect", lambda: connected(box), timeout=15)

    invite = uas.received("INVITE")[0]
    assert uri_user(invite.request_uri) == "5551234", invite  # the 9 is stripped
    name, user = name_addr(invite.header("from") or "")
    assert user == "5551000", invite  # the trunk's caller_id: port 1 has no number
    assert name == "Reception", invite  # the port's name
    assert "PCMU/8000" in invite.body, invite

    # Nothing is heard before the handset speaks: whatever comes back later is sipp's echo.
    assert level_dbfs(box.hear(1, 0.5)) < -45
    box.speak(1, sine(1000, 2.0))
    echoed = box.hear(1, 1.0)
    assert abs(dominant_hz(echoed) - 1000) < 10
    assert level_dbfs(echoed) > -30

    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()
    assert len(uas.received("BYE")) == 1, uas.describe()


def test_ringing_far_end_gives_local_ringback(daemon_factory: Callable[..., Daemon],
                                              peers: Peers) -> None:
    # sipp sends 180 (no SDP: no early media) at once, then answers 3 s later.
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=3000))
    box = box_with_trunk(daemon_factory, port)
    dial_out(box, "5551234")
    heard = box.hear(1, 2.0)  # the first ringback burst (US: 440 + 480 Hz, 2 s on)
    assert _sent(uas, 180), uas.describe()
    burst = loud_part(heard)
    assert burst.size >= 8000 // 2, "less than 0.5 s of ringback heard"
    assert tone_share(burst, (440, 480)) > 0.9
    assert each_tone_present(burst, (440, 480))
    box.wait_for("the trunk call to connect", lambda: connected(box), timeout=15)
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()


def test_far_end_busy_gives_busy_tone(daemon_factory: Callable[..., Daemon],
                                      peers: Peers) -> None:
    uas, port = peers.sipp_uas(peers.scenario("uas_busy"), rtp_echo=False)
    box = box_with_trunk(daemon_factory, port)
    dial_out(box, "5559999")
    assert uas.wait(15) == 0, uas.describe()  # 486 sent and ACKed
    heard = box.hear(1, 3.0)
    assert "busy" in tones_in(heard), (tones_in(heard), box.log()[-3000:])


def _sent(sipp: Sipp, code: int) -> bool:
    return any(m.direction == "out" and m.status == code for m in sipp.messages())


def test_early_media_on_183_reaches_the_handset(daemon_factory: Callable[..., Daemon],
                                                peers: Peers) -> None:
    """On 183 with SDP the handset hears the far end's own audio (an announcement, a
    carrier's ringback), not local ringback: here sipp echoes what the handset says."""
    uas, port = peers.sipp_uas(peers.scenario("uas_early", early_ms=6000))
    box = box_with_trunk(daemon_factory, port)
    dial_out(box, "5551234")
    box.wait_for("early media", lambda: box.port("fxs1")["with"] is not None, timeout=15)
    assert not connected(box)
    assert level_dbfs(box.hear(1, 0.5)) < -45  # no local ringback over the far end's audio
    box.speak(1, sine(1000, 2.0))
    echoed = box.hear(1, 1.0)
    assert abs(dominant_hz(echoed) - 1000) < 10
    assert not connected(box)  # all of that before the answer
    box.wait_for("the answer", lambda: connected(box), timeout=15)
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()


def test_outbound_proxy_carries_the_invite(daemon_factory: Callable[..., Daemon],
                                           peers: Peers) -> None:
    """With outbound_proxy set, the INVITE goes through kamailio (a second Via), not
    straight to the trunk's host; the call then works as usual."""
    proxy = peers.kamailio()
    uas, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=0))
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", port, caller_id="5551000",
                         outbound_proxy=f"sip:127.0.0.1:{proxy.port}")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}],
    ))
    dial_out(box, "5551234")
    box.wait_for("the trunk call to connect", lambda: connected(box), timeout=15)
    invite = uas.received("INVITE")[0]
    vias = [v for k, v in invite.headers if k in ("via", "v")]
    assert len(vias) == 2, invite  # kamailio's Via on top of the box's
    assert f"127.0.0.1:{proxy.port}" in vias[0], invite
    assert uri_user(invite.request_uri) == "5551234", invite
    box.speak(1, sine(1000, 2.0))
    assert abs(dominant_hz(box.hear(1, 1.0)) - 1000) < 10
    box.phone(1, "onhook")
    assert uas.wait(15) == 0, uas.describe()
