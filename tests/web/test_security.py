"""The web page's security behaviours, each tried: headers, cookie flags, CSRF, throttling,
session expiry, static files, request size, roles and API tokens, first-boot setup."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from firmware.web.security import PRE_COOKIE
from firmware.web.sessions import COOKIE
from firmware.web.settings import (
    LOGIN_BASE_DELAY_S,
    MAX_BODY_BYTES,
    SESSION_ABSOLUTE_S,
    SESSION_IDLE_S,
    WebSettings,
)
from firmware.web.throttle import LoginThrottle, keys_for
from tests.web.conftest import Env, form_token, login, run
from tests.web.fakes import PASSWORD


def _cookie(response: Any, name: str) -> Any:
    for header in response.headers.getall("Set-Cookie", []):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name], header
    raise AssertionError(f"no {name} cookie set: {response.headers}")


def test_security_headers_on_pages_errors_and_static(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            for path in ("/login", "/no-such-page", "/static/app.css", "/static/nope.js"):
                r = await client.get(path, allow_redirects=False)
                csp = r.headers.get("Content-Security-Policy", "")
                assert "default-src 'self'" in csp, (path, csp)
                assert "frame-ancestors 'none'" in csp, (path, csp)
                assert "'unsafe-inline'" not in csp
                assert r.headers.get("X-Content-Type-Options") == "nosniff", path
                assert r.headers.get("Referrer-Policy") == "no-referrer", path
                assert "Strict-Transport-Security" not in r.headers  # plain HTTP here
    run(go)


def test_session_cookie_is_httponly_strict_and_not_secure_over_http(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            response, _ = await login(client, "admin")
            assert response.status == 303
            morsel, header = _cookie(response, COOKIE)
            assert morsel["httponly"] is True
            assert morsel["samesite"] == "Strict"
            assert not morsel["secure"], header
    run(go)


def test_session_cookie_is_secure_under_https(env: Env) -> None:
    env.settings = WebSettings(port=0, tls_cert="/box/cert.pem", tls_key="/box/key.pem")

    async def go() -> None:
        # The test server speaks plain HTTP, so the client keeps Secure cookies to itself:
        # send the login form's cookie by hand; the flags are what is tested.
        async with env.client() as client:
            page = await client.get("/login")
            pre, header = _cookie(page, PRE_COOKIE)
            assert pre["secure"] is True, header
            assert page.headers.get("Strict-Transport-Security")
            response = await client.post(
                "/login", data={"_csrf": form_token(await page.text()), "name": "admin",
                                "password": PASSWORD},
                headers={"Cookie": f"{PRE_COOKIE}={pre.value}"}, allow_redirects=False)
            assert response.status == 303
            morsel, header = _cookie(response, COOKIE)
            assert morsel["secure"] is True, header
            assert morsel["httponly"] is True and morsel["samesite"] == "Strict"
    run(go)


def test_state_changes_without_the_csrf_token_are_refused(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "admin")
            assert token
            path = "box.name"
            for data in ({path: "nocsrf"}, {path: "badcsrf", "_csrf": "x" * 43}):
                r = await client.post("/config/box/save", data=data, allow_redirects=False)
                assert r.status == 403, await r.text()
            r = await client.post("/api/config.set", json={"path": path, "value": "api"})
            assert r.status == 403
            assert env.system.config().candidate.box.name == "minipbx"  # nothing staged
            r = await client.post("/config/box/save", data={path: "withcsrf", "_csrf": token},
                                  allow_redirects=False)
            assert r.status == 303, await r.text()
            assert env.system.config().candidate.box.name == "withcsrf"
            r = await client.post("/api/config.set", json={"path": path, "value": "api"},
                                  headers={"X-CSRF-Token": token})
            assert (await r.json())["ok"] is True
            assert env.system.config().candidate.box.name == "api"
    run(go)


def test_login_form_needs_its_double_submit_token(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            r = await client.post("/login", data={"name": "admin", "password": PASSWORD},
                                  allow_redirects=False)
            assert r.status == 403
            page = await client.get("/login")
            token = form_token(await page.text())
            client.session.cookie_jar.clear()  # a foreign page cannot send our cookie
            r = await client.post("/login", data={"_csrf": token, "name": "admin",
                                                  "password": PASSWORD},
                                  allow_redirects=False)
            assert r.status == 403
    run(go)


def test_login_is_throttled_with_growing_waits(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            r, _ = await login(client, "admin", "wrong-password")
            assert r.status == 401
            assert "Wrong account name or password" in await r.text()
            r, _ = await login(client, "admin")  # the right password, too soon
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
            env.clock.now += LOGIN_BASE_DELAY_S + 0.1
            r, _ = await login(client, "admin", "wrong-again-1")
            assert r.status == 401
            env.clock.now += LOGIN_BASE_DELAY_S + 0.1  # the second wait is twice as long
            r, _ = await login(client, "admin")
            assert r.status == 429
            env.clock.now += LOGIN_BASE_DELAY_S
            r, _ = await login(client, "admin")
            assert r.status == 303
    run(go)


def test_throttle_keys_by_address_and_by_account() -> None:
    now = [0.0]
    throttle = LoginThrottle(1.0, 300.0, clock=lambda: now[0])
    throttle.failed(keys_for("10.0.0.1", "admin"))
    # Another address guessing the same account waits; the first address with another
    # account waits too; an unrelated address and account does not.
    assert throttle.wait_s(keys_for("10.0.0.2", "admin")) > 0
    assert throttle.wait_s(keys_for("10.0.0.1", "bob")) > 0
    assert throttle.wait_s(keys_for("10.0.0.3", "bob")) == 0
    for _ in range(20):
        throttle.failed(keys_for("10.0.0.1", "admin"))
    assert 299 < throttle.wait_s(keys_for("10.0.0.1", "admin")) <= 300  # capped
    throttle.succeeded(keys_for("10.0.0.1", "admin"))
    assert throttle.wait_s(keys_for("10.0.0.1", "admin")) == 0


def test_sessions_expire_when_idle_and_at_their_absolute_limit(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "admin")
            r = await client.get("/", allow_redirects=False)
            assert r.status == 200
            env.clock.now += SESSION_IDLE_S + 1
            r = await client.get("/", allow_redirects=False)
            assert r.status == 303 and r.headers["Location"].startswith("/login")
            await login(client, "admin")
            started = env.clock.now
            while env.clock.now - started < SESSION_ABSOLUTE_S - SESSION_IDLE_S / 2:
                env.clock.now += SESSION_IDLE_S / 2  # used often: never idle
                r = await client.get("/", allow_redirects=False)
                assert r.status == 200
            env.clock.now += SESSION_IDLE_S / 2 + 1
            r = await client.get("/", allow_redirects=False)
            assert r.status == 303
    run(go)


def test_logout_ends_the_session_server_side(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "admin")
            sid = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE].value
            r = await client.post("/logout", data={"_csrf": token}, allow_redirects=False)
            assert r.status == 303
            client.session.cookie_jar.update_cookies({COOKIE: sid})  # replay the old cookie
            r = await client.get("/", allow_redirects=False)
            assert r.status == 303
    run(go)


def test_static_files_cannot_reach_outside_their_folder(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            r = await client.get("/static/app.css")
            assert r.status == 200 and r.content_type == "text/css"
            for path in ("/static/../server.py", "/static/%2e%2e/server.py",
                         "/static/..%2fserver.py", "/static/..%2F..%2Fpyproject.toml",
                         "/static/%2fetc%2fpasswd", "/static/.%2e/security.py",
                         "/static/app.css%00.py"):
                r = await client.get(path, allow_redirects=False)
                assert r.status == 404, (path, r.status)
                assert b"import" not in await r.read()
    run(go)


def test_request_bodies_over_the_limit_are_refused(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "admin")
            big = b"x" * (MAX_BODY_BYTES + 1)
            r = await client.post("/api/config.set", data=big,
                                  headers={"X-CSRF-Token": token,
                                           "Content-Type": "application/json"})
            assert r.status == 413
            r = await client.post("/login", data={"name": "a" * (MAX_BODY_BYTES + 10)})
            assert r.status == 413
    run(go)


def test_roles_limit_pages_and_commands(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            _, token = await login(client, "alice")  # a user, extension 101
            for path, want in (("/", 200), ("/me", 200), ("/config/box", 403),
                               ("/accounts", 403), ("/diagnostics", 403),
                               ("/maintenance", 403)):
                r = await client.get(path, allow_redirects=False)
                assert r.status == want, (path, r.status)
            page = await (await client.get("/")).text()
            assert 'href="/config/box"' not in page  # the nav shows only what she may open
            assert "Pending changes" not in page  # nor the bar she could not use
            r = await client.post("/api/config.set", json={"path": "box.name", "value": "x"},
                                  headers={"X-CSRF-Token": token})
            body = await r.json()
            assert r.status == 403 and "installer" in body["error"], body
            r = await client.post("/api/status", json={}, headers={"X-CSRF-Token": token})
            assert (await r.json())["ok"] is True
        async with env.client() as client:
            await login(client, "inst")
            assert (await client.get("/config/phones")).status == 200
            assert (await client.get("/accounts", allow_redirects=False)).status == 403
        async with env.client() as client:
            await login(client, "admin")
            assert (await client.get("/accounts")).status == 200
    run(go)


def test_api_tokens_work_without_cookie_or_csrf_and_bad_ones_are_refused(env: Env) -> None:
    token = env.system.accounts().new_token("inst")

    async def go() -> None:
        async with env.client() as client:
            r = await client.post("/api/config.set", json={"path": "box.name", "value": "tk"},
                                  headers={"Authorization": f"Bearer {token}"})
            body = await r.json()
            assert r.status == 200 and body["ok"], body
            assert env.system.config().candidate.box.name == "tk"
            r = await client.post("/api/user.list", json={},
                                  headers={"Authorization": f"Bearer {token}"})
            assert r.status == 403  # an installer's token is an installer
            r = await client.post("/api/status", json={},
                                  headers={"Authorization": "Bearer mpx_not-a-token"})
            assert r.status == 401
            r = await client.post("/api/status", json={},
                                  headers={"Authorization": f"Bearer {token}"})
            assert r.status == 429  # the bad token throttled the address
            r = await client.post("/api/status", json={})
            assert r.status == 401  # no session, no token
    run(go)


def test_first_boot_asks_for_the_setup_code_then_creates_the_admin(fresh_env: Env) -> None:
    store = fresh_env.system.accounts()
    code = store.setup_code()
    assert code

    async def go() -> None:
        async with fresh_env.client() as client:
            r = await client.get("/", allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == "/setup"
            r = await client.get("/login", allow_redirects=False)
            assert r.headers["Location"] == "/setup"
            r = await client.post("/api/status", json={})
            assert r.status == 503
            page = await client.get("/setup")
            text = await page.text()
            assert 'name="code"' in text and 'name="password"' in text
            token = form_token(text)
            form = {"_csrf": token, "code": "AAAA-BBBB-CCCC", "name": "boss",
                    "password": PASSWORD, "password2": PASSWORD}
            r = await client.post("/setup", data=form, allow_redirects=False)
            assert r.status == 403 and 'id="err-code"' in await r.text()
            assert not store.has_admin()
            fresh_env.clock.now += 10
            r = await client.post("/setup", data={**form, "code": code.lower()},
                                  allow_redirects=False)
            assert r.status == 303, await r.text()
            assert store.has_admin() and store.get("boss") is not None
            home = await client.get("/")
            assert home.status == 200 and "boss" in await home.text()
            r = await client.get("/setup", allow_redirects=False)
            assert r.headers["Location"] == "/login"
    run(go)


def test_login_goes_back_only_to_this_site(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            page = await client.get("/login?next=//evil.example/x")
            token = form_token(await page.text())
            r = await client.post("/login", data={"_csrf": token, "name": "admin",
                                                  "password": PASSWORD,
                                                  "next": "//evil.example/x"},
                                  allow_redirects=False)
            assert r.headers["Location"] == "/"
    run(go)


def test_a_deleted_account_loses_its_session(env: Env) -> None:
    async def go() -> None:
        async with env.client() as client:
            await login(client, "inst")
            assert (await client.get("/config/box")).status == 200
            env.system.accounts().delete("inst")
            r = await client.get("/config/box", allow_redirects=False)
            assert r.status == 303
    run(go)

