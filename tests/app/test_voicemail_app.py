"""The voicemail service (firmware/app/voicemail_app.py) on fakes: a tapped line's audio
becomes a message, the exchange's view and the lamp follow the new-message count, edits
reach the store."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware.app import voicemail_app
from firmware.app.voicemail_app import VoicemailService
from firmware.core.events import MailboxEdit, Party, VoiceMessage
from firmware.media.vmstore import MailboxStore

Sink = Callable[[bytes | None, bytes | None], None]


class FakeTap:
    def __init__(self) -> None:
        self.sinks: dict[str, Sink | None] = {}

    def record(self, leg: str, sink: Sink | None) -> None:
        self.sinks[leg] = sink

    def can_record(self, leg: str) -> bool:
        return leg.startswith("fxs")

    def record_media(self, leg: str, path: str | None) -> bool:
        return False


class FakeExchange:
    def __init__(self) -> None:
        self.boxes: dict[str, tuple[list[str], list[str], bool]] = {}
        self.pins: dict[str, str | None] = {}

    def set_mailbox(self, box: str, new: list[str], old: list[str], greeting: bool,
                    pin: str | None = None) -> None:
        self.boxes[box] = (new, old, greeting)
        self.pins[box] = pin


def leave_message(service: VoicemailService, tap: FakeTap, frames: int) -> None:
    """101 (Alice) on fxs1 leaves ``frames`` 20 ms frames in mailbox 102."""
    service.handle(VoiceMessage(7, "fxs1", "102", True, Party("101", "Alice")))
    sink = tap.sinks["fxs1"]
    assert sink is not None
    for _ in range(frames):
        sink(b"\x01\x00" * 160, None)
    service.handle(VoiceMessage(7, "fxs1", "102", False, Party("101", "Alice")))


def test_message_lamp_and_edits(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        tap, exchange = FakeTap(), FakeExchange()
        lamps: list[tuple[str, bool]] = []

        def vmwi(leg: str, on: bool) -> bool:
            lamps.append((leg, on))
            return True

        service = VoicemailService(loop, MailboxStore(tmp_path), tap, exchange, vmwi,
                                   lambda: {"102": "fxs2"})
        service.start()
        assert exchange.boxes["102"] == ([], [], False) and lamps == [("fxs2", False)]
        leave_message(service, tap, 100)  # 2 s of 20 ms frames
        assert tap.sinks["fxs1"] is None
        [message] = service.store.messages("102")
        assert (message.caller_number, message.caller_name, message.duration_s) == \
            ("101", "Alice", 2.0)
        assert exchange.boxes["102"] == ([message.uid], [], False)
        assert lamps[-1] == ("fxs2", True)
        service._work.submit(lambda: None).result(timeout=60)  # the encode is done
        assert service.store.audio("102", message.uid) == service.store.opus("102", message.uid)
        assert not service.store.wav("102", message.uid).exists()
        service.handle(MailboxEdit("102", "", "open"))  # decoded for the phone menu
        service._work.submit(lambda: None).result(timeout=60)
        played = service.resolve(f"102/{message.uid}")
        assert played is not None and played.parent == service.play_dir / "102"
        with wave.open(str(played)) as w:
            assert (w.getframerate(), w.getnchannels()) == (8000, 1)
            assert abs(w.getnframes() - 16000) < 400
        service.handle(MailboxEdit("102", message.uid, "heard"))
        assert exchange.boxes["102"] == ([], [message.uid], False)
        assert lamps[-1] == ("fxs2", False)
        service.handle(MailboxEdit("102", message.uid, "delete"))
        assert service.store.messages() == [] and not played.exists()
        # A short one (0.5 s) is not kept, and the lamp does not move.
        sent = len(lamps)
        service.handle(VoiceMessage(8, "fxs1", "102", True))
        short = tap.sinks["fxs1"]
        assert short is not None
        for _ in range(25):
            short(b"\x01\x00" * 160, None)
        service.handle(VoiceMessage(8, "fxs1", "102", False))
        assert service.store.messages() == [] and len(lamps) == sent
        # A PIN set by phone holds while the configured one stays what it was.
        configured = {"102": "1234"}
        service.configured_pin = configured.__getitem__
        service.handle(MailboxEdit("102", "", "pin", "5678"))
        assert exchange.pins["102"] == "5678"
        configured["102"] = "9999"  # the configuration changed: its PIN wins
        service.refresh("102")
        assert exchange.pins["102"] is None
        service.close()
        assert not service.play_dir.exists()
    finally:
        loop.close()


def test_a_message_keyed_before_its_decode_is_decoded_then_and_there(tmp_path: Path) -> None:
    """The owner keys "play" before the decode that opening the mailbox started is done (a
    loaded box): the message is decoded at once, not reported missing (and marked heard
    unheard)."""
    loop = asyncio.new_event_loop()
    try:
        tap = FakeTap()
        service = VoicemailService(loop, MailboxStore(tmp_path), tap, FakeExchange(),
                                   lambda leg, on: True, lambda: {"102": "fxs2"})
        service.start()
        leave_message(service, tap, 100)
        [message] = service.store.messages("102")
        service._work.submit(lambda: None).result(timeout=60)  # encoded; the WAV is gone
        assert not service.store.wav("102", message.uid).exists()
        # No "open" (or it has not run yet): nothing decoded for the phone menu.
        assert not (service.play_dir / "102").exists()
        played = service.resolve(f"102/{message.uid}")
        assert played is not None and played.exists()
        with wave.open(str(played)) as w:
            assert abs(w.getnframes() - 16000) < 400
        assert not list(played.parent.glob(".*part*")), "no half-written file left"
    finally:
        service.close()
        loop.close()


def test_a_message_deleted_while_it_is_encoded_leaves_no_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The owner deletes a message while opusenc is reading it: the encoded file that
    appears afterwards is removed too, so the deleted voice does not stay on the card."""
    real_encode = voicemail_app.encode
    store = MailboxStore(tmp_path)

    def encode_then_deleted(wav: Path, out: Path, channels: int, seconds: float) -> Any:
        done = real_encode(wav, out, channels, seconds)
        assert out.exists()  # the copy is there when the deletion comes
        [message] = store.messages("102")
        assert store.delete("102", message.uid)
        out.write_bytes(b"OggS")  # as if os.replace had come just after the delete
        return done

    monkeypatch.setattr(voicemail_app, "encode", encode_then_deleted)
    loop = asyncio.new_event_loop()
    tap = FakeTap()
    service = VoicemailService(loop, store, tap, FakeExchange(), lambda leg, on: True,
                               lambda: {"102": "fxs2"})
    try:
        service.start()
        leave_message(service, tap, 50)
        service._work.submit(lambda: None).result(timeout=60)  # the encode is done
        assert store.messages("102") == []
        assert sorted(p.name for p in store.box_dir("102").iterdir()) == []
    finally:
        service.close()
        loop.close()


def test_an_ip_phones_mailbox_goes_to_the_sip_side(tmp_path: Path) -> None:
    """start_voicemail over the configuration: handset 102's mailbox has its port's lamp;
    IP phone 110's ([[sip_user]] voicemail) has its counts handed to the SIP side
    (SipAdapter.message_waiting, which NOTIFYs the phone), at start (forced), after each
    change and on the periodic refresh (forced), and that it is gone when a commit
    switches it off; the exchange gets its view, and its configured PIN counts."""
    from types import SimpleNamespace

    from firmware.app.voicemail_app import start_voicemail
    from firmware.config.schema import Config, FxsPort, SipUser

    config = Config(fxs=(FxsPort(port=2, extension="102", voicemail=True),),
                    sip_user=(SipUser(extension="110", password="secret-110", voicemail=True,
                                      voicemail_pin="2468"),))
    loop = asyncio.new_event_loop()
    lamps: list[tuple[str, bool]] = []
    phones: list[tuple[str, int, int, bool]] = []
    phones_off: list[str] = []

    def vmwi(leg: str, on: bool) -> bool:
        lamps.append((leg, on))
        return True

    def message_waiting(extension: str, new: int, old: int, force: bool = False) -> int:
        phones.append((extension, new, old, force))
        return 1

    box = SimpleNamespace(fxs={"fxs2": SimpleNamespace(extension="102")}, switch=FakeTap(),
                          send_vmwi=vmwi, on_voicemail=None,
                          sip=SimpleNamespace(message_waiting=message_waiting,
                                              message_waiting_off=phones_off.append))
    exchange = FakeExchange()
    running = [config]
    service = start_voicemail(loop, tmp_path, box, exchange, None, lambda: running[0])
    try:
        assert lamps == [("fxs2", False)]
        assert phones == [("110", 0, 0, True)]
        assert exchange.boxes["110"] == ([], [], False)
        assert service.configured_pin("110") == "2468"
        message = service.store.save("110", b"\x01\x00" * 16000, 1000.0, "101")
        assert message is not None
        service.refresh("110")
        assert exchange.boxes["110"][0] and lamps == [("fxs2", False)]
        assert phones[-1] == ("110", 1, 0, False)
        service.handle(MailboxEdit("110", message.uid, "heard"))
        assert phones[-1] == ("110", 0, 1, False)
        service.handle(MailboxEdit("110", message.uid, "delete"))
        assert phones[-1] == ("110", 0, 0, False)
        service._periodic()
        assert phones[-1] == ("110", 0, 0, True)
        assert lamps[-1] == ("fxs2", False), "the handset's lamp is not the phone's"
        assert service.status()["110"] == {"new": 0, "old": 0, "lamp": None}
        service.reconfigured()
        assert phones_off == []
        running[0] = Config(fxs=config.fxs, sip_user=(SipUser(extension="110",
                                                              password="secret-110"),))
        service.reconfigured()  # 110's mailbox switched off: the SIP side is told once
        service.reconfigured()
        assert phones_off == ["110"]
    finally:
        service.close()
        loop.close()
