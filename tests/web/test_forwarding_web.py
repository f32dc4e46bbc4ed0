"""Forwarding and do-not-disturb on the web page (firmware/web/pages/forwarding.py, the
My phone section, the forwarding.* commands) over the fake system with the real store and
exchange (firmware/app/linefeatures.py): a user sets their own and no one else's (403), a
refusal shows at its field and changes nothing, an admin sets any, CSRF as every form, a
star code's change shows on the page, and the API answers the same."""

from __future__ import annotations

import re
from typing import Any

import pytest

from firmware.app.linefeatures import LineFeatureStore
from firmware.app.wiring import build_plan
from firmware.core.events import Digit, Release, Seize, Tone
from firmware.pbx.exchange import Exchange
from tests.web.conftest import Env, form_token, login, run


@pytest.fixture
def pbx(env: Env) -> Exchange:
    """The fake system's phones (101 on port 1, 102 on port 2) in a real exchange, behind
    the store the star codes use."""
    exchange = Exchange(build_plan(env.system.config().show(False)))
    env.system.line_features = LineFeatureStore(  # type: ignore[attr-defined]
        env.system.accounts().path.parent, exchange)
    return exchange


def fields(**values: str) -> dict[str, str]:
    """The form as a browser sends it: every field, checkboxes as hidden false + true."""
    out = {"forward_always": "", "forward_busy": "", "forward_no_answer": "",
           "forward_after_s": "20", "dnd": "false", "call_waiting": "false"}
    out.update(values)
    return out


def star_code(pbx: Exchange, leg: str, digits: str) -> list[Any]:
    out: list[Any] = pbx.handle(Seize(leg), 1.0)
    for i, d in enumerate(digits):
        out += pbx.handle(Digit(leg, d), 1.1 + i * 0.1)
    out += pbx.poll(20.0)  # the interdigit timeout ends it
    pbx.handle(Release(leg), 21.0)
    return out


def test_a_user_sets_their_own_forwarding_on_my_phone(env: Env, pbx: Exchange) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            page = await (await client.get("/me")).text()
            for name in ("forward_always", "forward_busy", "forward_no_answer",
                         "forward_after_s", "dnd", "call_waiting"):
                assert f'name="{name}"' in page, name
            assert 'action="/me/forwarding"' in page and "*72 + number" in page
            assert "Calls ring your phone." in page
            assert '<h2 id="h-settings">Settings</h2>' in page  # a port has its settings
            saved = await client.post("/me/forwarding", data={
                "_csrf": form_token(page), **fields(forward_always="102", call_waiting="true")},
                allow_redirects=False)
            assert saved.status == 303 and saved.headers["Location"] == "/me#forwarding"
            assert pbx.line_features()["101"].forward_always == "102"
            assert pbx.handle(Seize("fxs1"), 30.0) == [Tone("fxs1", "stutter")]
            pbx.handle(Release("fxs1"), 31.0)
            page = await (await client.get("/me")).text()
            assert "Every call goes to 102." in page
            assert "Saved for extension 101: forward always to 102." in page
            assert re.search(r'id="fw-forward_always"[^>]*value="102"|value="102"[^>]*'
                             r'id="fw-forward_always"', page)

    run(go)


def test_a_refusal_is_shown_at_its_field_and_changes_nothing(env: Env, pbx: Exchange) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            token = form_token(await (await client.get("/me")).text())
            refused = await client.post("/me/forwarding", data={
                "_csrf": token, **fields(forward_always="101", forward_busy="12x",
                                         forward_after_s="900", dnd="true")})
            html = await refused.text()
            assert refused.status == 400
            assert 'id="fw-e-forward_always"' in html and "this extension itself" in html
            assert 'id="fw-e-forward_busy"' in html and "not a phone number" in html
            assert 'id="fw-e-forward_after_s"' in html and "from 1 to 300 seconds" in html
            assert 'role="alert"' in html and ">Forward every call to</a>" in html
            assert 'value="12x"' in html and 'value="900"' in html  # what was typed stays
            assert pbx.line_features()["101"] == pbx.plan.feature_defaults("101")

    run(go)


def test_a_user_may_not_touch_another_extension(env: Env, pbx: Exchange) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            token = form_token(await (await client.get("/me")).text())
            assert (await client.get("/forwarding/102")).status == 403
            other = await client.post("/forwarding/102", data={
                "_csrf": token, **fields(dnd="true")}, allow_redirects=False)
            assert other.status == 403 and "only an admin" in await other.text()
            assert pbx.line_features()["102"].dnd is False
            mine = await client.get("/forwarding", allow_redirects=False)
            assert mine.status == 303 and mine.headers["Location"] == "/me#forwarding"
            assert (await client.get("/forwarding/101")).status == 200  # one's own: fine
            no_token = await client.post("/me/forwarding", data=fields(dnd="true"),
                                         allow_redirects=False)
            assert no_token.status == 403 and pbx.line_features()["101"].dnd is False
            api = await client.post("/api/forwarding.set", json={"extension": "102",
                                                                 "dnd": "on"},
                                    headers={"X-CSRF-Token": token})
            assert api.status == 403
        async with env.client() as client:
            await login(client, "inst")  # an installer has no extension of its own
            token = form_token(await (await client.get("/")).text())
            refused = await client.post("/forwarding/101", data={
                "_csrf": token, **fields(dnd="true")}, allow_redirects=False)
            assert refused.status == 403 and pbx.line_features()["101"].dnd is False

    run(go)


def test_an_admin_sets_any_extension(env: Env, pbx: Exchange) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "admin")
            listing = await (await client.get("/forwarding")).text()
            assert 'href="/forwarding"' in listing  # in the menu
            assert 'data-extension="101"' in listing and 'data-extension="102"' in listing
            page = await (await client.get("/forwarding/102")).text()
            # Another's extension: "the phone", not "your phone"; a handset's star codes.
            assert "Calls ring the phone." in page and "your phone" not in page.split(
                "Now:")[1].split("</p>")[0]
            assert "like the star codes on the handset" in page
            saved = await client.post("/forwarding/102", data={
                "_csrf": form_token(page), **fields(dnd="true", forward_no_answer="101",
                                                    forward_after_s="12")},
                allow_redirects=False)
            assert saved.status == 303
            f = pbx.line_features()["102"]
            assert (f.dnd, f.forward_no_answer, f.forward_after_s) == (True, "101", 12.0)
            listing = await (await client.get("/forwarding")).text()
            assert "Do not disturb is on" in listing
            assert (await client.get("/forwarding/555")).status == 404

    run(go)


def test_a_star_code_shows_on_the_page_and_the_api(env: Env, pbx: Exchange) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            assert Tone("fxs1", "stutter") in star_code(pbx, "fxs1", "*72102")
            page = await (await client.get("/me")).text()
            assert "Every call goes to 102." in page
            token = form_token(page)
            answer = await client.post("/api/forwarding.set", json={"forward_always": ""},
                                       headers={"X-CSRF-Token": token})
            body = await answer.json()
            assert answer.status == 200 and body["result"]["changed"] == ["forward_always"]
            assert pbx.handle(Seize("fxs1"), 40.0) == [Tone("fxs1", "dial")]
            bad = await client.post("/api/forwarding.set", json={"forward_after_s": "0"},
                                    headers={"X-CSRF-Token": token})
            problem = await bad.json()
            assert bad.status == 400 and problem["fields"][0]["path"] == "forward_after_s"

    run(go)
