"""The line-board contract (drivers/base.py), proven the same way on every backend.

Each test body runs over the sim, gpio and coproc rigs (conftest.py). The rig feeds every
signal the board gives through a real FxsLine / FxoLine as box.py does, so each test
asserts what the application would see: the core events the line layer sends up, and the
board's own hardware state. A raw backend (sim, gpio) and one that classifies in hardware
(coproc) must end in the same events.

Timing: inputs are real-time but exactly stamped (the sim timeline, gpio pins stamped like
kernel edges, the emulated MCU's own ms), so the line layer's windows (break 30-95 ms, make
25-95 ms, flash 100-900 ms) hold on a loaded machine. Tests only wait, with timeouts, and
never assert on speed. An absence is asserted only after a later event that every
backend delivers in order (a sentinel), never after a sleep.
"""

from __future__ import annotations

import pytest

from drivers.base import HookEdge, LoopCurrent, RingBurst
from firmware.core.causes import Cause
from firmware.core.events import Answer, Digit, Flash, Party, Release, Seize, Setup
from firmware.lines import HookTiming
from firmware.lines import actions as act
from tests.contract.rigs import FXO_LEG, FXS_LEG, RING_CADENCE_MS, RING_HZ, Rig
from tests.support import wait_until

SEIZE = Seize(FXS_LEG)
FLASH = Flash(FXS_LEG)
HUNG_UP = Release(FXS_LEG, Cause.NORMAL_CLEARING)


def pulse(digit: str) -> Digit:
    return Digit(FXS_LEG, digit, source="pulse")


def lift(rig: Rig, bounce_ms: float = 0.0) -> None:
    rig.lift(bounce_ms)
    assert rig.app.wait_up(1, FXS_LEG) == [SEIZE]


# --- 1. hook state ----------------------------------------------------------------------

def test_off_hook_seizes_once_despite_bounce_and_on_hook_releases(rig: Rig) -> None:
    lift(rig, bounce_ms=5)
    rig.hang_up()
    # Release is the sentinel: every edge of the lift was handled before it.
    assert rig.app.wait_up(2, FXS_LEG) == [SEIZE, HUNG_UP]
    edges = rig.app.handled(HookEdge)
    if all(e.debounced for e in edges):
        # The board debounced the chatter itself: one off-hook, one on-hook.
        assert [e.offhook for e in edges] == [True, False]
    else:
        # The raw chatter reached the line layer, which debounced it.
        assert [e.offhook for e in edges] == [True, False, True, False]
    assert not rig.fxs.offhook


# --- 2. pulse dialling ------------------------------------------------------------------

# The simulated handset times its pulses with real sleeps: on a loaded machine a late wake
# turns a 40 ms make into a break's length and the digits run together, so these run in
# the serial part of `make test`, alone.
@pytest.mark.serial
@pytest.mark.parametrize(("break_ms", "make_ms"), [(60, 40), (67, 33)],
                         ids=["60/40", "67/33"])
def test_pulse_digits_at_10_pps(rig: Rig, break_ms: float, make_ms: float) -> None:
    lift(rig)
    rig.dial_pulses("5", break_ms, make_ms)
    assert rig.app.wait_up(2, FXS_LEG) == [SEIZE, pulse("5")]
    # "0" is ten pulses; between two other digits it also proves the digits stay apart.
    rig.dial_pulses("307", break_ms, make_ms)
    want = [SEIZE, pulse("5"), pulse("3"), pulse("0"), pulse("7")]
    assert rig.app.wait_up(5, FXS_LEG) == want
    rig.flash()  # sentinel: no pulse was a hang-up, nothing came after the digits
    assert rig.app.wait_up(6, FXS_LEG) == [*want, FLASH]


# --- 3. flash and on-hook ---------------------------------------------------------------

def test_a_300ms_break_is_a_flash_and_a_1500ms_break_is_a_hang_up(rig: Rig) -> None:
    lift(rig)
    rig.hold_break(300)
    assert rig.app.wait_up(2, FXS_LEG) == [SEIZE, FLASH]
    rig.hold_break(1500)
    # The make after the long break is a new off-hook: the trailing Seize is the sentinel.
    assert rig.app.wait_up(4, FXS_LEG) == [SEIZE, FLASH, HUNG_UP, SEIZE]


@pytest.mark.hook_timing(HookTiming(flash_max_ms=600))
def test_every_board_judges_by_the_ports_own_hook_windows(rig: Rig) -> None:
    # A board that classifies in hardware would call a 750 ms break a flash by its own
    # default window (900 ms); given the port's 600 ms, it is a hang-up and a new lift.
    lift(rig)
    rig.hold_break(750)
    assert rig.app.wait_up(3, FXS_LEG) == [SEIZE, HUNG_UP, SEIZE]


# --- 4. ringing -------------------------------------------------------------------------

def ring(rig: Rig) -> None:
    """The PBX rings FXS 1 through the line layer, which asks the board to ring."""
    rig.app.command(Setup(FXS_LEG, called="201", caller=Party("5551234")))
    assert wait_until(lambda: rig.fxs.ringing)
    assert act.StartRinging(FXS_LEG, RING_CADENCE_MS, RING_HZ) in rig.app.actions()
    assert wait_until(rig.bell_sounding), "the port says it rings, but no ring voltage"


def test_lifting_a_ringing_phone_trips_the_ring_and_answers(rig: Rig) -> None:
    ring(rig)
    rig.lift()
    assert rig.app.wait_up(1, FXS_LEG) == [Answer(FXS_LEG)]
    # The board stopped ringing by itself: before the line layer heard of the off-hook.
    assert rig.app.ringing_at_offhook()[0] is False
    assert wait_until(lambda: not rig.bell_sounding())
    assert not rig.fxs.ringing


def test_the_pbx_ends_ringing_nobody_answers(rig: Rig) -> None:
    ring(rig)
    rig.app.command(Release(FXS_LEG, Cause.NO_ANSWER))
    assert wait_until(lambda: not rig.fxs.ringing)
    assert wait_until(lambda: not rig.bell_sounding())
    rig.app.barrier()  # the Release and all it made have been handled
    assert act.StopRinging(FXS_LEG) in rig.app.actions()
    assert rig.app.up(FXS_LEG) == []


# --- 5. polarity ------------------------------------------------------------------------

def test_polarity_reversal_reaches_the_line(rig: Rig) -> None:
    assert not rig.polarity_reversed()
    rig.fxs.set_polarity(True)
    assert wait_until(rig.polarity_reversed)
    rig.fxs.set_polarity(False)
    assert wait_until(lambda: not rig.polarity_reversed())


# --- 6. FXO -----------------------------------------------------------------------------

def fxo_bursts_ms(rig: Rig) -> list[float]:
    """The lengths of the FXO ring bursts the line layer has been given, in ms."""
    lengths: list[float] = []
    start: float | None = None
    for burst in rig.app.handled(RingBurst):
        if burst.kind != "fxo":
            continue
        if burst.on:
            start = burst.at
        elif start is not None:
            lengths.append((burst.at - start) * 1000)
            start = None
    return lengths


def loop_returns(rig: Rig) -> int:
    return sum(1 for c in rig.app.handled(LoopCurrent) if c.present)


def test_fxo_rings_answers_and_clears_on_loop_current_drop(rig: Rig) -> None:
    rig.pstn_blip(20)
    rig.pstn_ring_burst(450)
    # Sentinel: the long burst has ended, so the blip before it was handled long ago.
    assert wait_until(lambda: any(ms >= 300 for ms in fxo_bursts_ms(rig)))
    setup = Setup(FXO_LEG, called="", caller=Party())
    assert rig.app.up(FXO_LEG) == [setup]
    assert rig.app.inspect(lambda: rig.fxo_line.describe()["rings"]) == 1  # not the blip

    rig.app.command(Answer(FXO_LEG))
    assert wait_until(rig.loop_closed), "Answer did not close the loop"
    assert rig.fxo.seized
    assert wait_until(lambda: loop_returns(rig) == 1)  # loop current flows

    rig.drop_loop_current(100)  # shorter than CPC (300 ms): still in the call
    assert wait_until(lambda: loop_returns(rig) == 2)
    # Judged as the current came back (the line runs its timers up to that edge first).
    assert rig.app.up(FXO_LEG) == [setup]
    assert rig.fxo.seized

    rig.drop_loop_current()  # the far end hangs up
    assert rig.app.wait_up(2, FXO_LEG) == [setup, Release(FXO_LEG, Cause.NORMAL_CLEARING)]
    drop = rig.app.handled(LoopCurrent)[-1]
    released = rig.app.up_timed(FXO_LEG)[-1]
    assert not drop.present and released.at - drop.at >= 0.299  # timed from the drop
    assert wait_until(lambda: not rig.loop_closed())
    assert not rig.fxo.seized
