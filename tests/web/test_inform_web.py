"""The web call-back endpoint (POST /callback, CORS, widget) and the auto-informer's page,
over the real command table and the real services on a fake dialer: each abuse case is
refused with its HTTP status and reason and nothing is dialled. The calls themselves are in
tests/e2e/test_callback.py and test_informer.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware.app.callback import CallbackService
from firmware.app.informer import Informer
from firmware.app.wiring import numbering
from firmware.config.schema import CallbackConfig, InformConfig
from firmware.core.clock import FakeClock
from firmware.pbx.plan import DialPlan, Extension, OutboundRoute, Trunk
from firmware.web.logring import LogRing
from firmware.web.settings import WebSettings
from tests.app.fakedialer import NOON, FakeDialer
from tests.web.conftest import Clock, Env, login, run
from tests.web.fakes import FakeSystem, seed_accounts

TOKEN = "site-token-0123456789"
SITE = "https://www.example.com"


class InformSystem(FakeSystem):
    def __init__(self, state: Path) -> None:
        super().__init__(state)
        self.dialer = FakeDialer(FakeClock(NOON))
        self.cb_config = CallbackConfig(enabled=True, to="ext:101", allowed=("9x.",),
                                        token=TOKEN, origins=(SITE,),
                                        per_address_per_hour=3)
        plan = DialPlan(extensions=(Extension("101", "fxs1", "Reception"),),
                        trunks=(Trunk("prov"),),
                        outbound=(OutboundRoute("9", "prov", strip=1),),
                        numbering=numbering("us"))
        self._callbacks = CallbackService(self.dialer, lambda: self.cb_config, lambda: plan,
                                          lambda name, now: True)
        self._informer = Informer(state / "inform", self.dialer, InformConfig)
        self._informer.load()

    def callbacks(self) -> CallbackService:
        return self._callbacks

    def informer(self) -> Informer:
        return self._informer


def make_env(tmp_path: Path) -> tuple[Env, InformSystem]:
    system = InformSystem(tmp_path)
    seed_accounts(system.accounts())
    return Env(system, Clock(), LogRing(), WebSettings(port=0)), system


def test_a_good_request_is_taken_and_the_office_rung(tmp_path: Path) -> None:
    env, system = make_env(tmp_path)

    async def go() -> tuple[int, Any, str | None]:
        async with env.client() as client:
            r = await client.post("/callback", json={"token": TOKEN, "number": "95551234"},
                                  headers={"Origin": SITE})
            return r.status, await r.json(), r.headers.get("Access-Control-Allow-Origin")
    status, body, allow = run(go)
    assert (status, allow) == (202, SITE)
    assert body["ok"] and body["number"] == "95551234"
    system.dialer.run_due()
    assert [p[0] for p in system.dialer.placed] == ["ext:101"]


def test_each_abuse_is_refused_with_its_reason_and_nothing_is_dialled(
        tmp_path: Path) -> None:
    env, system = make_env(tmp_path)
    cases = [
        ({"token": "nope", "number": "95551234"}, SITE, 403, "token is wrong"),
        ({"token": TOKEN, "number": "5551234"}, SITE, 403, "may not be called back"),
        ({"token": TOKEN, "number": "919005551234"}, SITE, 403, "premium-rate"),
        ({"token": TOKEN, "number": "95551234"}, "https://evil.example", 403,
         "not one of the box's [callback] origins"),
        ({"token": TOKEN, "number": "95551234"}, SITE, 429, "too many requests"),
    ]

    async def go() -> list[tuple[int, str]]:
        out = []
        async with env.client() as client:
            for body, origin, _, _ in cases:
                r = await client.post("/callback", json=body, headers={"Origin": origin})
                out.append((r.status, (await r.json())["error"]))
        return out
    answers = run(go)
    for (_, _, status, text), (got, error) in zip(cases, answers, strict=True):
        assert got == status and text in error, (got, error)
    system.dialer.run_due()
    assert system.dialer.placed == []


def test_a_form_without_javascript_gets_a_page(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)

    async def go() -> tuple[int, str, str]:
        async with env.client() as client:
            r = await client.post("/callback", data={"token": TOKEN, "number": "abc"},
                                  headers={"Origin": SITE})
            return r.status, r.content_type, await r.text()
    status, kind, text = run(go)
    assert (status, kind) == (400, "text/html")
    assert "&#x27;abc&#x27; is not a phone number" in text


def test_cors_preflight_only_for_configured_origins(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)

    async def go() -> list[tuple[int, str | None]]:
        async with env.client() as client:
            out = []
            for origin in (SITE, "https://other.example"):
                r = await client.options("/callback", headers={
                    "Origin": origin, "Access-Control-Request-Method": "POST"})
                out.append((r.status, r.headers.get("Access-Control-Allow-Origin")))
            return out
    assert run(go) == [(204, SITE), (403, None)]


def test_the_widget_script_is_served(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)

    async def go() -> tuple[int, str, str]:
        async with env.client() as client:
            r = await client.get("/callback/widget.js")
            return r.status, r.content_type, await r.text()
    status, kind, text = run(go)
    assert (status, kind) == (200, "application/javascript")
    assert "data-minipbx-callback" in text


def test_the_informer_page_starts_a_campaign_and_shows_errors_at_their_field(
        tmp_path: Path) -> None:
    env, system = make_env(tmp_path)

    async def go() -> tuple[str, int, str]:
        async with env.client() as client:
            _, csrf = await login(client, "admin")
            bad = await client.post("/inform/start", data={
                "_csrf": csrf, "name": "n1", "numbers": "101", "message": "builtin:x",
                "parallel": "0"})
            good = await client.post("/inform/start", data={
                "_csrf": csrf, "name": "n1", "numbers": "101\n102", "message": "builtin:x"})
            return await bad.text(), good.status, await good.text()
    bad, status, good = run(go)
    assert 'id="f-parallel-err"' in bad and "parallel 0: from 1 to 8" in bad
    assert status == 200 and "Campaign n1: running" in good
    system.dialer.run_due()
    assert [p[0] for p in system.dialer.placed] == ["101", "102"]


def test_the_informer_page_is_for_admins_only(tmp_path: Path) -> None:
    env, _ = make_env(tmp_path)

    async def go() -> int:
        async with env.client() as client:
            await login(client, "inst")
            r = await client.get("/inform")
            return r.status
    assert run(go) == 403

