"""The web call-back end to end (issue 9 section 6): a POST to the box's web server rings
the sales group's handsets; the member who answers hears the call-back prompt and the
visitor's number; the box dials the visitor (sipp, through the outbound route) and bridges
them. Each abuse case is refused with its reason and nothing is dialled."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.harness import Daemon
from tests.e2e.peers import Peers, box_config, loud_part, tone_share, trunk_to

TOKEN = "e2e-site-token-0123456789"
SITE = "https://www.example.com"


def callback_box(daemon_factory: Callable[..., Daemon], visitor_port: int,
                 more: str = "", attempts: int = 1) -> Daemon:
    config = box_config(
        trunks=[trunk_to("prov", visitor_port)],
        outbound=[{"pattern": "9x.", "trunk": "prov", "strip": 1}],
        fxs=[{"port": i, "extension": f"10{i}", "name": f"Phone {i}"} for i in (1, 2, 3)])
    config += f"""
[[group]]
name = "sales"
members = ["101", "102"]
strategy = "ringall"

[callback]
enabled = true
to = "group:sales"
allowed = ["9x."]
token = "{TOKEN}"
origins = ["{SITE}"]
per_address_per_hour = 6
per_number_per_hour = 1
attempts = {attempts}
retry_after_s = 10
""" + more
    box = daemon_factory(config)
    box.wait_for("the prompts", lambda: "prompts ready" in box.log(), timeout=60)
    return box


def web_url(box: Daemon) -> str:
    m = box.wait_for("the web page", lambda: re.search(r"web page: (http://\S+?)/\n",
                                                        box.log()))
    return str(m.group(1))


def post(box: Daemon, body: dict[str, str], origin: str = SITE) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        web_url(box) + "/callback", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_callback_rings_the_group_then_bridges_the_visitor(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    visitor, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=300))
    box = callback_box(daemon_factory, port)

    status, answer = post(box, {"token": TOKEN, "number": "9 555-1234"})
    assert status == 202 and answer["ok"] and answer["number"] == "95551234", answer

    box.wait_for("the group ringing", lambda: box.phone_status(1)["ringing"]
                 and box.phone_status(2)["ringing"])
    box.phone(1, "offhook")  # the member at phone 1 takes it; phone 2 stops ringing
    heard = box.hear(1, 1.5)
    assert not box.phone_status(2)["ringing"]
    speech = loud_part(heard)
    assert speech.size > 4000  # half a second and more of the prompt is spoken...
    assert tone_share(speech, [350, 440, 480, 620]) < 0.5  # ...and it is no progress tone

    def bridged() -> bool:
        pairs = box.call("status")["bridged"]
        return any("fxs1" in pair for pair in pairs)
    box.wait_for("the member bridged with the visitor", bridged, timeout=20)
    requests = box.call("callback.status")
    assert requests[0]["state"] == "done" and requests[0]["member"] == "fxs1"
    box.phone(1, "onhook")
    visitor.wait(timeout=10)  # the visitor got the box's BYE and ended cleanly
    invites = [m for m in visitor.messages() if m.method == "INVITE"]
    assert len(invites) == 1 and invites[0].request_uri.startswith("sip:5551234@")


def test_each_abuse_is_refused_and_nothing_is_dialled(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    visitor, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=300))
    box = callback_box(daemon_factory, port)
    cases = [
        ({"token": "not-the-token-000000", "number": "95551234"}, SITE, 403, "bad_token"),
        ({"token": TOKEN, "number": "5551234"}, SITE, 403, "not_allowed"),
        ({"token": TOKEN, "number": "919005551234"}, SITE, 403, "premium"),
        ({"token": TOKEN, "number": "95551234"}, "https://evil.example.net", 403, "origin"),
        ({"token": TOKEN, "number": "call me"}, SITE, 400, "bad_number"),
    ]
    for body, origin, status, code in cases:
        got, answer = post(box, body, origin)
        assert (got, answer.get("code")) == (status, code), answer
        assert answer["error"]  # a sentence naming the problem
    # the per-number limit (1 an hour): the second request for a number is too many
    assert post(box, {"token": TOKEN, "number": "95550001"})[0] == 202
    got, answer = post(box, {"token": TOKEN, "number": "95550001"})
    assert (got, answer["code"]) == (429, "rate_number")
    # the per-address limit (6 an hour; refused ones count, but not the foreign origin's,
    # which never reached the command): this is the address's 7th request
    got, answer = post(box, {"token": TOKEN, "number": "95550002"})
    assert (got, answer["code"]) == (429, "rate_address")
    assert "too many requests" in answer["error"]
    log = box.log()
    assert log.count("call-back request from") >= 6  # each refusal is logged
    requests = box.call("callback.status")
    assert [r["number"] for r in requests] == ["95550001"]  # only the good one was taken
    assert [m for m in visitor.messages() if m.method == "INVITE"
            and "5551234" in m.request_uri] == []  # no refused number was dialled


def test_outside_office_hours_the_request_is_refused(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    visitor, port = peers.sipp_uas(peers.scenario("uas_answer", ring_ms=300))
    today = datetime.now(UTC).date()
    closed = [str(today), str(today + timedelta(days=1))]  # (a test run near midnight)
    box = callback_box(daemon_factory, port, f"""schedule = "office"

[[schedule]]
name = "office"
weekdays = ["mon-sun"]
hours = "00:00-24:00"
holidays = {json.dumps(closed)}
""")
    got, answer = post(box, {"token": TOKEN, "number": "95551234"})
    assert (got, answer["code"]) == (409, "closed") and "office is closed" in answer["error"]
    assert box.call("callback.status") == []
    assert not box.phone_status(1)["ringing"] and visitor.messages() == []


def test_a_visitor_who_does_not_answer_is_tried_again_and_reported(
        daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    visitor, port = peers.sipp_uas(peers.scenario("uas_refuse", code=480,
                                                  reason="Temporarily Unavailable"),
                                   rtp_echo=False, calls=2)
    box = callback_box(daemon_factory, port, attempts=2)
    assert post(box, {"token": TOKEN, "number": "95551234"})[0] == 202
    for attempt in (1, 2):  # the member answers each time; the visitor never does
        box.wait_for(f"attempt {attempt} ringing the office",
                     lambda: box.phone_status(1)["ringing"], timeout=30)
        box.phone(1, "offhook")
        box.wait_for(f"attempt {attempt} ending", lambda: box.call("callback.status")[0][
            "state"] in ("queued", "failed"), timeout=20)
        box.phone(1, "onhook")
    request = box.call("callback.status")[0]
    assert request["state"] == "failed" and request["attempts"] == 2
    assert request["reason"].startswith("the visitor did not answer (NO_USER_RESPONDING")
    assert len([m for m in visitor.messages() if m.method == "INVITE"]) == 2
