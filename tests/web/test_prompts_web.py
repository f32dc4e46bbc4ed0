"""The Prompts page: the list and the upload form, over the real app, the real command
table and a real prompt cache in a temporary state dir (only the box's playing side is
left out: uploads do not play)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import FormData

from firmware.app.promptcache import PromptCache
from firmware.core.errors import CommandError
from firmware.media.wavfile import WavError
from firmware.web.settings import MAX_BODY_BYTES
from tests.web.conftest import Env, login, run


class CachePrompts:
    """The prompts of a box, as the commands see them, without a box to play into."""

    def __init__(self, state: Path) -> None:
        self.cache = PromptCache(state)

    def list(self) -> list[dict[str, object]]:
        return self.cache.listing(["en"])

    async def upload(self, name: str, data: bytes) -> dict[str, Any]:
        try:
            built = self.cache.store_upload(name, data)
        except (WavError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        return {"name": f"file:{built.piece.name}", "seconds": round(built.seconds, 2)}


def stereo_wav(seconds: float, rate: int = 44100) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (8000 * np.sin(2 * np.pi * 600 * t)).astype("<i2")
    body = np.repeat(tone[:, None], 2, axis=1).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 2, rate, rate * 4, 4, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE" + b"fmt "
            + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(body)) + body)


def with_prompts(env: Env, state: Path) -> CachePrompts:
    prompts = CachePrompts(state)
    env.system.prompts = lambda: prompts  # type: ignore[attr-defined]
    return prompts


def upload_form(token: str, data: bytes, filename: str, name: str = "") -> FormData:
    form = FormData()
    form.add_field("_csrf", token)
    form.add_field("name", name)
    form.add_field("file", io.BytesIO(data), filename=filename, content_type="audio/wav")
    return form


def test_an_admin_uploads_a_large_stereo_wav_and_sees_it_listed(env: Env,
                                                                tmp_path: Path) -> None:
    prompts = with_prompts(env, tmp_path / "state")
    data = stereo_wav(2.0)
    assert len(data) > MAX_BODY_BYTES  # more than any other form may send

    async def go() -> tuple[int, str, str]:
        async with env.client() as client:
            _, token = await login(client, "admin")
            page = await client.get("/prompts")
            shown = await page.text()
            response = await client.post("/prompts/upload",
                                         data=upload_form(token, data, "hello.wav"))
            return response.status, await response.text(), shown

    status, text, shown = run(go)
    assert 'enctype="multipart/form-data"' in shown and "builtin:please_hold" in shown
    assert status == 200, text
    assert "Stored file:hello.wav: 2.0 s." in text
    assert (prompts.cache.uploads / "hello.wav").read_bytes() == data
    assert "file:hello.wav" in text  # in the list below the form


def test_what_is_wrong_with_an_upload_is_said_and_nothing_is_kept(env: Env,
                                                                 tmp_path: Path) -> None:
    prompts = with_prompts(env, tmp_path / "state")

    async def go() -> list[tuple[int, str]]:
        async with env.client() as client:
            _, token = await login(client, "admin")
            results = []
            for data, filename, name in ((b"MZ not audio at all", "notes.wav", ""),
                                         (stereo_wav(1.0)[:1000], "cut.wav", ""),
                                         (stereo_wav(0.5), "x.wav", "../evil.wav")):
                r = await client.post("/prompts/upload",
                                      data=upload_form(token, data, filename, name))
                results.append((r.status, await r.text()))
            return results

    (s1, t1), (s2, t2), (s3, t3) = run(go)
    assert s1 == 400 and "notes.wav: not a WAV file" in t1
    assert s2 == 400 and "cut.wav: truncated" in t2
    assert s3 == 400 and "bad prompt file name" in t3
    assert not [p for p in prompts.cache.uploads.glob("*") if not p.name.startswith(".")]
    assert not list(prompts.cache.uploads.glob(".*"))


def test_only_an_admin_may_upload_and_only_with_the_form_token(env: Env,
                                                              tmp_path: Path) -> None:
    prompts = with_prompts(env, tmp_path / "state")

    async def go() -> tuple[int, int]:
        async with env.client() as client:
            _, token = await login(client, "inst")
            as_installer = await client.post(
                "/prompts/upload", data=upload_form(token, stereo_wav(0.2), "a.wav"),
                allow_redirects=False)
        async with env.client() as client:
            await login(client, "admin")
            no_token = await client.post(
                "/prompts/upload", data=upload_form("forged", stereo_wav(0.2), "a.wav"),
                allow_redirects=False)
        return as_installer.status, no_token.status

    installer, forged = run(go)
    assert installer == 403
    assert forged == 403
    assert not prompts.cache.uploads.exists() or not list(prompts.cache.uploads.iterdir())
