"""The informer service over a fake dialer (unit test): the call flow per number, the saved
campaign file, and a restart that resumes where the campaign stopped. The real calls are
in tests/e2e/test_informer.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firmware.app.informer import Informer, settings_from
from firmware.config.schema import InformConfig
from firmware.core.causes import Cause
from firmware.core.clock import FakeClock
from firmware.core.errors import CommandError
from firmware.pbx.informer import Settings
from firmware.pbx.tollguard import Permission
from tests.app.fakedialer import NOON, FakeDialer


def make(tmp_path: Path, clock: FakeClock) -> tuple[Informer, FakeDialer]:
    dialer = FakeDialer(clock)
    informer = Informer(tmp_path / "inform", dialer, lambda: InformConfig(reserve=1))
    informer.load()
    return informer, dialer


def test_a_campaign_call_plays_the_message_and_takes_the_confirmation(
        tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    informer, dialer = make(tmp_path, clock)
    informer.begin("night", "101\n102\n1900", Settings(message=("builtin:notice",),
                                                        confirm_digit="1", parallel=3,
                                                        attempts=2, retry_after_s=60))
    dialer.run_due()
    assert [p[0] for p in dialer.placed] == ["101", "102", "1900"]
    assert dialer.placed[0][2] is Permission.NATIONAL  # [inform] permission's default
    dialer.news("inform:night:101", "answered", leg="fxs1")
    assert dialer.plays == [("fxs1", ("builtin:notice",))]
    dialer.news("inform:night:101", "digit", digit="1")
    assert dialer.plays[-1] == ("fxs1", ("builtin:confirmed",))  # replaces the message
    dialer.news("inform:night:101", "played")
    assert dialer.hangups[-1] == "orig1"
    dialer.news("inform:night:101", "ended", cause=Cause.NORMAL_CLEARING)
    dialer.news("inform:night:102", "ended", cause=Cause.USER_BUSY, reason="busy")
    dialer.news("inform:night:1900", "ended", cause=Cause.OUTGOING_CALL_BARRED,
                reason="denied: class premium")
    report = {t["number"]: t for t in informer.report("night")["targets"]}
    assert report["101"]["result"] == "confirmed" and report["101"]["confirmed"] == "1"
    assert report["102"]["result"] == "busy" and not report["102"]["final"]
    assert report["1900"]["result"] == "failed" and report["1900"]["final"]
    clock.advance(60)
    dialer.run_due()
    assert dialer.placed[-1][0] == "102"  # the retry, and only it
    assert len(dialer.placed) == 4


def test_without_a_confirmation_the_box_hangs_up_at_the_end_of_the_message(
        tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    informer, dialer = make(tmp_path, clock)
    informer.begin("n", "101", Settings(message=("builtin:notice",)))
    dialer.run_due()
    dialer.news("inform:n:101", "answered", handle="orig1", leg="fxs1")
    dialer.news("inform:n:101", "played")
    assert dialer.hangups == ["orig1"]
    dialer.news("inform:n:101", "ended", cause=Cause.NORMAL_CLEARING)
    assert informer.status("n")["state"] == "done"
    assert informer.report("n")["targets"][0]["result"] == "heard"


def test_the_saved_file_resumes_after_a_restart(tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    informer, dialer = make(tmp_path, clock)
    informer.begin("r", "101,102,103", Settings(message=("builtin:notice",), parallel=2))
    dialer.run_due()
    dialer.news("inform:r:101", "answered", leg="fxs1")
    dialer.news("inform:r:101", "played")
    dialer.news("inform:r:101", "ended", cause=Cause.NORMAL_CLEARING)
    dialer.run_due()  # 103 starts; 102 and 103 are in progress when the daemon dies
    saved = json.loads((tmp_path / "inform" / "r.json").read_text())
    assert [t["result"] for t in saved["targets"]] == ["heard", "calling", "calling"]

    again, dialer2 = make(tmp_path, clock)  # a new daemon on the same state dir
    dialer2.run_due()
    assert [p[0] for p in dialer2.placed] == ["102", "103"]  # not 101 again
    targets = again.report("r")["targets"]
    assert [t["attempts"] for t in targets] == [1, 1, 1]


def test_stop_hangs_up_the_calls_in_progress(tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    informer, dialer = make(tmp_path, clock)
    informer.begin("s", "101,102,103", Settings(message=("builtin:notice",), parallel=2))
    dialer.run_due()
    assert informer.stop("s")["state"] == "stopped"
    assert sorted(dialer.hangups) == ["orig1", "orig2"]
    dialer.news("inform:s:101", "ended", cause=Cause.NORMAL_CLEARING)
    clock.advance(600)
    dialer.run_due()
    assert len(dialer.placed) == 2


def test_command_options_are_parsed_and_checked() -> None:
    s = settings_from({"message": "notice, builtin:goodbye", "retry_after": "90s",
                       "parallel": 3, "window": "09:00-20:00", "confirm_digit": "1"})
    assert s.message == ("file:notice", "builtin:goodbye")
    assert (s.retry_after_s, s.parallel, s.attempts) == (90.0, 3, 3)
    with pytest.raises(CommandError, match="retry-after"):
        settings_from({"message": "x", "retry_after": "soon"})
    with pytest.raises(CommandError, match="window"):
        settings_from({"message": "x", "window": "9-5"})
    with pytest.raises(CommandError, match="message 'tts:hello'"):
        settings_from({"message": "tts:hello"})


def test_a_message_that_cannot_be_built_refuses_the_campaign(tmp_path: Path) -> None:
    clock = FakeClock(NOON)
    dialer = FakeDialer(clock)
    asked: list[tuple[str, ...]] = []

    async def prepare(refs: tuple[str, ...]) -> list[str]:
        asked.append(refs)
        return ['no file "gone.wav" in prompts/'] if "file:gone" in refs else []

    informer = Informer(tmp_path / "inform", dialer, InformConfig, prepare)
    informer.load()
    with pytest.raises(CommandError, match=r'message: no file "gone\.wav"'):
        asyncio.run(informer.start("x", "101", {"message": "builtin:notice,gone"}))
    assert informer.listing() == [] and dialer.placed == []
    summary = asyncio.run(informer.start("y", "101", {"message": "say:en:Fire drill at noon"}))
    assert summary["numbers"] == 1 and asked[-1] == ("say:en:Fire drill at noon",)
