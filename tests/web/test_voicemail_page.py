"""The Voicemail page over the fake system (firmware/web/pages/voicemail.py): a user sees
and plays their own mailbox's messages only, deletes with the form (CSRF); the admin sees
every mailbox; the page is in the menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from firmware.media.vmstore import MailboxStore
from tests.web.conftest import Env, form_token, login, run


class Mailboxes:
    """The commands' view of the voicemail service, over a real store."""

    def __init__(self, root: Path) -> None:
        self.store = MailboxStore(root)

    def listing(self, box: str | None) -> list[dict[str, Any]]:
        return [dict(m.as_dict(), extension=m.mailbox) for m in self.store.messages(box)]

    def file(self, box: str, uid: str) -> Path | None:
        return self.store.audio(box, uid) if self.store.get(box, uid) else None

    def remove(self, box: str, uid: str) -> bool:
        return self.store.delete(box, uid)


def tone(seconds: float) -> bytes:
    t = np.arange(int(seconds * 8000)) / 8000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def test_user_sees_plays_and_deletes_only_their_own(env: Env, tmp_path: Path) -> None:
    boxes = Mailboxes(tmp_path / "voicemail")
    env.system.voicemail = boxes  # type: ignore[attr-defined]
    mine = boxes.store.save("101", tone(2.0), 1.8e9, "103", "Carol")
    theirs = boxes.store.save("102", tone(2.0), 1.8e9, "104")
    assert mine is not None and theirs is not None

    async def go() -> None:
        async with env.client() as client:
            await login(client, "alice")
            page = await client.get("/voicemail")
            html = await page.text()
            assert page.status == 200 and 'href="/voicemail"' in html
            assert mine.uid in html and "Carol" in html and theirs.uid not in html
            audio = await client.get(f"/voicemail/101/{mine.uid}",
                                     headers={"Range": "bytes=100-199"})
            assert audio.status == 206 and len(await audio.read()) == 100
            other = await client.get(f"/voicemail/102/{theirs.uid}")
            assert other.status == 404
            refused = await client.post(f"/voicemail/102/{theirs.uid}/delete",
                                        data={"_csrf": form_token(html)},
                                        allow_redirects=False)
            assert refused.status == 404 and boxes.store.get("102", theirs.uid) is not None
            done = await client.post(f"/voicemail/101/{mine.uid}/delete",
                                     data={"_csrf": form_token(html)}, allow_redirects=False)
            assert done.status == 303 and boxes.store.messages("101") == []
        async with env.client() as client:
            await login(client, "admin")
            html = await (await client.get("/voicemail")).text()
            assert theirs.uid in html

    run(go)
