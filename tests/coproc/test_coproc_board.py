"""The co-processor backend over a real pty against the emulated MCU (its own code).

Handset and line timings are exact in the emulator's milliseconds; the tests only wait
(generously) for events and never assert on wall-clock speed.
"""

from __future__ import annotations

import itertools
import logging
import re
import struct
from collections.abc import Callable
from typing import Any

import pytest
from coproc_helpers import Signals, wait_until

from drivers.base import (
    SILENCE,
    BoardFault,
    HookEdge,
    HookFlash,
    LoopCurrent,
    PolarityReversal,
    PulseDigit,
    RingBurst,
)
from drivers.coproc import CommandError, CoprocBoard, FxsTiming, LinkOpenError, RingError
from drivers.coproc.messages import RingStop

RING_STOP = RingStop.TYPE

Emulator = Any
BoardFactory = Callable[..., CoprocBoard]


def settle(emu: Emulator, until_ms: int) -> None:
    """Wait until the emulator's clock has passed ``until_ms`` (and the link has had time
    to carry what happened by then)."""
    assert wait_until(lambda: emu.now_ms >= until_ms + 150), "the emulator stopped"


def lift(emu: Emulator, signals: Signals, port: int = 0) -> None:
    emu.offhook(port)
    edges = signals.wait_for(HookEdge)
    assert edges and edges[-1].offhook
    signals.clear()


def test_connects_and_learns_the_ports(board: CoprocBoard) -> None:
    info = board.describe()
    assert info["state"] == "connected"
    assert info["mcu_ports"] == "SSO"
    assert str(info["firmware"]).startswith("minipbx-coproc")
    assert board.fxs[1].describe()["channel"] == 1
    assert [p.index for p in board.fxs] == [1, 2] and board.fxo[0].index == 1


def test_contact_bounce_gives_one_debounced_off_hook(board: CoprocBoard, emulator: Emulator,
                                                    signals: Signals) -> None:
    end = emulator.play(0, "shk", [(True, 5), (False, 5), (True, 3), (False, 4), (True, 1)])
    edges = signals.wait_for(HookEdge)
    settle(emulator, end + 100)
    edges = signals.of(HookEdge)
    assert len(edges) == 1
    assert edges[0].port == 1 and edges[0].offhook and edges[0].debounced
    assert board.fxs[0].offhook


@pytest.mark.parametrize(("ratio", "digits"), [(0.6, "35"), (0.67, "0")],
                         ids=["60/40", "67/33"])
def test_pulse_digits_at_10_pps(board: CoprocBoard, emulator: Emulator, signals: Signals,
                                ratio: float, digits: str) -> None:
    lift(emulator, signals)
    emulator.dial(0, digits, pps=10, break_ratio=ratio, interdigit_ms=400)
    got = signals.wait_for(PulseDigit, len(digits))
    assert [d.digit for d in got] == list(digits)
    assert all(d.port == 1 for d in got)
    assert [d.at for d in got] == sorted(d.at for d in got)
    assert signals.of(HookEdge) == []  # the breaks of dialling are not hang-ups


@pytest.mark.parametrize(("break_ms", "expect"), [
    (90, "pulse"), (97, "nothing"), (100, "flash"), (900, "flash"), (1000, "on-hook")])
def test_the_edges_of_the_flash_window(board: CoprocBoard, emulator: Emulator,
                                       signals: Signals, break_ms: int, expect: str) -> None:
    lift(emulator, signals)
    end = emulator.hook_break(0, break_ms)
    settle(emulator, end + 300)  # past the 250 ms interdigit time
    digits, flashes, edges = (signals.of(PulseDigit), signals.of(HookFlash),
                              signals.of(HookEdge))
    if expect == "pulse":
        assert [d.digit for d in digits] == ["1"] and not flashes and not edges
    elif expect == "nothing":
        assert not digits and not flashes and not edges
    elif expect == "flash":
        assert len(flashes) == 1 and flashes[0].port == 1 and not digits and not edges
    else:
        assert [e.offhook for e in edges] == [False, True] and not flashes and not digits
        assert edges[1].at - edges[0].at == pytest.approx(break_ms / 1000, abs=0.03)


def test_ring_cadence_runs_on_the_mcu(board: CoprocBoard, emulator: Emulator,
                                      signals: Signals) -> None:
    port = board.fxs[1]
    port.start_ringing([400, 200, 400, 2000], 25.0)
    assert port.ringing
    bursts = signals.wait_for(RingBurst, 4)
    assert [(b.port, b.on, b.kind) for b in bursts[:4]] == [
        (2, True, "fxs"), (2, False, "fxs"), (2, True, "fxs"), (2, False, "fxs")]
    edges = emulator.ring_edges(1)
    times = [ms for ms, _ in edges[:5]]
    assert [b - a for a, b in itertools.pairwise(times)][:3] == [400, 200, 400]
    # 25 Hz: the F/R output changes every 20 ms inside a 400 ms burst
    first_on = edges[0][0]
    assert emulator.fr_toggles(1, first_on + 1, first_on + 400) == 19
    port.stop_ringing()
    assert wait_until(lambda: emulator.line(1).steps is None)
    assert not port.ringing


def test_ring_trip_stops_ringing_the_instant_the_handset_lifts(
        board: CoprocBoard, emulator: Emulator, signals: Signals) -> None:
    port = board.fxs[0]
    port.start_ringing([2000, 4000], 20.0)
    assert signals.wait_for(RingBurst) and signals.of(RingBurst)[0].on
    lifted = emulator.offhook(0) - 1  # the ms whose sample first shows off-hook
    edges = signals.wait_for(HookEdge)
    assert edges and edges[0].offhook and edges[0].debounced
    assert wait_until(lambda: not port.ringing)
    bursts = signals.of(RingBurst)
    assert [b.on for b in bursts] == [True, False]
    ring = emulator.ring_edges(0)
    assert ring[-1] == (lifted, False)  # RM fell on that very sample, before debounce
    assert bursts[1].at <= edges[0].at + 0.002


def test_no_ringing_while_off_hook(board: CoprocBoard, emulator: Emulator,
                                   signals: Signals) -> None:
    lift(emulator, signals)
    board.fxs[0].start_ringing([2000, 4000], 20.0)
    assert not board.fxs[0].ringing
    settle(emulator, emulator.now_ms + 100)
    assert emulator.ring_edges(0) == []


def test_polarity_reversal(board: CoprocBoard, emulator: Emulator) -> None:
    board.fxs[0].set_polarity(True)
    assert wait_until(lambda: emulator.line(0).fr and emulator.line(0).reversed)
    board.fxs[0].set_polarity(False)
    assert wait_until(lambda: not emulator.line(0).fr)


# Measures the validated burst's length in real time against the emulator's ring, which a
# loaded machine shortens (0.516 s for 0.56 at load 6): in the serial part of `make test`.
@pytest.mark.serial
def test_fxo_ring_is_validated(board: CoprocBoard, emulator: Emulator,
                               signals: Signals) -> None:
    emulator.ring_line(2, 600, hz=25.0)
    bursts = signals.wait_for(RingBurst, 2)
    assert [(b.port, b.on, b.kind) for b in bursts] == [(1, True, "fxo"), (1, False, "fxo")]
    assert bursts[1].at - bursts[0].at == pytest.approx(0.56, abs=0.03)


def test_fxo_short_blip_is_not_a_ring(board: CoprocBoard, emulator: Emulator,
                                      signals: Signals) -> None:
    end = emulator.play(2, "rd", [(True, 20), (False, 10), (True, 5), (False, 1)])
    settle(emulator, end + 200)
    assert signals.of(RingBurst) == []


def test_fxo_loop_current_and_polarity(board: CoprocBoard, emulator: Emulator,
                                       signals: Signals) -> None:
    board.fxo[0].seize()
    assert wait_until(lambda: emulator.line(2).oh)
    emulator.set(2, "lc", True)
    assert signals.wait_for(LoopCurrent)[0].present
    emulator.play(2, "lc", [(False, 400), (True, 1)])  # a CPC disconnect pulse
    currents = signals.wait_for(LoopCurrent, 3)
    assert [c.present for c in currents] == [True, False, True]
    assert currents[2].at - currents[1].at == pytest.approx(0.4, abs=0.03)
    emulator.set(2, "pol", True)
    reversals = signals.wait_for(PolarityReversal)
    assert len(reversals) == 1 and reversals[0].port == 1
    board.fxo[0].release()
    assert wait_until(lambda: not emulator.line(2).oh)


def test_a_co_processor_reset_is_reported_and_healed(board: CoprocBoard, emulator: Emulator,
                                                     signals: Signals) -> None:
    board.fxs[0].configure_hook(FxsTiming(flash_max_ms=1200))
    board.fxs[1].start_ringing([1000, 4000], 25.0)
    assert wait_until(lambda: emulator.line(0).flash_max == 1200)
    emulator.reset(reset_cause=1)
    assert emulator.line(0).flash_max == 900  # the MCU forgot everything
    faults = signals.wait_for(BoardFault)
    assert "restarted (watchdog" in faults[0].what
    assert wait_until(lambda: emulator.line(0).flash_max == 1200)
    assert wait_until(lambda: emulator.line(1).steps is not None)
    assert board.fxs[1].ringing
    link = board.link_status()
    assert (link["state"], link["connects"], link["reconnects"], link["resets"],
            link["lost"], link["dropped_by_mcu"]) == ("connected", 2, 1, 1, 0, 0)
    assert "restarted (watchdog" in str(link["last_problem"])


def test_the_mcu_stops_ringing_when_it_stops_hearing_the_host(
        board: CoprocBoard, emulator: Emulator, signals: Signals) -> None:
    board.fxs[0].start_ringing([60000, 1000], 20.0)
    assert wait_until(lambda: emulator.line(0).rm)
    emulator.deaf = True  # to the MCU, the host has gone silent
    deaf_at = emulator.now_ms
    assert wait_until(lambda: emulator.line(0).steps is None, timeout=10.0)
    stopped_at = emulator.ring_edges(0)[-1][0]
    assert deaf_at + 1400 <= stopped_at <= deaf_at + 2001  # HOST_SILENCE after the last frame
    emulator.deaf = False
    faults = signals.wait_for(BoardFault)
    assert "the co-processor had dropped the connection (its host watchdog" in faults[0].what
    assert wait_until(lambda: emulator.line(0).rm)  # the wanted state was sent again


def test_garbage_and_corruption_on_the_wire_are_survived(
        board: CoprocBoard, emulator: Emulator, signals: Signals) -> None:
    lift(emulator, signals)
    emulator.send_raw(b"\x13\x37 line noise \x00\xff\xfe\x00")
    emulator.corrupt_next(2)
    emulator.dial(0, "2", interdigit_ms=400)
    assert [d.digit for d in signals.wait_for(PulseDigit)] == ["2"]
    assert int(str(board.describe()["frames_dropped"])) >= 1


def test_audio_goes_to_the_endpoint_not_the_uart(emulator: Emulator,
                                                 board_factory: BoardFactory) -> None:
    class Endpoint:
        def __init__(self) -> None:
            self.written: list[bytes] = []

        def read_frame(self) -> bytes:
            return b"\x01\x00" * 160

        def write_frame(self, frame: bytes) -> None:
            self.written.append(frame)

    endpoint = Endpoint()
    board = board_factory(emulator.path, audio={("fxs", 1): endpoint})
    assert board.fxs[0].read_frame() == b"\x01\x00" * 160
    board.fxs[0].write_frame(SILENCE)
    assert endpoint.written == [SILENCE]
    assert board.fxs[1].read_frame() == SILENCE  # no endpoint: silence
    board.fxs[1].write_frame(SILENCE)  # and dropped


def test_loop_url_opens_and_holds_the_wanted_state(board_factory: BoardFactory) -> None:
    board = board_factory("loop://", fxs={1: 0}, fxo={}, connect=False)
    assert not board.wait_connected(0.3)  # its own echo is not a co-processor
    board.fxs[0].start_ringing([2000, 4000], 20.0)
    assert board.fxs[0].ringing
    board.close()
    board.close()


def test_a_missing_uart_is_a_clear_error() -> None:
    with pytest.raises(LinkOpenError, match="cannot open the co-processor UART"):
        CoprocBoard("/dev/no-such-uart", fxs={1: 0})


def test_bad_ring_requests_are_refused_where_they_are_made(board: CoprocBoard) -> None:
    with pytest.raises(CommandError, match=r"fxs1 ring: cadence .* on/off pairs"):
        board.fxs[0].start_ringing([2000, 4000, 1000], 20.0)
    with pytest.raises(ValueError):
        board.fxs[0].start_ringing([], 20.0)
    assert not board.fxs[0].ringing


def test_a_frequency_the_co_processor_does_not_make_rings_at_the_nearest_one(
        emulator_factory: Callable[..., Emulator], board_factory: BoardFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    emu = emulator_factory("SSO", ring_hz=(25.0, 60.0))
    board = board_factory(emu.path, ring_frequencies_hz=(20.0, 25.0))
    port = board.fxs[1]
    with caplog.at_level(logging.WARNING, logger="drivers.coproc.board"):
        for _ in range(2):
            port.start_ringing([2000, 4000], 20.0)  # the US rings at 20 Hz
            assert wait_until(lambda: emu.line(1).rm)
            assert emu.line(1).freq == 2500
            assert port.ringing and port.describe()["ring_hz"] == 25.0
            port.stop_ringing()
            assert wait_until(lambda: emu.line(1).steps is None)
    notes = [r.getMessage() for r in caplog.records if "not the country's" in r.getMessage()]
    assert len(notes) == 1  # logged once, not at every call
    assert "ringing at 25 Hz, not the country's 20 Hz" in notes[0]
    assert "(20, 25 Hz)" in notes[0] and "(25 to 60 Hz)" in notes[0]


def test_no_frequency_both_allow_is_a_clear_error(
        emulator_factory: Callable[..., Emulator], board_factory: BoardFactory) -> None:
    emu = emulator_factory("SSO", ring_hz=(25.0, 60.0))
    board = board_factory(emu.path, ring_frequencies_hz=(20.0,))
    port = board.fxs[1]
    with pytest.raises(RingError, match=r"fxs2 cannot ring: .* lists 20 Hz and the "
                                        r"co-processor makes 25 to 60 Hz"):
        port.start_ringing([2000, 4000], 20.0)
    assert not port.ringing
    assert "fxs2 cannot ring" in str(port.describe()["ring_problem"])
    settle(emu, emu.now_ms + 100)
    assert emu.ring_edges(1) == []


def test_a_co_processor_that_cannot_ring_says_so(
        emulator_factory: Callable[..., Emulator], board_factory: BoardFactory) -> None:
    emu = emulator_factory("SSO", commands=(0x10, 0x11, 0x13, 0x14, 0x15))
    board = board_factory(emu.path)
    with pytest.raises(RingError, match="does not execute RING_START"):
        board.fxs[0].start_ringing([2000, 4000], 20.0)


def test_close_stops_ringing_and_releases_lines(board: CoprocBoard,
                                                emulator: Emulator) -> None:
    board.fxs[0].start_ringing([2000, 4000], 20.0)
    board.fxo[0].seize()
    assert wait_until(lambda: emulator.line(0).rm and emulator.line(2).oh)
    board.close()
    assert not emulator.line(0).rm and emulator.line(0).steps is None
    assert not emulator.line(2).oh


def test_a_profile_that_disagrees_with_the_mcu_is_a_fault(
        emulator: Emulator, board_factory: BoardFactory, signals: Signals) -> None:
    board_factory(emulator.path, fxs={1: 0}, fxo={1: 1})  # channel 1 is FXS on this MCU
    faults = signals.wait_for(BoardFault)
    assert faults and faults[0].port == 1
    assert "channel 1, where the co-processor has an FXS port" in faults[0].what


def test_a_ring_stop_lost_until_the_host_gives_up_still_stops_the_ringing(
        board: CoprocBoard, emulator: Emulator, signals: Signals) -> None:
    # issue 7 section 4: the host gives up on RING_STOP after 10 retransmissions and
    # connects again; the whole wanted state it sends then includes RING_STOP.
    port = board.fxs[1]
    port.start_ringing([2000, 4000], 20.0)
    assert wait_until(lambda: emulator.line(1).rm)
    emulator.drop_from_host(RING_STOP, 11, port=1)
    port.stop_ringing()
    assert not port.ringing
    lost = signals.wait_for(BoardFault)
    assert lost[0].port is None
    assert re.fullmatch(r"co-processor link lost: fxs2 RING_STOP seq \d+ not acknowledged "
                        r"after 10 retransmissions; connecting again", lost[0].what)
    assert wait_until(lambda: emulator.line(1).steps is None, timeout=5.0)
    assert not emulator.line(1).rm and not port.ringing
    assert len(emulator.dropped_from_host) == 11
    # The ringing stops with the wanted state sent after CONNECT; on a loaded machine the
    # link may still be finishing its handshake at that instant, so wait for it.
    assert wait_until(lambda: board.describe()["state"] == "connected", timeout=5.0)
    # the PORT_STATE after CONNECT showed port 2 still ringing: logged as a difference
    assert wait_until(lambda: board.stats.corrections == 1, timeout=5.0)
    assert emulator.core.host_lost == 0  # the MCU's watchdog did not stop it
    # the host dropped the link itself: no fault claims the co-processor lost the host
    assert [f.what for f in signals.of(BoardFault)] == [lost[0].what]


def test_commands_the_hello_does_not_list_are_not_sent_and_said_once(
        emulator_factory: Callable[..., Emulator], board_factory: BoardFactory,
        signals: Signals, caplog: pytest.LogCaptureFixture) -> None:
    emu = emulator_factory("SSO", commands=(0x10, 0x11, 0x12, 0x13, 0x15))  # no POLARITY
    with caplog.at_level(logging.WARNING, logger="drivers.coproc.board"):
        board = board_factory(emu.path)
        board.fxs[0].set_polarity(True)
        board.fxs[0].set_polarity(False)
        board.fxs[1].start_ringing([2000, 4000], 20.0)  # the commands it has still go
        assert wait_until(lambda: emu.line(1).rm)
    said = [r.getMessage() for r in caplog.records]
    missing = [m for m in said if "POLARITY not sent" in m]
    assert len(missing) == 1, said
    assert "fxs1: POLARITY not sent: the co-processor (firmware minipbx-coproc" in missing[0]
    assert "does not execute it (its HELLO does not list it)" in missing[0]
    assert not any("refused" in m for m in said)
    assert signals.of(BoardFault) == []


def test_faults_name_the_port_by_its_kind(board: CoprocBoard, emulator: Emulator,
                                          signals: Signals) -> None:
    assert wait_until(lambda: emulator.core.link.connected)  # else CONNECT drops the event
    emulator.inject_event(0x27, 2, struct.pack("<BH", 2, 0))  # FAULT LINE_ALARM on the FXO
    fault = signals.wait_for(BoardFault)[0]
    assert (fault.port, fault.what) == (1, "fxo1: co-processor: line alarm")
    signals.clear()
    emulator.inject_event(0x27, 0xFF, struct.pack("<BH", 1, 12))  # the whole board
    fault = signals.wait_for(BoardFault)[0]
    assert (fault.port, fault.what) == (None, "co-processor: event queue overflow (12)")
    signals.clear()
    # a configuration the MCU refuses (a pulse break window that is empty)
    board.fxs[1].configure_hook(FxsTiming(pulse_break_min_ms=90, pulse_break_max_ms=40))
    fault = signals.wait_for(BoardFault)[0]
    assert (fault.port, fault.what) == (2, "fxs2: co-processor refused CFG_FXS (bad argument)")


def test_an_event_for_no_port_or_a_digit_no_dial_gives_is_refused(
        board: CoprocBoard, emulator: Emulator, signals: Signals,
        caplog: pytest.LogCaptureFixture) -> None:
    assert wait_until(lambda: emulator.core.link.connected)  # else CONNECT drops the events
    with caplog.at_level(logging.WARNING, logger="drivers.coproc.board"):
        emulator.inject_event(0x21, 0, b"X\x01")  # DIGIT 'X'
        emulator.inject_event(0x21, 0, b"X\x01")
        emulator.inject_event(0x20, 9, b"\x01")  # HOOK for channel 9
        emulator.inject_event(0x21, 0, b"4\x04")  # and a true digit after them
        digits = signals.wait_for(PulseDigit)
    assert [(d.port, d.digit) for d in digits] == [(1, "4")]
    assert wait_until(lambda: emulator.core.link.refused == 3)
    settle(emulator, emulator.now_ms + 300)
    assert not emulator.core.link.unacked  # the MCU sends nothing again
    link = board.link_status()
    assert link["events_refused"] == 3 and link["state"] == "connected"
    assert "HOOK for channel 9 (bad port)" in str(link["last_problem"])
    said = [r.getMessage() for r in caplog.records if "refused the co-processor's" in
            r.getMessage()]
    assert len(said) == 2  # the second 'X' is counted, not said again
    assert "refused the co-processor's DIGIT for fxs1 (bad argument)" in said[0]
