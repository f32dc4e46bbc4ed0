"""Voicemail messages on the web and through the API, per person (issue 11 §2), against the
real daemon: Alice (user, 101) and Bob (user, 102) each have a message; each lists, plays
(HTTP Range: 206) and deletes only their own; every way to reach the other's answers 404
like a message that does not exist; the admin sees both; an installer sees none."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from firmware.media.vmstore import MailboxStore
from tests.e2e.harness import Daemon, free_port, sine
from tests.e2e.peers import box_config
from tests.web.live_support import add_office_accounts, http

pytestmark = pytest.mark.slow

PHONES: list[dict[str, object]] = [{"port": n, "extension": f"10{n}", "voicemail": True}
                                   for n in (1, 2)]


def api(base: str, token: str, name: str, **args: Any) -> tuple[int, Any]:
    status, _, data = http(base, f"/api/{name}", token, method="POST", body=args)
    answer = json.loads(data)
    return status, answer.get("result", answer)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port = free_port(socket.SOCK_STREAM)
    d = Daemon(tmp_path_factory.mktemp("vm-web"), box_config(fxs=PHONES, web_port=port))
    d.wait_ready()
    try:
        tokens = add_office_accounts(d)
        store = MailboxStore(d.state / "voicemail")
        uids = {}
        for box, hz in (("101", 440.0), ("102", 1000.0)):
            message = store.save(box, sine(hz, 3.0).astype("<i2").tobytes(), 1.8e9, "103")
            assert message is not None
            uids[box] = message.uid
        yield {"base": f"http://127.0.0.1:{port}", "tokens": tokens, "uids": uids}
    finally:
        assert d.stop() == 0, d.log()


def test_each_user_sees_and_plays_only_their_own(office: dict[str, Any]) -> None:
    base, tokens, uids = office["base"], office["tokens"], office["uids"]
    status, body = api(base, tokens["alice"], "voicemail.list")
    assert status == 200 and [m["uid"] for m in body["messages"]] == [uids["101"]]
    status, headers, data = http(base, f"/api/voicemail/101/{uids['101']}", tokens["alice"],
                                 {"Range": "bytes=100-199"})
    assert status == 206 and len(data) == 100, (status, headers)
    whole = http(base, f"/api/voicemail/101/{uids['101']}", tokens["alice"])[2]
    assert whole[:4] == b"RIFF" and whole[100:200] == data
    assert headers["Content-Type"].startswith("audio/wav")
    for path in (f"/api/voicemail/102/{uids['102']}", f"/api/voicemail/101/{uids['102']}",
                 "/api/voicemail/102/nothing", "/api/voicemail/..%2F102/x",
                 f"/api/voicemail/102/{uids['102']}?download=1"):
        assert http(base, path, tokens["alice"])[0] == 404, path
    assert api(base, tokens["alice"], "voicemail.list", extension="102")[0] == 404
    assert api(base, tokens["alice"], "voicemail.delete", extension="102",
               uid=uids["102"])[0] == 404
    assert api(base, tokens["ian"], "voicemail.list")[0] == 404
    status, body = api(base, tokens["boss"], "voicemail.list")
    assert status == 200 and {m["uid"] for m in body["messages"]} == set(uids.values())
    assert http(base, f"/api/voicemail/102/{uids['102']}", tokens["boss"])[0] == 200


def test_user_deletes_own_message(office: dict[str, Any]) -> None:
    base, tokens, uids = office["base"], office["tokens"], office["uids"]
    status, body = api(base, tokens["bob"], "voicemail.delete", extension="102",
                       uid=uids["102"])
    assert status == 200 and body["deleted"] is True
    assert api(base, tokens["bob"], "voicemail.list")[1]["messages"] == []
    assert http(base, f"/api/voicemail/102/{uids['102']}", tokens["boss"])[0] == 404
