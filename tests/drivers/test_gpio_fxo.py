"""The direct-GPIO FXO backend on gpiozero's MockFactory, and its ring validator.

Pins of FXO 1 in board/ag1171-gpio-2p.toml: ring detect 5 (active low), hook relay 6,
polarity 16, loop current 26 (active low). The profile bridges ring-detect gaps of up to
60 ms (an unfiltered opto pulsing at the ring frequency).
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from board_helpers import FakeClock, Signals, wait_until

from drivers.base import LoopCurrent, PolarityReversal, RingBurst
from drivers.gpio import GpioBoard, GpioFxoPort, RingValidator
from drivers.gpio.ringdetect import Burst
from drivers.profile import BoardProfile

RD, HOOK, POL, LOOP = 5, 6, 16, 26


def fxo1(board: GpioBoard) -> GpioFxoPort:
    port = board.port("fxo", 1)
    assert isinstance(port, GpioFxoPort)
    return port


def envelope_profile(profile: BoardProfile) -> BoardProfile:
    """The same board with a filtered ring detector (no gap bridging)."""
    fxo = dataclasses.replace(profile.fxo[0], ring_gap_ms=0)
    return dataclasses.replace(profile, fxo=(fxo,))


# --- the validator alone (sans-IO) -----------------------------------------------------

def test_validator_a_20ms_pulse_is_not_a_ring_a_200ms_one_is() -> None:
    v = RingValidator(min_ms=40, gap_ms=0)
    assert v.edge(True, 10.000) == []
    assert v.deadline == pytest.approx(10.040)
    assert v.edge(False, 10.020) == []
    assert v.rejected == 1 and v.deadline is None
    assert v.edge(True, 11.000) == []
    assert v.poll(11.039) == []
    assert v.poll(11.040) == [Burst(True, 11.000)]
    assert v.ringing
    assert v.edge(False, 11.200) == [Burst(False, 11.200)]
    assert not v.ringing


def test_validator_joins_the_pulses_of_an_unfiltered_opto() -> None:
    v = RingValidator(min_ms=40, gap_ms=60)
    out: list[Burst] = []
    t = 5.0
    for _ in range(10):  # 20 Hz: 25 ms conducting, 25 ms not, for 0.5 s
        out += v.edge(True, t)
        out += v.edge(False, t + 0.025)
        t += 0.05
    assert out == [Burst(True, 5.0)]
    assert v.deadline == pytest.approx(t - 0.025 + 0.060)
    assert v.poll(t + 0.1) == [Burst(False, pytest.approx(t - 0.025))]


def test_validator_rejects_a_short_burst_of_pulses() -> None:
    v = RingValidator(min_ms=40, gap_ms=60)
    assert v.edge(True, 1.0) == [] and v.edge(False, 1.010) == []
    assert v.edge(True, 1.020) == [] and v.edge(False, 1.030) == []
    assert v.poll(1.2) == [] and v.rejected == 1


# --- the port on mock pins -------------------------------------------------------------

def pulse(port_pin, ms: float, clock: FakeClock | None = None) -> None:
    """Ring detect conducting for ``ms`` (active low)."""
    port_pin.drive_low()
    if clock is None:
        time.sleep(ms / 1000)
    else:
        clock.advance_ms(ms)
    port_pin.drive_high()


def test_ring_detect_validates_bursts(pwm_factory, gpio_profile, signals: Signals) -> None:
    board = GpioBoard(envelope_profile(gpio_profile), pin_factory=pwm_factory)
    board.start(signals)
    try:
        port = fxo1(board)
        rd = pwm_factory.pin(RD)
        pulse(rd, 20)  # a polarity-reversal blip
        time.sleep(0.1)
        assert signals.of(RingBurst) == []
        assert port.describe()["rings_rejected"] == 1
        rd.drive_low()
        assert wait_until(lambda: port.ringing)  # decided by the port's thread at 40 ms
        time.sleep(0.16)
        rd.drive_high()
        bursts = signals.of(RingBurst)
        assert [(b.port, b.on) for b in bursts] == [(1, True), (1, False)]
        assert 0.19 <= bursts[1].at - bursts[0].at < 2.0  # the edges' instants, not delivery
        assert not port.ringing
    finally:
        board.close()


def test_ring_detect_with_a_fake_clock(pwm_factory, gpio_profile, signals: Signals) -> None:
    clock = FakeClock()
    board = GpioBoard(envelope_profile(gpio_profile), pin_factory=pwm_factory, clock=clock)
    board.start(signals)
    try:
        rd = pwm_factory.pin(RD)
        pulse(rd, 20, clock)
        pulse(rd, 200, clock)  # decided on its own trailing edge
        bursts = signals.of(RingBurst)
        assert [b.on for b in bursts] == [True, False]
        assert bursts[1].at - bursts[0].at == pytest.approx(0.200, abs=0.002)
    finally:
        board.close()


def test_seize_and_release_drive_the_hook_relay(pwm_factory, board_factory) -> None:
    port = fxo1(board_factory(pwm_factory))
    relay = pwm_factory.pin(HOOK)
    assert not port.seized and relay.state == 0
    port.seize()
    assert port.seized and relay.state == 1
    port.release()
    assert not port.seized and relay.state == 0
    relay.assert_states([0, 1, 0])


def test_loop_current_changes_are_reported(pwm_factory, board_factory, signals) -> None:
    port = fxo1(board_factory(pwm_factory))
    loop = pwm_factory.pin(LOOP)
    port.seize()
    loop.drive_low()  # opto conducts: loop current flows
    assert port.loop_current is True
    loop.drive_high()  # the far end dropped the loop (CPC)
    loop.drive_low()
    assert [(s.present) for s in signals.of(LoopCurrent)] == [True, False, True]
    assert all(s.port == 1 for s in signals.of(LoopCurrent))


def test_polarity_reversal_is_reported_when_no_ring_is_being_judged(
        pwm_factory, board_factory, signals) -> None:
    fxo1(board_factory(pwm_factory))
    pol = pwm_factory.pin(POL)
    pol.drive_high()
    pol.drive_low()
    assert len(signals.of(PolarityReversal)) == 2


def test_a_reversal_with_its_ring_detect_blip_is_a_reversal_not_a_ring(
        pwm_factory, gpio_profile, signals) -> None:
    clock = FakeClock()
    board = GpioBoard(envelope_profile(gpio_profile), pin_factory=pwm_factory, clock=clock)
    board.start(signals)
    try:
        rd, pol = pwm_factory.pin(RD), pwm_factory.pin(POL)
        rd.drive_low()  # the blip starts first ...
        clock.advance_ms(5)
        pol.drive_high()  # ... the polarity flips inside it: held while judging
        assert signals.of(PolarityReversal) == []
        clock.advance_ms(10)
        rd.drive_high()  # 15 ms: not a ring
        reversals = signals.of(PolarityReversal)
        assert signals.of(RingBurst) == []
        assert len(reversals) == 1 and reversals[0].at == pytest.approx(1000.005, abs=0.002)
    finally:
        board.close()


def test_polarity_swings_during_a_ring_are_not_reversals(
        pwm_factory, gpio_profile, signals) -> None:
    clock = FakeClock()
    board = GpioBoard(envelope_profile(gpio_profile), pin_factory=pwm_factory, clock=clock)
    board.start(signals)
    try:
        rd, pol = pwm_factory.pin(RD), pwm_factory.pin(POL)
        rd.drive_low()
        for _ in range(10):  # ring voltage swings the polarity detector at 20 Hz
            clock.advance_ms(25)
            pol.drive_high()
            clock.advance_ms(25)
            pol.drive_low()
        rd.drive_high()
        assert [b.on for b in signals.of(RingBurst)] == [True, False]
        assert signals.of(PolarityReversal) == []
    finally:
        board.close()
