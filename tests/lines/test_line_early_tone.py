"""Early dial tone: the first raw off-hook edge of an idle line starts the tone at once;
Seize still waits for the debounce; a bounce stops the tone again."""

from __future__ import annotations

from firmware.core.events import Party, Seize, Setup
from firmware.lines.actions import PlayTone
from firmware.lines.fxs import FxsLine
from firmware.lines.ringing import CallerIdPlan
from firmware.lines.timing import HookTiming

T0 = 1000.0


def line(early: bool = True) -> FxsLine:
    return FxsLine("fxs1", HookTiming(debounce_ms=12), (2000, 4000), 20.0, CallerIdPlan(),
                   early_tone="dial" if early else None)


def test_tone_at_the_first_edge_and_seize_after_the_debounce() -> None:
    fxs = line()
    assert fxs.hook_edge(True, T0, T0) == [PlayTone("fxs1", "dial")]
    assert fxs.state == "idle"
    deadline = fxs.next_deadline
    assert deadline is not None and abs(deadline - (T0 + 0.012)) < 1e-6
    assert fxs.poll(deadline) == [Seize("fxs1")]
    assert fxs.state == "offhook"


def test_a_bounce_stops_the_early_tone_and_seizes_nothing() -> None:
    fxs = line()
    assert fxs.hook_edge(True, T0, T0) == [PlayTone("fxs1", "dial")]
    out = fxs.hook_edge(False, T0 + 0.004, T0 + 0.004)
    out += fxs.poll(T0 + 1.0)
    assert out == [PlayTone("fxs1", None)]
    assert fxs.state == "idle"


def test_contact_chatter_gives_one_tone_and_one_seize() -> None:
    fxs = line()
    out = []
    for i, level in enumerate([True, False, True, False, True]):
        t = T0 + i * 0.002
        out += fxs.hook_edge(level, t, t)
    while (deadline := fxs.next_deadline) is not None and deadline < T0 + 1:
        out += fxs.poll(deadline)
    assert out.count(Seize("fxs1")) == 1
    assert out[-1] == Seize("fxs1") and PlayTone("fxs1", None) not in out[-2:]


def test_no_early_tone_on_a_ringing_line_or_when_off() -> None:
    fxs = line()
    fxs.command(Setup("fxs1", "101", Party("102")), T0)
    assert not any(isinstance(o, PlayTone) for o in fxs.hook_edge(True, T0 + 1, T0 + 1))
    quiet = line(early=False)
    assert quiet.hook_edge(True, T0, T0) == []
