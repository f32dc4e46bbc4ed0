"""What the line machines' actions do to the media switch and the board
(firmware/app/lineactions.py), with fakes of the switch, the loop and the line slots."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace as NS
from typing import Any

from drivers.errors import DriverError
from firmware.app.lineactions import LineActions
from firmware.core.causes import Cause
from firmware.core.events import Party, Release
from firmware.dsp.profiles import load_profile
from firmware.lines import actions as act


class _Switch:
    def __init__(self) -> None:
        self.plays: list[tuple[str, bool]] = []  # (leg, something or None)

    def play(self, leg: str, source: Callable[[], bytes | None] | None) -> None:
        self.plays.append((leg, source is not None))

    def partners(self, leg: str) -> set[str]:
        return set()


class _Port:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.ringing = False

    def start_ringing(self, cadence_ms: Any, frequency_hz: float) -> None:
        if self.fail:
            raise DriverError("ringer overheated")
        self.ringing = True


class _Rig:
    def __init__(self, cid_standard: str | None = "bell202", fail: bool = False) -> None:
        self.switch = _Switch()
        self.soon: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.released: list[tuple[str, Release]] = []
        self.done: list[str] = []
        self.slot = NS(leg="fxs1", port=_Port(fail), line=NS(state="offhook"),
                       cid_standard=cid_standard, playing=None)
        loop = NS(call_soon=lambda f, *a: self.soon.append((f, a)))
        self.actions = LineActions(
            loop, self.switch, load_profile("us"),  # type: ignore[arg-type]
            {"fxs1": self.slot}, {},  # type: ignore[dict-item]
            self.done.append, lambda s, r: self.released.append((s.leg, r)), lambda: None)


def test_a_tone_plays_once_and_stops() -> None:
    rig = _Rig()
    rig.actions.carry_out(act.PlayTone("fxs1", "dial"))
    rig.actions.carry_out(act.PlayTone("fxs1", "dial"))  # an early tone goes on
    assert rig.slot.playing == "tone:dial" and rig.switch.plays == [("fxs1", True)]
    rig.actions.carry_out(act.PlayTone("fxs1", None))
    assert rig.slot.playing is None and rig.switch.plays[-1] == ("fxs1", False)


def test_the_end_of_a_tone_keeps_a_prompt_to_an_offhook_handset() -> None:
    rig = _Rig()
    rig.actions.play("fxs1", lambda: None, "prompt")
    rig.actions.carry_out(act.PlayTone("fxs1", None))
    assert rig.slot.playing == "prompt"
    rig.slot.line.state = "idle"
    rig.actions.carry_out(act.PlayTone("fxs1", None))
    assert rig.slot.playing is None


def test_caller_id_on_a_port_without_it_is_done_at_once() -> None:
    rig = _Rig(cid_standard=None)
    rig.actions.carry_out(act.SendCallerId("fxs1", Party("5551234")))
    assert rig.switch.plays == [] and rig.slot.playing is None
    assert [a for _, a in rig.soon] == [("fxs1",)]
    func, args = rig.soon[0]
    func(*args)
    assert rig.done == ["fxs1"]


def test_caller_id_plays_and_stop_signal_ends_it() -> None:
    rig = _Rig()
    rig.actions.carry_out(act.SendCallerId("fxs1", Party("5551234")))
    assert rig.slot.playing == "cid"
    rig.actions.carry_out(act.StopSignal("fxs1"))
    assert rig.slot.playing is None


def test_a_phone_that_cannot_ring_fails_its_call() -> None:
    rig = _Rig(fail=True)
    rig.slot.line.state = "ringing"
    rig.actions.carry_out(act.StartRinging("fxs1", (2000, 4000), 20.0))
    assert rig.released == [("fxs1", Release("fxs1", Cause.NETWORK_OUT_OF_ORDER))]
    ok = _Rig()
    ok.actions.carry_out(act.StartRinging("fxs1", (2000, 4000), 20.0))
    assert ok.slot.port.ringing and ok.released == []
