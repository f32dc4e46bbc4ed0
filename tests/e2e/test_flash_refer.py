"""Hook-flash transfers handed to SIP peers by REFER (issue 11), through the daemon on the
simulated board, a provider played by kamailio (it routes 5551111 and 5552222 to two
peers) and real peers:

- blind: baresip A is held, the handset dials baresip B and hangs up while B rings; the
  box cancels its call to B and REFERs A, A (baresip's own transfer code) calls B through
  the provider, B answers and hears A; A's NOTIFY tells the box, which hangs up A;
- attended: sipp is held, the handset talks to baresip B and hangs up; the REFER sipp
  gets carries Replaces naming the box's dialog with B; sipp's NOTIFY "200 OK" makes the
  box release both;
- refused: sipp answers the REFER 603; the box takes it off hold and bridges it to B
  itself until B hangs up.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable

import pytest

from tests.e2e.faults_support import records
from tests.e2e.harness import Daemon, dominant_hz, level_dbfs
from tests.e2e.peers import Peers, box_config, kamailio_template, loud_part, trunk_to

pytestmark = pytest.mark.slow

A, B = "5551111", "5552222"

# A provider in front of two peers, as an ITSP's proxy: new INVITEs (and their CANCELs)
# for A and B are relayed statefully to each, and it stays in their dialogs
# (Record-Route), so that sipp, which sends everything to where its call came from, is
# answered too. Its globals, modules and ctl socket are those of every kamailio in peers.py.
PROVIDER_CFG = kamailio_template("""request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (has_totag()) {{
        if (loose_route() || (is_method("ACK") && t_check_trans())) {{
            t_relay();
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    record_route();
    if ($rU == "{a_user}") {{
        $du = "sip:127.0.0.1:{a_port}";
    }} else if ($rU == "{b_user}") {{
        $du = "sip:127.0.0.1:{b_port}";
    }} else {{
        sl_send_reply("404", "Not Found");
        exit;
    }}
    xlog("L_NOTICE", "relaying $rm for $rU from $si:$sp to $du\\n");
    t_relay();
    exit;
}}
""")


def provider(peers: Peers, a_port: int, b_port: int) -> int:
    kam = peers.kamailio(template=PROVIDER_CFG, values={
        "a_user": A, "a_port": a_port, "b_user": B, "b_port": b_port})
    return kam.port


def boxed(daemon_factory: Callable[..., Daemon], port: int) -> Daemon:
    return daemon_factory(box_config(
        trunks=[trunk_to("provider", port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "provider", "strip": 1}]))


def box_calls(box: Daemon) -> list[object]:
    """The box's calls in progress and its SIP dialogs."""
    status = box.call("status")
    return [*status["calls"], *status["sip"]["calls"]]


def wait_reason(box: Daemon, text: str) -> None:
    box.wait_for(f"a call record saying {text!r}", lambda: any(
        text in str(r.get("reason", "")) for r in records(box)), timeout=20)


def talk_then_consult(box: Daemon) -> None:
    """Handset 1 calls A, holds it with a flash and dials B."""
    box.phone(1, "offhook")
    box.dial(1, "9" + A + "#")
    box.wait_for("the call to A to connect",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=15)
    box.phone(1, "flash")
    time.sleep(0.5)  # the stutter dial tone
    box.dial(1, "9" + B + "#")


def test_blind_transfer_is_handed_to_baresip_by_refer(daemon_factory: Callable[..., Daemon],
                                                       peers: Peers) -> None:
    bare_a = peers.baresip(tone_hz=440, user=A)
    bare_b = peers.baresip(tone_hz=1000, user=B,
                           account=f"<sip:{B}@127.0.0.1>;regint=0;answermode=manual;"
                                   "audio_codecs=PCMU")
    box = boxed(daemon_factory, provider(peers, bare_a.sip_port, bare_b.sip_port))
    talk_then_consult(box)
    first = bare_b.ctrl.wait_event("CALL_INCOMING", timeout=15)  # B rings, not answered
    box.phone(1, "onhook")  # blind transfer

    transfer = bare_a.ctrl.wait_event("TRANSFER", timeout=10)
    assert f"sip:{B}@127.0.0.1" in str(transfer.get("param")), transfer
    box.wait_for("A's own call to ring B", lambda: len(
        bare_b.ctrl.events_of("CALL_INCOMING")) >= 2, timeout=15)
    closed = bare_b.ctrl.wait_event("CALL_CLOSED", timeout=10)
    assert closed["id"] == first["id"], "the box's own call to B was cancelled"
    reply = bare_b.ctrl.command("accept")
    assert reply["ok"], reply
    established = bare_b.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    assert established["peeruri"].startswith(f"sip:{A}@"), \
        f"B talks to A itself, not to the box: {established}"
    box.wait_for("the box to leave both calls", lambda: not box_calls(box), timeout=15)
    time.sleep(1.5)  # A's sine reaches B straight
    bare_b.ctrl.command("hangup")
    bare_b.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = bare_b.heard()
    voice = loud_part(samples, rate=rate)
    assert voice.size >= rate // 2, "B heard less than 0.5 s from A"
    assert abs(dominant_hz(voice, rate) - 440) < 10 and level_dbfs(voice) > -30
    wait_reason(box, f"transferred by REFER to 9{B}")


def test_attended_transfer_refers_with_replaces(daemon_factory: Callable[..., Daemon],
                                                peers: Peers) -> None:
    bare_a = peers.baresip(tone_hz=440, user=A)
    bare_b = peers.baresip(tone_hz=1000, user=B)  # answers at once
    box = boxed(daemon_factory, provider(peers, bare_a.sip_port, bare_b.sip_port))
    talk_then_consult(box)
    third = bare_b.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    box.phone(1, "onhook")  # attended transfer
    transfer = bare_a.ctrl.wait_event("TRANSFER", timeout=10)
    refer_to = urllib.parse.unquote(str(transfer.get("param")))
    assert f"sip:{B}@" in refer_to, transfer
    assert f"Replaces={third['id']}" in refer_to, (refer_to, third)
    # (baresip's event shows the escaped ";" and "=" of the Replaces value as "?")
    assert "to-tag" in refer_to and "from-tag" in refer_to, refer_to
    box.wait_for("the box to leave both calls", lambda: not box_calls(box), timeout=15)
    wait_reason(box, "handed over by REFER (Replaces)")
    # B talks to A itself (baresip's event comes over its ctrl socket, maybe after).
    box.wait_for("B's call with A", lambda: [
        e for e in bare_b.ctrl.events_of("CALL_ESTABLISHED")
        if str(e["peeruri"]).startswith(f"sip:{A}@")], timeout=5)


def test_refused_refer_leaves_the_box_bridging(daemon_factory: Callable[..., Daemon],
                                               peers: Peers) -> None:
    uas, uas_port = peers.sipp_uas(peers.scenario("uas_refer_refused"))
    bare_b = peers.baresip(tone_hz=1000, user=B)
    box = boxed(daemon_factory, provider(peers, uas_port, bare_b.sip_port))
    talk_then_consult(box)
    bare_b.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    box.phone(1, "onhook")
    box.wait_for("the REFER at sipp", lambda: uas.received("REFER"), timeout=10)
    box.wait_for("the resume re-INVITE (off hold)", lambda: any(
        "a=sendonly" not in m.body for m in uas.received("INVITE")[1:]), timeout=10)
    time.sleep(1.0)
    assert not bare_b.ctrl.events_of("CALL_CLOSED"), "B still talks, through the box"
    assert len(box.call("status")["calls"]) == 1, box_calls(box)
    bare_b.ctrl.command("hangup")
    assert uas.wait(15) == 0, uas.describe()  # the box hung up the held party
