"""The auto-informer end to end on the simulated board (issue 9 section 5): a campaign of
10 numbers, extensions (virtual handsets), a PSTN line (the FXO port's virtual line) and
outside numbers (sipp as the far end through trunks), with confirmed, answered, heard,
busy, no answer and refused results; and a daemon restart in the middle of a campaign,
which resumes where it stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, trunk_to

# About 3 s of speech: long enough that a person can hang up in the middle of it.
MESSAGE = "builtin:announcement,builtin:press_1_to_confirm,builtin:announcement"
INFORM = "\n[inform]\nno_answer_s = 6\nconfirm_wait_s = 3\n"


def handsets(n: int) -> list[dict[str, object]]:
    return [{"port": i, "extension": f"10{i}", "name": f"Phone {i}"} for i in range(1, n + 1)]


def started_box(box: Daemon) -> Daemon:
    """The box once its builtin prompts are built (in the background at start-up)."""
    box.wait_for("the prompts", lambda: "prompts ready" in box.log(), timeout=60)
    return box


def report(box: Daemon, name: str) -> dict[str, Any]:
    result: dict[str, Any] = box.call("inform.report", name=name)
    return result


def by_number(box: Daemon, name: str) -> dict[str, dict[str, Any]]:
    return {t["number"]: t for t in report(box, name)["targets"]}


def drive(box: Daemon, name: str, roles: dict[int, str], timeout: float = 90.0) -> None:
    """Play the people at the handsets until the campaign is over: ``confirm`` lifts and
    presses 1, then hangs up when the box has (the number is final); ``early`` lifts and
    hangs up at once; other ports never answer."""
    lifted: dict[int, float] = {}
    pressed: set[int] = set()
    done_with: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = report(box, name)
        targets = {t["number"]: t for t in state["targets"]}
        for port, role in roles.items():
            number = f"10{port}"
            if port in done_with:
                continue
            if port not in lifted:
                if box.phone_status(port)["ringing"]:
                    box.phone(port, "offhook")
                    lifted[port] = time.monotonic()
                    if role == "early":  # hangs up as the message starts
                        time.sleep(0.3)
                        box.phone(port, "onhook")
                        done_with.add(port)
                continue
            if port not in pressed and time.monotonic() - lifted[port] > 1.0:
                box.dial(port, "1")
                pressed.add(port)
            elif targets[number]["final"]:
                box.phone(port, "onhook")
                done_with.add(port)
        if state["state"] != "running":
            break
        time.sleep(0.2)
    for port in lifted:
        box.phone(port, "onhook")
    assert report(box, name)["state"] == "done", report(box, name)


def test_a_campaign_of_ten_numbers(daemon_factory: Callable[..., Daemon],
                                   peers: Peers) -> None:
    _, answer_port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=300))
    _, busy_port = peers.sipp_uas(peers.scenario("uas_busy"), rtp_echo=False)
    _, away_port = peers.sipp_uas(peers.scenario("uas_refuse", code=480,
                                                 reason="Temporarily Unavailable"),
                                  rtp_echo=False)
    config = box_config(
        trunks=[trunk_to("answers", answer_port), trunk_to("busy", busy_port),
                trunk_to("away", away_port)],
        outbound=[{"pattern": "81x.", "trunk": "answers"},
                  {"pattern": "82x.", "trunk": "busy"}, {"pattern": "83x.", "trunk": "away"},
                  {"pattern": "9x.", "trunk": "answers", "strip": 1},
                  # two PSTN lines: the reserve leaves one to people, a campaign the other
                  {"pattern": "7x.", "trunks": ["fxo1", "fxo2"], "strip": 1}],
        fxs=handsets(5)) + INFORM + "".join(
            f'[[fxo]]\nport = {n}\nextension = "101"\n' for n in (1, 2))
    box = started_box(daemon_factory(config))
    box.phone(4, "offhook")  # extension 104 is busy: its handset is off the hook
    numbers = ["101", "102", "103", "104", "105", "75550106", "8155501", "8255502",
               "8355503", "919005551234"]
    started = box.call("inform.start", name="notice", numbers="\n".join(numbers),
                       message=MESSAGE, confirm_digit="1", attempts=1, parallel=3)
    assert started["numbers"] == 10 and started["state"] == "running"
    drive(box, "notice", {1: "confirm", 2: "confirm", 3: "early"})
    box.phone(4, "onhook")

    got = by_number(box, "notice")
    assert {n: t["result"] for n, t in got.items()} == {
        "101": "confirmed", "102": "confirmed", "103": "answered", "104": "busy",
        "105": "no answer", "75550106": "answered", "8155501": "answered", "8255502": "busy",
        "8355503": "no answer", "919005551234": "failed"}
    assert got["101"]["confirmed"] == "1" and got["101"]["answered_at"]
    # heard to the end without the key: on the PSTN line (an analog line counts as answered
    # once the digits are out) and at sipp
    assert got["75550106"]["heard_end"] and got["8155501"]["heard_end"]
    assert box.call("sim.line.status", port=1)["dialled"] == "5550106"
    assert not got["103"]["heard_end"]
    assert "premium" in got["919005551234"]["reason"]  # the toll guard's refusal
    assert all(t["attempts"] == 1 and t["final"] for t in got.values())
    status = box.call("inform.status", name="notice")
    assert status["reached"] == 2 and status["done"] == 10


def test_a_restart_in_the_middle_resumes_the_campaign(
        daemon_factory: Callable[..., Daemon], tmp_path: Any) -> None:
    config = box_config(fxs=handsets(3)) + INFORM
    box = started_box(daemon_factory(config, name="first"))
    box.call("inform.start", name="resume", numbers="101,102,103", message=MESSAGE,
             confirm_digit="1", parallel=1, attempts=2, retry_after="1s")
    box.wait_for("101 ringing", lambda: box.phone_status(1)["ringing"])
    assert box.stop() == 0  # the daemon stops while 101 rings

    saved = (box.state / "inform" / "resume.json").read_text()
    assert '"calling"' in saved  # the file says where it stopped
    again = Daemon(tmp_path / "first")  # the same state dir, its saved configuration
    try:
        started_box(again).wait_ready()
        drive(again, "resume", {1: "confirm", 2: "confirm", 3: "confirm"})
        got = by_number(again, "resume")
        assert {n: t["result"] for n, t in got.items()} == {
            "101": "confirmed", "102": "confirmed", "103": "confirmed"}
        # the call the stop cut off gave its attempt back: one call each, counted once
        assert [t["attempts"] for t in got.values()] == [1, 1, 1]
    finally:
        assert again.stop() == 0, again.log()
