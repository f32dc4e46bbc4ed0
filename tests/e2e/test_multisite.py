"""Three offices joined through one Kamailio hub on loopback (issue 14): each box a whole
daemon registering to the hub that ``minipbx hub render`` configured; short numbers across
sites with caller ID and audio both ways, least-cost routing out through another site's
trunk (a sipp UAS as office 2's PSTN provider), a group at one site with a member at
another (called from a third site, and from the city line of its own site), a number
several sites serve (the hub's dispatcher, with failover), a site killed and started again
(its callers get the fallback meanwhile), and the hub restarted (the boxes register again
by themselves). Everything on 127.0.0.1, every port free-picked."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Daemon, dominant_hz, free_even_port, free_port, sine
from tests.e2e.hub_support import Hub
from tests.e2e.peers import Peers

pytestmark = pytest.mark.slow

SITES = [("office1", "1xx"), ("office2", "2xx"), ("office3", "3xx")]


def site_config(name: str, hub_port: int, phones: list[tuple[str, str]], extra: str = "",
                fallback: str = "") -> str:
    prefix = dict(SITES)[name]
    parts = [f'[box]\nname = "{name}"\ncountry = "us"\nboard = "sim"\n',
             f'[sip]\nbind = "127.0.0.1"\nport = 0\nrtp_port = {free_even_port()}\n',
             '[web]\nbind = "127.0.0.1"\nport = 0\n',
             f'[site]\nname = "{name}"\nprefix = "{prefix}"\ntransit = "national"\n',
             f'[hub]\nhost = "127.0.0.1"\nport = {hub_port}\npassword = "pw-{name}"\n'
             'ping_interval_s = 1\nregister_expires_s = 60\nshared = ["500"]\n']
    for i, (ext, who) in enumerate(phones, 1):
        parts.append(f'[[fxs]]\nport = {i}\nextension = "{ext}"\nname = "{who}"\n')
    for other, pfx in SITES:
        if other != name:
            parts.append(f'[[peer_site]]\nname = "{other}"\nprefix = "{pfx}"\n'
                         + (f'fallback = "{fallback}"\n' if fallback else ""))
    parts.append(extra)
    return "\n".join(parts)


def sites_state(box: Daemon) -> dict[str, Any]:
    state: dict[str, Any] = box.call("status").get("sites", {})
    return state


def hub_registered(box: Daemon) -> bool:
    reg = box.call("status")["sip"]["trunks"]["hub"]["registration"]
    return bool(reg["state"] == "registered")


def call_and_talk(a: Daemon, a_port: int, b: Daemon, b_port: int, number: str,
                  caller: tuple[str, str]) -> None:
    """a's phone dials ``number``; b's phone rings with ``caller`` as caller ID, answers,
    and each hears the other's tone."""
    a.phone(a_port, "offhook")
    a.dial(a_port, number)
    b.wait_for(f"{number} to ring", lambda: b.port(f"fxs{b_port}")["ringing"], timeout=15)
    cid = b.wait_for("caller ID", lambda: (s := b.phone_status(b_port))["caller_id"] and s,
                     timeout=10)
    assert (cid["caller_id"]["number"], cid["caller_id"]["name"]) == caller
    b.phone(b_port, "offhook")
    a.wait_for("the call to connect", lambda: a.port(f"fxs{a_port}")["with"] is not None)
    b.speak(b_port, sine(900, 2.0))
    assert abs(dominant_hz(a.hear(a_port, 0.8)) - 900) < 10
    a.speak(a_port, sine(1300, 2.0))
    assert abs(dominant_hz(b.hear(b_port, 0.8)) - 1300) < 10
    a.phone(a_port, "onhook")
    b.wait_for("the far end to hang up", lambda: b.port(f"fxs{b_port}")["with"] is None)
    b.phone(b_port, "onhook")
    for box, port in ((a, a_port), (b, b_port)):  # on-hook longer than a flash: idle
        box.wait_for("the line to be idle", lambda x=box, p=port: x.port(f"fxs{p}")[
            "line_state"] == "idle")


def test_three_sites_through_one_hub(tmp_path: Path, peers: Peers) -> None:
    # 500 is the organisation's help desk: office 2's group, office 3's when 2 is away.
    hub = Hub(tmp_path / "hub", [{"name": n, "prefix": p, "password": f"pw-{n}"}
                                 for n, p in SITES],
              shared=[{"number": "500", "sites": ["office2", "office3"]}])
    boxes: list[Daemon] = []
    try:
        hub.start()
        pstn, pstn_port = peers.sipp_uas(calls=1)  # office 2's PSTN provider
        city_port = free_port()  # office 1's city line: a sipp UAC calls its number
        configs = {
            "office1": site_config("office1", hub.port, [("101", "Reception"), ("102", "Ops")],
                                   extra=('[[outbound]]\npattern = "9x."\nvia = "site:office2"\n'
                                          # a group with a member at office 2
                                          '[[group]]\nname = "sales"\nnumber = "150"\n'
                                          'members = ["102", "201"]\n'
                                          # the organisation's number, in at office 1
                                          f'[[trunk]]\nname = "city"\nhost = "127.0.0.1"\n'
                                          f'port = {city_port}\nregister = false\n'
                                          '[[inbound]]\ndid = "5550100"\nto = "group:sales"\n'),
                                   fallback="102"),
            "office2": site_config("office2", hub.port, [("201", "Dora"), ("202", "Ed")], extra=(
                f'[[trunk]]\nname = "pstn"\nhost = "127.0.0.1"\nport = {pstn_port}\n'
                'register = false\n[[outbound]]\npattern = "9x."\ntrunk = "pstn"\nstrip = 1\n'
                '[[group]]\nname = "help"\nnumber = "500"\nmembers = ["202"]\n')),
            "office3": site_config("office3", hub.port, [("301", "Fay")], extra=(
                '[[group]]\nname = "help"\nnumber = "500"\nmembers = ["301"]\n')),
        }
        one, two, three = (Daemon(tmp_path / n, configs[n]) for n in ("office1", "office2",
                                                                       "office3"))
        boxes += [one, two, three]
        for box in boxes:
            box.wait_ready(60)  # a loaded machine: three daemons build their prompts
        for box in boxes:
            box.wait_for("registration at the hub", lambda b=box: hub_registered(b), timeout=15)
        assert set(hub.registered()) == {"office1", "office2", "office3"}, hub.kamcmd(
            "ul.dump").stdout

        # Short numbers across sites: caller ID (number and name) and audio both ways.
        call_and_talk(one, 1, two, 1, "201", ("101", "Reception"))
        call_and_talk(three, 1, one, 2, "102", ("301", "Fay"))
        # A group at office 1 with a member at office 2: office 3 calls it, both members
        # ring, the one at office 2 answers and talks to office 3.
        three.phone(1, "offhook")
        three.dial(1, "150")
        one.wait_for("the local member to ring", lambda: one.port("fxs2")["ringing"],
                     timeout=15)
        two.wait_for("the member at office 2 to ring", lambda: two.port("fxs1")["ringing"],
                     timeout=15)
        cid = two.wait_for("caller ID", lambda: two.phone_status(1)["caller_id"], timeout=10)
        assert (cid["number"], cid["name"]) == ("301", "Sales: 301")  # the group, the caller
        two.phone(1, "offhook")
        three.wait_for("the group call to connect",
                       lambda: three.port("fxs1")["with"] is not None, timeout=10)
        one.wait_for("the other member to stop", lambda: not one.port("fxs2")["ringing"])
        two.speak(1, sine(900, 2.0))
        assert abs(dominant_hz(three.hear(1, 0.8)) - 900) < 10
        three.speak(1, sine(1300, 2.0))
        assert abs(dominant_hz(two.hear(1, 0.8)) - 1300) < 10
        three.phone(1, "onhook")
        two.wait_for("the group call to end", lambda: two.port("fxs1")["with"] is None)
        two.phone(1, "onhook")
        two.wait_for("the line to be idle", lambda: two.port("fxs1")["line_state"] == "idle")
        # The organisation's number from the city line: the same group; office 2 answers.
        city = peers.sipp(["-sn", "uac", f"127.0.0.1:{one.sip_port}", "-s", "5550100",
                           "-i", "127.0.0.1", "-p", str(city_port), "-m", "1",
                           "-d", "3000"], name="city")
        two.wait_for("the member at office 2 to ring for the city call",
                     lambda: two.port("fxs1")["ringing"], timeout=15)
        two.phone(1, "offhook")
        assert city.wait(30) == 0, city.describe()  # answered, talked 3 s, hung up
        two.wait_for("the city call to end", lambda: two.port("fxs1")["with"] is None)
        two.phone(1, "onhook")
        two.wait_for("the line to be idle", lambda: two.port("fxs1")["line_state"] == "idle")
        # The shared number: the hub's dispatcher sends it to office 2 first.
        one.phone(1, "offhook")
        one.dial(1, "500")
        two.wait_for("office 2's help desk to ring", lambda: two.port("fxs2")["ringing"],
                     timeout=15)
        one.phone(1, "onhook")
        two.wait_for("it to stop", lambda: not two.port("fxs2")["ringing"])

        # Status: each other site up through the hub, with a round-trip time.
        state = one.wait_for("sites up", lambda: (s := sites_state(one)) and all(
            v["state"] == "up" for v in s.values()) and s, timeout=10)
        assert state["office2"]["rtt_ms"] is not None and state["hub"]["state"] == "up"

        # Least cost: office 1's 9-numbers leave through office 2's PSTN trunk.
        one.phone(1, "offhook")
        one.dial(1, "95551234")
        one.wait_for("the PSTN call to connect", lambda: one.port("fxs1")["with"] is not None,
                     timeout=15)
        invite = pstn.received("INVITE")[0]
        assert invite.request_uri.startswith("sip:5551234@"), invite.text
        one.speak(1, sine(700, 2.0))
        assert abs(dominant_hz(one.hear(1, 0.8)) - 700) < 10  # sipp echoes what it hears
        one.phone(1, "onhook")
        assert pstn.wait(20) == 0, pstn.describe()

        # Office 2 dies: office 1's call to 201 rings its fallback (102) instead.
        two.proc.send_signal(signal.SIGKILL)
        two.proc.wait(10)
        one.phone(1, "offhook")
        one.dial(1, "201")
        one.wait_for("the fallback to ring", lambda: one.port("fxs2")["ringing"], timeout=20)
        one.phone(1, "onhook")
        one.wait_for("the fallback to stop", lambda: not one.port("fxs2")["ringing"])
        # The shared number fails over to office 3 (the hub's dispatcher, after office 2's
        # silence).
        one.phone(1, "offhook")
        one.dial(1, "500")
        three.wait_for("office 3's help desk to ring", lambda: three.port("fxs1")["ringing"],
                       timeout=20)
        one.phone(1, "onhook")
        three.wait_for("it to stop", lambda: not three.port("fxs1")["ringing"])
        one.wait_for("office2 offline in status", lambda: sites_state(one)["office2"]["state"]
                     in ("offline", "no answer"), timeout=15)
        # It starts again (same state dir, systemd's restart) and registers by itself.
        two = Daemon(tmp_path / "office2", configs["office2"])
        boxes[1] = two
        two.wait_ready(60)
        two.wait_for("office2 registered again", lambda: hub_registered(two), timeout=15)
        call_and_talk(one, 1, two, 2, "202", ("101", "Reception"))

        # The hub restarts with an empty location table: every box registers again.
        hub.stop()
        one.wait_for("the hub seen down", lambda: sites_state(one)["hub"]["state"]
                     == "no answer", timeout=15)
        hub.start()
        one.wait_for("all sites registered again", lambda: set(hub.registered()) == {
            "office1", "office2", "office3"}, timeout=20)
        call_and_talk(two, 1, three, 1, "301", ("201", "Dora"))
    except AssertionError:
        print("--- hub log\n" + hub.log())
        raise
    finally:
        codes = [(b, b.stop()) for b in boxes]
        hub.close()
    for box, code in codes:
        assert code == 0, box.log()[-5000:]
