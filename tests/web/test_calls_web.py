"""Calls and recordings on the web page, per person (issue 10, section 4), against the real
daemon: headless Chromium for the pages, plain HTTP for the API and the file URLs.

Alice (user, extension 101) and Bob (user, 102) each make a call to 103 that is recorded
(the recordings are seeded in the recorder's own layout, an Ogg Opus file made by
opusenc, and linked to the records). Then:
- each sees only their own call on /calls and through /api/calls, and plays and
  downloads only their own recording; every other way to reach Bob's (his record id in
  the page URL, the API, the download link, a guessed or malformed id, the recording's
  own uid) answers 404 for Alice, exactly like an id that does not exist;
- the admin sees both, plays one inline and seeks (HTTP Range, 206), and deletes one with
  the form (CSRF); a user's delete is refused;
- the dashboard's load chart follows a new call over the SSE feed.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Daemon, free_port, sine
from tests.e2e.peers import box_config
from tests.web.live_support import DESKTOP, PHONE, add_office_accounts, http, login

playwright_api = pytest.importorskip("playwright.sync_api")
recstore = pytest.importorskip("firmware.media.recstore")

pytestmark = pytest.mark.slow

PHONES = [{"port": n, "extension": f"10{n}", "name": name}
          for n, name in ((1, "Alice"), (2, "Bob"), (3, "Carol"))]


def api(base: str, token: str, name: str, **args: Any) -> tuple[int, Any]:
    status, _, data = http(base, f"/api/{name}", token=token, method="POST", body=args)
    return status, json.loads(data)


def call_103(d: Daemon, port: int) -> None:
    d.phone(port, "offhook")
    d.dial(port, "103")
    d.wait_for("phone 3 to ring", lambda: d.port("fxs3")["ringing"])
    d.phone(3, "offhook")
    d.wait_for("the call", lambda: d.port(f"fxs{port}")["with"] == "fxs3")
    d.phone(port, "onhook")
    d.phone(3, "onhook")
    d.wait_for("the box at rest", lambda: not d.call("status")["calls"])


def seed_recording(state: Path, db: Path, record_uid: str, call_id: int, hz: float) -> str:
    """A finished recording in the recorder's layout, linked to record ``record_uid``."""
    store = recstore.RecordingStore(state / "recordings")
    info = store.create(call_id, "fxs1", "fxs3", "mono")
    wav = store.wav_path(info)
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(sine(hz, 20.0).astype("<i2").tobytes())
    opus = store.opus_path(info)
    subprocess.run(["opusenc", "--quiet", str(wav), str(opus)], check=True)
    wav.unlink()
    store.update(info, state="ready", format="ogg/opus", duration_s=20.0,
                 bytes=opus.stat().st_size, ended=info.started + 20,
                 path=f"{info.day}/{info.uid}.opus")
    con = sqlite3.connect(db)
    con.execute("UPDATE calls SET recording = ? WHERE uid = ?", (info.uid, record_uid))
    con.commit()
    con.close()
    return str(info.uid)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port = free_port(socket.SOCK_STREAM)
    d = Daemon(tmp_path_factory.mktemp("calls-web"), box_config(fxs=PHONES, web_port=port))
    d.wait_ready()
    try:
        tokens = add_office_accounts(d)
        call_103(d, 1)
        call_103(d, 2)
        rows = d.wait_for("two records", lambda: r if len(r := d.call("calls")["calls"]) == 2
                          else None)
        by_ext = {r["caller_ext"]: r["uid"] for r in rows}
        db = d.state / "cdr.sqlite"
        recs = {"101": seed_recording(d.state, db, by_ext["101"], 1, 440.0),
                "102": seed_recording(d.state, db, by_ext["102"], 2, 1000.0)}
        yield {"d": d, "base": f"http://127.0.0.1:{port}", "tokens": tokens,
               "records": by_ext, "recordings": recs}
    finally:
        code = d.stop()
        assert code == 0, f"daemon exited {code}:\n{d.log()}"


def test_the_api_shows_each_user_only_their_own_calls(office: dict[str, Any]) -> None:
    base, tokens, records = office["base"], office["tokens"], office["records"]
    for name, ext in (("alice", "101"), ("bob", "102")):
        status, reply = api(base, tokens[name], "calls")
        assert status == 200, reply
        assert [r["caller_ext"] for r in reply["result"]["calls"]] == [ext]
        # Asking for the other's extension does not widen the view.
        other = "102" if ext == "101" else "101"
        _, reply = api(base, tokens[name], "calls", extension=other)
        assert reply["result"]["calls"] == []
    for name in ("boss", "ian"):
        _, reply = api(base, tokens[name], "calls")
        assert reply["result"]["total"] == 2
    bob_uid = records["102"]
    status, reply = api(base, tokens["alice"], "calls.get", uid=bob_uid)
    assert status == 404 and reply["error"] == f"no call record {bob_uid!r}"
    status, missing = api(base, tokens["alice"], "calls.get", uid="0123456789abcdef")
    assert status == 404 and missing["error"] == "no call record '0123456789abcdef'"
    status, reply = api(base, tokens["alice"], "calls.recording", uid=bob_uid)
    assert status == 404
    # Scripts fetch a recording with their token: their own, never another's.
    status, reply = api(base, tokens["alice"], "calls.recording", uid=records["101"])
    assert status == 200 and "file" not in reply["result"], reply
    status, headers, body = http(base, reply["result"]["url"].replace("/calls/",
                                                                      "/api/calls/"),
                                 token=tokens["alice"])
    assert status == 200 and body[:4] == b"OggS"
    assert headers["Content-Type"].startswith("audio/ogg")
    for token in (tokens["alice"], tokens["ian"]):
        status, _, _ = http(base, f"/api/calls/{bob_uid}/recording", token=token)
        assert status == 404
    status, _, _ = http(base, f"/api/calls/{bob_uid}/recording", token=tokens["bob"])
    assert status == 200
    status, reply = api(base, tokens["alice"], "calls.recording.delete", uid=bob_uid)
    assert status == 403
    status, reply = api(base, tokens["alice"], "calls.get", uid=records["101"])
    assert status == 200 and reply["result"]["recording"]["state"] == "ready"
    assert [leg["role"] for leg in reply["result"]["legs"]] == ["caller", "callee"]
    # The installer sees the calls but hears no one's recording.
    _, reply = api(base, tokens["ian"], "calls.get", uid=bob_uid)
    assert reply["result"]["recording"] is None
    status, _ = api(base, tokens["ian"], "calls.recording", uid=bob_uid)
    assert status == 404


def test_no_url_plays_or_downloads_another_users_recording(browser: Any,
                                                            office: dict[str, Any]) -> None:
    base, records, recordings = office["base"], office["records"], office["recordings"]
    page = login(browser, base, "alice")
    request = page.context.request
    mine, bobs = records["101"], records["102"]
    ok = request.get(f"/calls/{mine}/recording")
    assert ok.status == 200 and ok.headers["content-type"].startswith("audio/ogg")
    assert ok.body()[:4] == b"OggS"
    tries = [f"/calls/{bobs}/recording", f"/calls/{bobs}/recording?download=1",
             f"/calls/{recordings['102']}/recording",  # the recording's own uid
             f"/calls/{bobs[:-1]}0/recording", "/calls/0000000000000000/recording",
             "/calls/..%2f..%2fcdr.sqlite/recording", f"/calls/{mine}%00{bobs}/recording",
             "/calls/' OR '1'='1/recording"]
    not_found = request.get("/calls/ffffffffffffffff/recording")
    assert not_found.status == 404
    for url in tries:
        got = request.get(url)
        assert got.status == 404, url
        assert got.body() == not_found.body(), url  # not yours = does not exist
    # A guessing run of ids costs 404s and finds nothing.
    for n in range(200):
        assert request.get(f"/calls/{n:016x}/recording").status == 404
    # A user's delete form, CSRF and all, is refused.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = request.post(f"/calls/{bobs}/recording/delete", form={"_csrf": csrf})
    assert refused.status == 403
    assert (office["d"].state / "recordings").exists()
    page.context.close()


def test_each_user_sees_their_own_calls_page(browser: Any, office: dict[str, Any],
                                             shots: Path) -> None:
    base, records = office["base"], office["records"]
    for name, ext, other in (("alice", "101", "102"), ("bob", "102", "101")):
        page = login(browser, base, name, PHONE if name == "bob" else DESKTOP)
        page.get_by_role("link", name="Calls").click()
        page.wait_for_url("**/calls")
        rows = page.locator("tr[data-uid]")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-uid") == records[ext]
        assert f"Calls of extension {ext}." in page.content()
        assert records[other] not in page.content()
        assert page.locator("audio").count() == 1
        assert page.get_by_role("button", name="Delete").count() == 0
        if name == "alice":
            page.screenshot(path=str(shots / "calls-user-desktop.png"))
        # The other's extension in the URL shows nothing of theirs.
        page.goto(f"/calls?extension={other}")
        assert page.locator("tr[data-uid]").count() == 0
        assert records[other] not in page.content()
        page.context.close()


def test_the_admin_plays_seeks_downloads_and_deletes(browser: Any,
                                                     office: dict[str, Any],
                                                     shots: Path) -> None:
    base, records = office["base"], office["records"]
    page = login(browser, base, "boss")
    page.goto("/calls")
    assert page.locator("tr[data-uid]").count() == 2
    page.goto("/calls?disposition=answered&sort=caller&order=asc")
    uids = [r.get_attribute("data-uid") for r in page.locator("tr[data-uid]").all()]
    assert uids == [records["101"], records["102"]]
    page.screenshot(path=str(shots / "calls-admin-desktop.png"))

    # Inline playback: Chromium decodes the Opus file and seeks within it.
    row = page.locator(f'tr[data-uid="{records["101"]}"]')
    audio = row.locator("audio")
    duration = audio.evaluate("""a => new Promise((ok, bad) => {
        a.preload = 'auto';
        if (a.readyState >= 1) return ok(a.duration);
        a.addEventListener('loadedmetadata', () => ok(a.duration));
        a.addEventListener('error', () => bad(String(a.error && a.error.code)));
        a.load(); })""")
    assert 19.0 < duration < 21.0
    seeked = audio.evaluate("""a => new Promise(ok => {
        a.addEventListener('seeked', () => ok(a.currentTime), {once: true});
        a.currentTime = 15; })""")
    assert 14.0 < seeked < 16.0
    part = page.context.request.get(f"/calls/{records['101']}/recording",
                                    headers={"Range": "bytes=100-199"})
    assert part.status == 206 and len(part.body()) == 100
    assert part.headers["content-range"].startswith("bytes 100-199/")
    download = page.context.request.get(f"/calls/{records['101']}/recording?download=1")
    assert "attachment" in download.headers["content-disposition"]

    # Delete (confirmed in the dialog): the recording goes, the record stays.
    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/calls**")
    assert "Recording deleted." in page.content()
    row = page.locator(f'tr[data-uid="{records["101"]}"]')
    assert row.locator("audio").count() == 0 and "deleted" in row.inner_text()
    gone = page.context.request.get(f"/calls/{records['101']}/recording")
    assert gone.status == 404
    page.context.close()


def test_the_load_chart_follows_a_new_call_live(browser: Any, office: dict[str, Any],
                                                shots: Path) -> None:
    d, base = office["d"], office["base"]
    page = login(browser, base, "boss")
    chart = page.locator("#part-load svg.load-chart")
    before = int(chart.get_attribute("data-calls") or "0")
    assert page.locator("#part-load .in-progress").inner_text() == "0"
    d.phone(1, "offhook")
    d.dial(1, "102")
    page.wait_for_function(
        "() => document.querySelector('#part-load .in-progress').innerText === '1'")
    d.phone(1, "onhook")
    page.wait_for_function(
        f"() => Number(document.querySelector('#part-load svg.load-chart')"
        f".getAttribute('data-calls')) === {before + 1}", timeout=15_000)
    page.screenshot(path=str(shots / "dashboard-load-desktop.png"), full_page=True)
    page.context.close()


FIRST_EVENT = """() => new Promise((ok, bad) => {
    const source = new EventSource('/events');
    source.addEventListener('status', ev => { source.close(); ok(Object.keys(
        JSON.parse(ev.data)).sort()); });
    setTimeout(() => bad('no event'), 8000); })"""


def test_a_user_sees_no_one_elses_calls_in_progress(browser: Any,
                                                    office: dict[str, Any]) -> None:
    d, base = office["d"], office["base"]
    d.phone(2, "offhook")
    d.dial(2, "103")  # Bob calls Carol: not Alice's business
    try:
        d.wait_for("phone 3 to ring", lambda: d.port("fxs3")["ringing"])
        alice = login(browser, base, "alice")
        assert "Calls in progress" not in alice.content()
        keys = alice.evaluate(FIRST_EVENT)
        assert "calls" not in keys and "load" in keys and "ports" in keys
        boss = login(browser, base, "boss")
        assert "Calls in progress" in boss.content()
        assert "calls" in boss.evaluate(FIRST_EVENT)
        boss.wait_for_function(
            "() => document.querySelector('#part-calls').innerText.includes('103')")
        alice.context.close()
        boss.context.close()
    finally:
        d.phone(2, "onhook")
