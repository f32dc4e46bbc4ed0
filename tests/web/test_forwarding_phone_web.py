"""An IP phone's forwarding on the web page (firmware/web/pages/forwarding.py and me.py):
the owner of IP phone 110 (``[[sip_user]]``) sets their own on My phone, without call
waiting (a phone takes one call at a time); an admin sees the phone on the Forwarding
page and opens it; the change reaches the exchange the star codes use."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.app.linefeatures import LineFeatureStore
from firmware.app.wiring import build_plan
from firmware.config import default_config
from firmware.config.schema import SipUser
from firmware.pbx.exchange import Exchange
from firmware.web.logring import LogRing
from firmware.web.settings import WebSettings
from tests.web.conftest import Clock, Env, form_token, login, run
from tests.web.fakes import PASSWORD, FakeSystem, seed_accounts


@pytest.fixture
def phone_env(tmp_path: Path) -> Iterator[tuple[Env, Exchange]]:
    config = dataclasses.replace(default_config(), sip_user=(
        SipUser(extension="110", password="phone-110-pass", name="Desk IP"),))
    system = FakeSystem(tmp_path, config)
    seed_accounts(system.accounts())
    system.accounts().add("desk", "user", PASSWORD, extension="110")
    exchange = Exchange(build_plan(config))
    system.line_features = LineFeatureStore(tmp_path, exchange)  # type: ignore[attr-defined]
    yield Env(system, Clock(), LogRing(), WebSettings(port=0)), exchange


def test_the_owner_of_an_ip_phone_sets_its_forwarding(
        phone_env: tuple[Env, Exchange]) -> None:
    env, pbx = phone_env

    async def go() -> None:
        async with env.client() as client:
            await login(client, "desk")
            page = await (await client.get("/me")).text()
            assert "An IP phone (SIP) rings this extension." in page
            assert 'id="h-settings"' not in page  # no port settings, and no empty heading
            assert "like the star codes on the phone" in page
            for name in ("forward_always", "forward_busy", "forward_no_answer",
                         "forward_after_s", "dnd"):
                assert f'name="{name}"' in page, name
            assert 'name="call_waiting"' not in page
            assert "On the phone: *72 + number" in page
            saved = await client.post("/me/forwarding", data={
                "_csrf": form_token(page), "forward_always": "", "forward_busy": "101",
                "forward_no_answer": "", "forward_after_s": "15", "dnd": "false"},
                allow_redirects=False)
            assert saved.status == 303
            features = pbx.line_features()["110"]
            assert (features.forward_busy, features.forward_after_s) == ("101", 15.0)
            refused = await client.post("/me/forwarding", data={
                "_csrf": form_token(page), "call_waiting": "true"})
            assert refused.status == 400
            assert "one call at a time" in await refused.text()

    run(go)


def test_an_admin_sees_and_opens_the_ip_phone(phone_env: tuple[Env, Exchange]) -> None:
    env, pbx = phone_env

    async def go() -> None:
        async with env.client() as client:
            await login(client, "admin")
            listing = await (await client.get("/forwarding")).text()
            assert 'href="/forwarding/110"' in listing and "IP phone" in listing
            page = await (await client.get("/forwarding/110")).text()
            saved = await client.post("/forwarding/110", data={
                "_csrf": form_token(page), "dnd": "true"}, allow_redirects=False)
            assert saved.status == 303
            assert pbx.line_features()["110"].dnd

    run(go)
