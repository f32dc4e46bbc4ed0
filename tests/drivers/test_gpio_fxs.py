"""The direct-GPIO FXS backend on gpiozero's MockFactory, with and without PWM pins.

Pins of FXS 1 in board/ag1171-gpio-2p.toml: SHK 17, F/R 18 (PWM0), RM 27, PD 22.
"""

from __future__ import annotations

import itertools

import pytest
from board_helpers import Signals, wait_until
from gpiozero.pins.mock import MockFactory, MockPWMPin

from drivers.base import HookEdge
from drivers.errors import DriverError
from drivers.gpio import GpioBoard, GpioFxsPort, RingCadenceError

SHK, FR, RM, PD = 17, 18, 27, 22


def levels(factory: MockFactory, bcm: int) -> list[float]:
    return [float(s.state) for s in factory.pin(bcm).states]


def rm_rises(factory: MockFactory) -> int:
    states = levels(factory, RM)
    return sum(1 for a, b in itertools.pairwise(states) if b and not a)


def fxs1(board: GpioBoard) -> GpioFxsPort:
    port = board.port("fxs", 1)
    assert isinstance(port, GpioFxsPort)
    return port


def test_hook_edges_reach_the_sink_raw_with_their_instants(pin_factory, board_factory,
                                                           signals: Signals) -> None:
    board = board_factory(pin_factory)
    port = fxs1(board)
    shk = pin_factory.pin(SHK)
    assert not port.offhook
    shk.drive_high()
    shk.drive_low()  # contact bounce: delivered as it came
    shk.drive_high()
    edges = signals.of(HookEdge)
    assert [(e.port, e.offhook, e.debounced) for e in edges] == [
        (1, True, False), (1, False, False), (1, True, False)]
    # Each instant is the pin's own change time, in time.monotonic() terms, in order.
    assert edges[0].at <= edges[1].at <= edges[2].at
    changes = [s.timestamp for s in shk.states]
    assert edges[2].at - edges[0].at == pytest.approx(sum(changes[-2:]), abs=0.005)
    assert port.offhook
    assert port.describe()["offhook"] is True


def test_ringing_raises_rm_and_swings_fr_at_the_cadence(pin_factory, board_factory) -> None:
    board = board_factory(pin_factory)
    port = fxs1(board)
    port.start_ringing([60, 60], 25.0)
    assert port.ringing
    assert wait_until(lambda: rm_rises(pin_factory) >= 3)
    port.stop_ringing()
    assert not port.ringing
    rm = levels(pin_factory, RM)
    # RM: low, then on/off per cadence step, and low at the end.
    assert rm[0] == 0 and rm[-1] == 0
    assert all(a != b for a, b in itertools.pairwise(rm))
    fr = pin_factory.pin(FR)
    if isinstance(fr, MockPWMPin):
        # Hardware ring wave: 50 % duty at the ring frequency during each burst, the static
        # forward level (1.0) between bursts and after.
        assert port.describe()["ring_drive"] == "pwm"
        assert fr.frequency == 25.0
        frs = levels(pin_factory, FR)
        assert frs.count(0.5) >= 3
        assert frs[-1] == 1.0
    else:
        # Software ring wave: F/R toggles many times per burst, back to forward at the end.
        assert port.describe()["ring_drive"] == "software"
        assert len(fr.states) > 2 * 3
        assert fr.state == 1
    assert pin_factory.pin(RM).state == 0


def test_off_hook_while_ringing_trips_the_ring_before_the_edge_is_delivered(
        pin_factory, board_factory, signals: Signals) -> None:
    board = board_factory(pin_factory)
    port = fxs1(board)
    seen_at_delivery: list[tuple[bool, float]] = []

    def sink(signal: object) -> None:
        if isinstance(signal, HookEdge):
            seen_at_delivery.append((port.ringing, float(pin_factory.pin(RM).state)))
        signals(signal)  # type: ignore[arg-type]

    board.start(sink)
    port.start_ringing([2000, 4000], 20.0)
    assert wait_until(lambda: pin_factory.pin(RM).state == 1)
    pin_factory.pin(SHK).drive_high()
    # In the edge callback itself: RM is already low and ringing is off when the line
    # layer hears of the off-hook edge.
    assert seen_at_delivery == [(False, 0.0)]
    assert not port.ringing
    assert pin_factory.pin(RM).state == 0
    assert port.describe()["ring_trips"] == 1
    # The cadence thread never raises RM again for the stopped ring.
    rises = rm_rises(pin_factory)
    assert not wait_until(lambda: rm_rises(pin_factory) > rises, timeout=0.3)


def test_ring_trip_in_the_silent_part_of_the_cadence(pwm_factory, board_factory) -> None:
    board = board_factory(pwm_factory)
    port = fxs1(board)
    port.start_ringing([50, 5000], 25.0)
    assert wait_until(lambda: rm_rises(pwm_factory) == 1 and pwm_factory.pin(RM).state == 0)
    assert port.ringing  # between bursts the port is still ringing
    pwm_factory.pin(SHK).drive_high()
    assert not port.ringing


def test_no_ringing_while_off_hook(pin_factory, board_factory) -> None:
    board = board_factory(pin_factory)
    port = fxs1(board)
    pin_factory.pin(SHK).drive_high()
    port.start_ringing([1000, 4000], 25.0)
    assert not port.ringing
    assert pin_factory.pin(RM).state == 0


def test_polarity_is_the_static_fr_level_and_waits_for_the_ring_to_end(
        pin_factory, board_factory) -> None:
    board = board_factory(pin_factory)
    port = fxs1(board)
    fr = pin_factory.pin(FR)
    assert fr.state == 1  # forward
    port.set_polarity(True)
    assert fr.state == 0 and port.describe()["polarity"] == "reversed"
    port.set_polarity(False)
    assert fr.state == 1
    port.start_ringing([1000, 1000], 25.0)
    port.set_polarity(True)  # while ringing: applied when the ring stops
    port.stop_ringing()
    assert fr.state == 0


@pytest.mark.parametrize("cadence, hz", [([], 25.0), ([0, 100], 25.0), ([100, -1], 25.0),
                                         ([1000, 4000], 0.0), ([1000, 4000], 400.0)])
def test_bad_cadences_are_refused(pwm_factory, board_factory, cadence, hz) -> None:
    port = fxs1(board_factory(pwm_factory))
    with pytest.raises(RingCadenceError) as err:
        port.start_ringing(cadence, hz)
    assert isinstance(err.value, DriverError) and isinstance(err.value, ValueError)
    assert not port.ringing


def test_power_down_and_close(pwm_factory, gpio_profile) -> None:
    board = GpioBoard(gpio_profile, pin_factory=pwm_factory)
    port = fxs1(board)
    assert pwm_factory.pin(PD).state == 0
    port.power_down(True)
    assert pwm_factory.pin(PD).state == 1
    port.power_down(False)
    port.start_ringing([1000, 1000], 25.0)
    board.close()
    board.close()  # idempotent
    assert not port.ringing
    assert pwm_factory.pin(RM).state == 0


def test_audio_without_an_endpoint_is_silence(pwm_factory, board_factory) -> None:
    port = fxs1(board_factory(pwm_factory))
    assert port.read_frame() == bytes(320)
    port.write_frame(b"\x01" * 320)  # goes nowhere, does not fail


def test_audio_goes_through_the_injected_endpoint(pwm_factory, gpio_profile) -> None:
    class Loop:
        def __init__(self) -> None:
            self.frames: list[bytes] = []

        def read_frame(self) -> bytes:
            return self.frames.pop(0) if self.frames else bytes(320)

        def write_frame(self, frame: bytes) -> None:
            self.frames.append(frame)

    loop = Loop()
    board = GpioBoard(gpio_profile, pin_factory=pwm_factory, audio={("fxs", 2): loop})
    try:
        board.port("fxs", 2).write_frame(b"\x02" * 320)
        assert board.port("fxs", 2).read_frame() == b"\x02" * 320
        assert board.port("fxs", 1).read_frame() == bytes(320)
    finally:
        board.close()
