"""Hunt groups on the simulated board with sipp callers: three callers at once on the one
group number reach three members (the multi-channel number, caller ID "Sales: NUMBER");
ringall stops the other phones the moment one answers; nobody answering overflows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, Sipp, box_config, trunk_to

pytestmark = pytest.mark.slow

DID = "5551000"
PHONES = [{"port": n, "extension": f"10{n}", "name": f"Ext {n}"} for n in range(1, 6)]


def table(name: str, values: dict[str, object]) -> str:
    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        return '"' + str(v) + '"'
    return "\n".join([f"[[{name}]]", *(f"{k} = {value(v)}" for k, v in values.items()), ""])


def office(daemon_factory: Callable[..., Daemon], **group: object) -> Daemon:
    config = box_config(trunks=[trunk_to("provider", 5060)], fxs=PHONES,
                        inbound=[{"did": DID, "to": "group:sales"}])
    config += "\n" + table("group", {"name": "sales", "number": "600",
                                     "members": ["102", "103", "104"], **group})
    return daemon_factory(config)


def call(peers: Peers, box: Daemon, number: str, hold_ms: int = 1500) -> Sipp:
    return peers.sipp_uac(f"127.0.0.1:{box.sip_port}", DID, peers.scenario(
        "uac_call", From=f'"Caller {number}" <sip:{number}@127.0.0.1>', headers="",
        answer_timeout_ms=30000, hold_ms=hold_ms))


def ringing(box: Daemon) -> set[int]:
    return {p for p in range(1, 6) if box.port(f"fxs{p}")["ringing"]}


def test_three_callers_at_once_reach_three_members(daemon_factory: Callable[..., Daemon],
                                                   peers: Peers) -> None:
    box = office(daemon_factory, strategy="linear")
    callers = [call(peers, box, f"555700{i}", hold_ms=2000) for i in (1, 2, 3)]
    box.wait_for("three members to ring", lambda: ringing(box) == {2, 3, 4}, timeout=15)
    cid = box.wait_for("caller ID on phone 2",
                       lambda: (s := box.phone_status(2))["caller_id"] and s["caller_id"],
                       timeout=12)
    assert cid["name"].startswith("Sales: 555700"), cid
    for port in (2, 3, 4):
        box.phone(port, "offhook")
    for sipp in callers:
        box.wait_for("200 OK at every caller", lambda s=sipp: s.received(200), timeout=10)
    assert {box.port(f"fxs{p}")["exchange_state"] for p in (2, 3, 4)} == {"connected"}
    for sipp in callers:
        assert sipp.wait(20) == 0, sipp.describe()


def test_ringall_stops_the_others_at_the_answer(daemon_factory: Callable[..., Daemon],
                                                peers: Peers) -> None:
    box = office(daemon_factory, strategy="ringall")
    sipp = call(peers, box, "5557777")
    box.wait_for("every member to ring", lambda: ringing(box) == {2, 3, 4}, timeout=15)
    box.phone(3, "offhook")
    box.wait_for("the others to stop", lambda: not ringing(box), timeout=5)
    assert box.port("fxs2")["exchange_state"] == "idle"
    assert box.port("fxs3")["exchange_state"] == "connected"
    box.wait_for("200 OK at the caller", lambda: sipp.received(200), timeout=10)
    assert sipp.wait(20) == 0, sipp.describe()


def test_nobody_answers_then_overflow(daemon_factory: Callable[..., Daemon],
                                      peers: Peers) -> None:
    box = office(daemon_factory, strategy="linear", ring_s=2.0, total_s=5.0,
                 overflow="ext:105")
    sipp = call(peers, box, "5557777")
    box.wait_for("member 102 to ring", lambda: ringing(box) == {2}, timeout=15)
    box.wait_for("member 103 to ring", lambda: ringing(box) == {3}, timeout=5)
    box.wait_for("the overflow, 105, to ring", lambda: ringing(box) == {5}, timeout=10)
    box.phone(5, "offhook")
    box.wait_for("200 OK at the caller", lambda: sipp.received(200), timeout=10)
    assert sipp.wait(20) == 0, sipp.describe()


def test_a_commit_keeps_a_ringing_group_call_and_applies_to_the_next(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    box = office(daemon_factory, strategy="linear", ring_s=30.0)
    first = call(peers, box, "5557001")
    box.wait_for("member 102 to ring", lambda: ringing(box) == {2}, timeout=15)
    box.call("config.set", path="group.sales.strategy", value="ringall")
    result = box.call("config.commit")
    assert "dial plan" in str(result), result
    assert ringing(box) == {2}  # the call in progress keeps ringing
    second = call(peers, box, "5557002")
    box.wait_for("the free members to ring for the second caller",
                 lambda: ringing(box) == {2, 3, 4}, timeout=15)
    box.phone(2, "offhook")
    box.wait_for("200 OK at the first caller", lambda: first.received(200), timeout=10)
    box.phone(4, "offhook")
    box.wait_for("200 OK at the second caller", lambda: second.received(200), timeout=10)
    assert not ringing(box)
    for sipp in (first, second):
        assert sipp.wait(20) == 0, sipp.describe()
