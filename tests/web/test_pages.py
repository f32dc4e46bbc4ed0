"""The pages over the fake system: forms built from the schema (names are PATHs, every field
labelled), errors at their fields, the changes bar, escaping, the live feed, the JSON API,
and the other pages' actions."""

from __future__ import annotations

import asyncio
import json
import re
from html import escape
from html.parser import HTMLParser
from typing import Any

from firmware.config.candidate import document
from firmware.config.describe import MASK
from firmware.config.paths import field_at
from firmware.web.forms import PAGES
from tests.web.conftest import Env, login, run

MAX_PAGE_BYTES = 100 * 1024


class Controls(HTMLParser):
    """Form controls with their names and ids, labels' targets, and legends of groups."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.groups: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **a})
        elif tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        elif tag == "fieldset" and a.get("id"):
            self.groups.append(str(a["id"]))


def parse(html: str) -> Controls:
    p = Controls()
    p.feed(html)
    return p


def test_config_pages_name_every_field_by_its_path_and_label_it(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "admin")
            doc = document(env.system.config().candidate)
            seen_paths = set()
            for page in PAGES:
                r = await client.get(f"/config/{page.slug}")
                assert r.status == 200, page.slug
                html = await r.text()
                assert len(html.encode()) < MAX_PAGE_BYTES, page.slug
                forms = parse(html)
                for c in forms.controls:
                    name = c.get("name") or ""
                    if c.get("type") == "file" or name.startswith("_") or name in (
                            "confirm_s",):
                        continue
                    if "<" in name:  # the add form: a PATH pattern
                        assert re.fullmatch(r"[a-z_]+\.<[a-z_]+>\.[a-z_]+", name), name
                        continue
                    field_at(doc, name)  # raises unless it is a real PATH of the config
                    seen_paths.add(name)
                    if c.get("type") == "hidden":
                        continue
                    ident = c.get("id")
                    labelled = ident in forms.labels or ident in forms.groups
                    grouped = any(name == g[2:] for g in forms.groups)
                    assert labelled or grouped, f"{page.slug}: {name} has no label"
            # Every setting of the default config has a form field somewhere.
            for path in ("box.name", "box.country", "sip.port", "fxs.1.extension",
                         "fxs.2.ring_pattern", "fxo.1.extension", "dialplan.interdigit_s",
                         "web.port", "console.baud"):
                assert path in seen_paths, path
    run(go)


def _field_div(html: str, path: str) -> str:
    """The <div class="field"> (or group) that holds the control named ``path``."""
    at = html.index(f'name="{escape(path)}"')
    start = html.rfind('<div class="field', 0, at)
    end = html.find("</div>", at)
    return html[start:end]


def test_a_bad_value_is_shown_at_its_field_with_the_schemas_message(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            r = await client.post("/config/phones/save", data={
                "_csrf": token, "fxs.1.extension": "12a", "fxs.1.name": "Reception",
                "fxs.1.debounce_ms": "3"}, allow_redirects=False)
            assert r.status == 400
            html = await r.text()
            ext = _field_div(html, "fxs.1.extension")
            assert 'class="field-error"' in ext and "digits" in ext, ext
            assert 'value="12a"' in ext and 'aria-invalid="true"' in ext
            deb = _field_div(html, "fxs.1.debounce_ms")
            assert 'class="field-error"' in deb and "5" in deb, deb
            # The good field of the same form was staged; the bad ones were not.
            cand = env.system.config().candidate
            assert cand.fxs[0].name == "Reception" and cand.fxs[0].extension == "101"
            assert "Staged: fxs.1.name" in html
    run(go)


def test_the_bar_applies_with_confirm_confirms_and_discards(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            html = await (await client.get("/config/box")).text()
            assert "No changes pending" in html
            await client.post("/config/box/save", data={"_csrf": token, "box.name": "office"})
            html = await (await client.get("/config/phones")).text()
            assert "Changes pending" in html and 'class="add"' in html  # the diff, coloured
            assert "office" in html
            r = await client.post("/changes/apply", data={
                "_csrf": token, "confirm_s": "60", "_back": "/config/phones"},
                allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == "/config/phones"
            fake = env.system.config()
            assert fake.running.box.name == "office"
            assert fake.commits[-1] == {"user": "inst", "message": "from the web page",
                                        "confirm_s": 60.0}
            html = await (await client.get("/")).text()
            assert "Confirm the change" in html and 'data-deadline="' in html
            await client.post("/changes/confirm", data={"_csrf": token})
            assert fake.confirm_by is None
            await client.post("/config/box/save", data={"_csrf": token, "box.name": "x"})
            await client.post("/changes/discard", data={"_csrf": token})
            assert fake.candidate.box.name == "office"
            html = await (await client.get("/changes")).text()
            assert "Roll back to 1" in html
            await client.post("/changes/rollback", data={"_csrf": token, "version": "1"})
            assert fake.candidate.box.name == "minipbx"
    run(go)


def test_a_commit_the_schema_refuses_leads_to_the_field_at_fault(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            # Renumbering phone 1 is fine alone, but line 1 still rings the old number:
            # staging keeps it, the commit refuses it and names fxo.1.extension.
            await client.post("/config/phones/save", data={"_csrf": token,
                                                          "fxs.1.extension": "201"})
            r = await client.post("/changes/apply", data={"_csrf": token, "_back": "/"},
                                  allow_redirects=False)
            assert r.headers["Location"] == "/config/lines"
            html = await (await client.get("/config/lines")).text()
            assert "Not applied" in html
            err = _field_div(html, "fxo.1.extension")
            assert 'class="field-error"' in err and "no extension" in err, err
            assert env.system.config().running.fxs[0].extension == "101"
    run(go)


def test_entries_are_added_and_deleted(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            r = await client.post("/config/phones/add", data={
                "_csrf": token, "_table": "fxs", "fxs.<port>.port": "3",
                "fxs.<port>.extension": "103"}, allow_redirects=False)
            assert r.status == 303 and r.headers["Location"].endswith("#entry-fxs.3")
            assert [p.extension for p in env.system.config().candidate.fxs] == [
                "101", "102", "103"]
            r = await client.post("/config/phones/add", data={
                "_csrf": token, "_table": "fxs", "fxs.<port>.port": "4",
                "fxs.<port>.extension": "abc"})
            assert r.status == 400
            assert 'class="field-error"' in _field_div(await r.text(), "fxs.<port>.extension")
            await client.post("/config/phones/delete", data={"_csrf": token,
                                                            "_delete": "fxs.3"})
            assert len(env.system.config().candidate.fxs) == 2
    run(go)


def test_passwords_are_never_sent_to_the_browser_and_empty_keeps_them(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            add = {"_csrf": token, "_table": "trunk", "trunk.<name>.name": "prov",
                   "trunk.<name>.host": "sip.example.net"}
            r = await client.post("/config/trunks/add", data=add)
            # A registering trunk needs a user name: the add form grows that field, with
            # the schema's message at it.
            assert r.status == 400
            assert "must be set" in _field_div(await r.text(), "trunk.<name>.username")
            r = await client.post("/config/trunks/add", data={
                **add, "trunk.<name>.username": "office"}, allow_redirects=False)
            assert r.status == 303
            await client.post("/config/trunks/save", data={
                "_csrf": token, "trunk.prov.password": "s3cret-pw"})
            html = await (await client.get("/config/trunks")).text()
            assert "s3cret-pw" not in html and MASK in html
            await client.post("/config/trunks/save", data={
                "_csrf": token, "trunk.prov.password": "", "trunk.prov.port": "5070"})
            trunk = env.system.config().candidate.trunk[0]
            assert trunk.password == "s3cret-pw" and trunk.port == 5070
    run(go)


def test_values_from_the_box_are_escaped(env: Env) -> None:
    env.system.name = '<script>alert("x")</script>'

    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            await client.post("/config/phones/save", data={
                "_csrf": token, "fxs.1.name": '"><img src=x onerror=alert(1)>'})
            for path in ("/", "/config/phones"):
                html = await (await client.get(path)).text()
                assert "<script>alert" not in html and "<img src=x" not in html, path
            assert "&lt;script&gt;" in html
    run(go)


def test_the_dashboard_feed_sends_a_change_within_its_poll(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            html = await (await client.get("/")).text()
            assert 'data-leg="fxs1"' in html and "on hook" in html
            r = await client.get("/events")
            assert r.headers["Content-Type"].startswith("text/event-stream")

            async def next_event() -> dict[str, Any]:
                while True:
                    line = (await r.content.readline()).decode()
                    if line.startswith("data: "):
                        data: dict[str, Any] = json.loads(line[6:])
                        return data

            first = await asyncio.wait_for(next_event(), 10)
            assert "on hook" in first["ports"]
            env.system.hook[1] = "off"
            changed = await asyncio.wait_for(next_event(), 10)
            row = changed["ports"].split('data-leg="fxs1"')[1].split("</tr>")[0]
            assert "off hook" in row
            r.close()
    run(go)


def test_the_api_answers_with_the_tables_names_and_errors(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            h = {"X-CSRF-Token": token}
            r = await client.post("/api/config.set", json={"path": "fxs.1.extension",
                                                           "value": "abc"}, headers=h)
            body = await r.json()
            assert r.status == 400 and body["ok"] is False
            assert body["fields"][0]["path"] == "fxs.1.extension", body
            r = await client.post("/api/config.set", json={"path": "box.name",
                                                           "value": "api"}, headers=h)
            body = await r.json()
            assert body["ok"] is True and body["result"]["path"] == "box.name"
            r = await client.post("/api/no.such", json={}, headers=h)
            assert r.status == 404
            r = await client.post("/api/status", data="not json", headers={
                **h, "Content-Type": "application/json"})
            assert r.status == 400
            r = await client.post("/api/config.set", json={"path": 5, "value": "x"}, headers=h)
            assert r.status == 400 and "must be str" in (await r.json())["error"]
    run(go)


def test_diagnostics_maintenance_and_accounts_pages_act(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "admin")
            r = await client.post("/diagnostics/ring", data={"_csrf": token,
                                                            "port": "fxs:1", "seconds": "2"})
            assert r.status == 200 and "ring trip" in await r.text()
            assert env.system.hw().rung == [(1, 2.0)]
            r = await client.get("/diagnostics?hook=1")
            assert "HookEdge" in await r.text()
            r = await client.get("/maintenance/backup")
            assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
            backup = await r.text()
            assert "[box]" in backup
            env.logs.emit(_record("line from the log <b>"))
            html = await (await client.get("/maintenance")).text()
            assert "line from the log &lt;b&gt;" in html
            from aiohttp import FormData

            form = FormData()
            form.add_field("_csrf", token)
            form.add_field("file", backup.replace('name = "minipbx"', 'name = "restored"'),
                           filename="backup.toml", content_type="application/toml")
            r = await client.post("/maintenance/restore", data=form)
            assert env.system.config().candidate.box.name == "restored"
            r = await client.post("/accounts/add", data={
                "_csrf": token, "name": "bob", "role": "user", "extension": "102",
                "password": "short"})
            assert r.status == 400 and "8" in await r.text()
            await client.post("/accounts/add", data={
                "_csrf": token, "name": "bob", "role": "user", "extension": "102",
                "password": "long-enough-1"})
            assert env.system.accounts().get("bob") is not None
            r = await client.post("/accounts/token", data={"_csrf": token, "name": "bob"})
            token_value = re.search(r"mpx_[A-Za-z0-9_-]+", await r.text())
            assert token_value and env.system.accounts().verify_token(token_value.group(0))
    run(go)


def _record(text: str) -> Any:
    import logging

    return logging.LogRecord("minipbx", logging.INFO, __file__, 1, text, None, None)


def test_a_user_changes_their_own_phone_and_nothing_else(env: Env) -> None:
    fake = env.system.config()

    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "alice")  # extension 101: phone port 1
            html = await (await client.get("/me")).text()
            assert 'name="fxs.1.name"' in html and 'name="fxs.1.ring_pattern"' in html
            assert 'name="fxs.2.' not in html and 'name="fxs.1.extension"' not in html
            r = await client.post("/me/save", data={"_csrf": token, "fxs.1.name": "Alice",
                                                    "fxs.1.ring_pattern": ""},
                                  allow_redirects=False)
            assert r.status == 303
            assert fake.running.fxs[0].name == "Alice"  # it runs at once
            assert fake.commits[-1]["user"] == "alice"
            r = await client.post("/me/save", data={"_csrf": token,
                                                    "fxs.1.ring_pattern": "400/x"})
            assert r.status == 400
            assert 'class="field-error"' in _field_div(await r.text(), "fxs.1.ring_pattern")
            assert not fake.pending()["pending"]  # the refused value was not left staged
            h = {"X-CSRF-Token": token}
            r = await client.post("/api/me.set", json={"key": "extension", "value": "109"},
                                  headers=h)
            assert r.status == 400 and "not yours" in (await r.json())["error"]
            fake.set("box.name", "installer-at-work")
            r = await client.post("/api/me.set", json={"key": "name", "value": "A."},
                                  headers=h)
            assert r.status == 400 and "staged" in (await r.json())["error"]
            assert fake.running.fxs[0].name == "Alice"
            assert fake.candidate.box.name == "installer-at-work"  # their work untouched
    run(go)


def test_test_registration_says_what_the_registrar_answered(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "inst")
            await client.post("/config/trunks/add", data={
                "_csrf": token, "_table": "trunk", "trunk.<name>.name": "prov",
                "trunk.<name>.host": "sip.example.net", "trunk.<name>.username": "office"})
            await client.post("/changes/apply", data={"_csrf": token})
            html = await (await client.get("/config/trunks")).text()
            assert 'formaction="/config/trunks/test"' in html
            r = await client.post("/config/trunks/test", data={"_csrf": token,
                                                              "_trunk": "prov"})
            assert "Trunk prov: registered (registered, 200 OK)" in await r.text()
            env.system.registrar_answer = (403, "Forbidden")
            r = await client.post("/config/trunks/test", data={"_csrf": token,
                                                              "_trunk": "prov"})
            assert "403 Forbidden, check the user name and password" in await r.text()
            assert env.system.registered == ["prov", "prov"]
    run(go)
