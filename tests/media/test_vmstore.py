"""The mailbox store (firmware/media/vmstore.py): messages as WAV + JSON, short ones
dropped, heard and deleted, greetings replaced, bad names refused."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.media.vmstore import MailboxError, MailboxStore


def pcm(seconds: float) -> bytes:
    t = np.arange(int(seconds * 8000)) / 8000
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


def test_message_kept_with_its_facts(tmp_path: Path) -> None:
    store = MailboxStore(tmp_path / "voicemail")
    message = store.save("102", pcm(2.0), 1_800_000_000.0, "101", "Alice")
    assert message is not None and message.new and message.duration_s == 2.0
    with wave.open(str(store.wav("102", message.uid))) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (8000, 1, 16000)
    [again] = store.messages("102")
    assert again == message and store.messages() == [message]
    assert store.counts("102") == ([message.uid], [])
    assert store.mark_heard("102", message.uid)
    assert store.counts("102") == ([], [message.uid])
    assert store.delete("102", message.uid) and not store.delete("102", message.uid)
    assert store.messages("102") == []


def test_under_a_second_is_not_kept(tmp_path: Path) -> None:
    store = MailboxStore(tmp_path)
    assert store.save("102", pcm(0.9), 0.0) is None
    assert store.messages() == []


def test_greeting_replaced(tmp_path: Path) -> None:
    store = MailboxStore(tmp_path)
    assert store.greeting("102") is None
    first = store.save_greeting("102", pcm(1.5))
    second = store.save_greeting("102", pcm(1.5))
    assert first is not None and second is not None and first != second
    assert store.greeting("102") == second and not first.exists()
    assert store.messages("102") == []


def test_bad_names_refused(tmp_path: Path) -> None:
    store = MailboxStore(tmp_path)
    with pytest.raises(MailboxError, match="bad mailbox"):
        store.wav("../x", "20260101-000000-abcd")
    with pytest.raises(MailboxError, match="bad message id"):
        store.wav("102", "../../etc/passwd")
    assert store.get("102", "nope") is None
