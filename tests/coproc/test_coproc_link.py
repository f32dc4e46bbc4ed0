"""The host link (sans-IO) against the MCU's own link and core (board/mcu, under CPython),
wired in memory with one fake clock, so loss, duplication and reordering are exact."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from coproc_helpers import load_tool

from drivers.coproc.clock import McuClock
from drivers.coproc.codec import Frame, FrameDecoder, encode_frame
from drivers.coproc.link import (
    Connected,
    EventRefused,
    Incompatible,
    Link,
    LinkEvent,
    LinkTimers,
    Lost,
    Received,
    Refused,
)
from drivers.coproc.messages import (
    NAK_BAD_ARG,
    NAK_BAD_PORT,
    DigitEvent,
    Hello,
    HookEvent,
    Polarity,
    PortStateEvent,
    RingStart,
    RingStop,
    frame_of,
)

MCU = load_tool("coproc_emulator").load_mcu()
Filter = Callable[[list[Frame]], list[Frame]]


def frames_of(data: bytes) -> list[Frame]:
    return FrameDecoder().feed(data)


def wire(frames: list[Frame]) -> bytes:
    return b"".join(encode_frame(f) for f in frames)


class Pair:
    """A host Link and an MCU Coproc on one fake clock (1 ms steps, no latency)."""

    def __init__(self, kinds: bytes = b"\x00\x00\x01", boot_id: int = 0x1111,
                 timers: LinkTimers | None = None) -> None:
        self.t0 = 500.0
        self.ms = 0
        self.host = Link(timers)
        self.mcu: Any = MCU.core.Coproc(kinds, 0, boot_id)
        self.to_mcu: Filter = lambda frames: frames
        self.to_host: Filter = lambda frames: frames
        self.host_silent = False
        self.mcu_silent = False
        self.events: list[LinkEvent] = []
        self.sent_to_mcu: list[Frame] = []
        self.sent_to_host: list[Frame] = []
        self.host.open(self.now)

    @property
    def now(self) -> float:
        return self.t0 + self.ms / 1000.0

    def run(self, ms: int) -> list[LinkEvent]:
        start = len(self.events)
        for _ in range(ms):
            self.ms += 1
            self.host.poll(self.now)
            self._deliver()
            self.mcu.tick(self.ms)
            self._deliver()
        return self.events[start:]

    def send(self, command: Any) -> None:
        assert self.host.send(command, self.now)
        self._deliver()

    def _deliver(self) -> None:
        out = frames_of(self.host.take_output())
        if out and not self.host_silent:
            self.sent_to_mcu.extend(out)
            self.mcu.receive(wire(self.to_mcu(out)), self.ms)
        back = frames_of(self.mcu.output())
        if back and not self.mcu_silent:
            self.sent_to_host.extend(back)
            self.host.receive(wire(self.to_host(back)), self.now)
        self.events.extend(self.host.take_events())

    def received(self) -> list[Any]:
        return [e.message for e in self.events if isinstance(e, Received)]


def connected_pair(**kwargs: Any) -> Pair:
    pair = Pair(**kwargs)
    events = pair.run(5)
    assert [type(e) for e in events][:1] == [Connected]
    return pair


def drop_first(type_: int, count: int = 1) -> Filter:
    left = [count]

    def f(frames: list[Frame]) -> list[Frame]:
        out = []
        for frame in frames:
            if frame.type == type_ and left[0] > 0:
                left[0] -= 1
                continue
            out.append(frame)
        return out
    return f


def test_connect_then_port_states() -> None:
    pair = Pair()
    events = pair.run(5)
    connected = [e for e in events if isinstance(e, Connected)]
    assert len(connected) == 1 and connected[0].cause == "first"
    assert connected[0].hello.ports == (0, 0, 1)
    assert pair.host.state == "connected"
    states = [m for m in pair.received() if isinstance(m, PortStateEvent)]
    assert [s.port for s in states] == [0, 1, 2]


def test_commands_are_acknowledged() -> None:
    pair = connected_pair()
    pair.send(RingStart(0, 2000, (2000, 4000)))
    pair.run(2)
    assert pair.host.outstanding == 0
    assert pair.mcu.lines[0].rm
    assert pair.host.retransmissions == 0


def test_a_lost_command_is_sent_again_and_runs_once() -> None:
    pair = connected_pair()
    pair.to_mcu = drop_first(RingStart.TYPE)
    pair.send(RingStart(0, 2000, (2000, 4000)))
    pair.run(50)
    assert not pair.mcu.lines[0].rm  # not arrived yet: waiting for the retransmission timer
    pair.run(100)
    assert pair.mcu.lines[0].rm
    assert pair.host.outstanding == 0
    assert pair.host.retransmissions == 1


def test_a_lost_ack_gives_a_duplicate_that_the_mcu_drops() -> None:
    pair = connected_pair()
    pair.to_host = lambda frames: []  # everything from the MCU is lost for a while
    pair.send(RingStart(0, 2000, (2000, 4000)))
    started = pair.mcu.lines[0].step_at
    pair.run(50)
    pair.to_host = lambda frames: frames
    pair.run(100)
    assert pair.host.retransmissions == 1
    assert pair.host.outstanding == 0
    assert pair.mcu.lines[0].step_at == started  # the cadence was not restarted
    ring_frames = [f for f in pair.sent_to_mcu if f.type == RingStart.TYPE]
    assert len(ring_frames) == 2 and ring_frames[0].seq == ring_frames[1].seq


def test_reordered_commands_run_in_their_order() -> None:
    pair = connected_pair()
    held: list[Frame] = []

    def swap(frames: list[Frame]) -> list[Frame]:
        out = []
        for frame in frames:
            if frame.type == Polarity.TYPE and frame.seq == 0 and not held:
                held.append(frame)
                continue
            out.append(frame)
            if held and frame.type == Polarity.TYPE and frame.seq == 1:
                out.append(held.pop())
        return out

    pair.to_mcu = swap
    pair.host.send(Polarity(1, True), pair.now)
    pair.host.send(Polarity(1, False), pair.now)
    pair._deliver()
    pair.run(200)
    assert pair.host.outstanding == 0
    assert pair.mcu.lines[1].reversed is False  # seq 1 ran last
    naks = [f for f in pair.sent_to_host if f.type == 0x06]
    assert naks and naks[0].body == bytes((1, 1))  # seq 1 refused as out of order


def test_duplicated_and_reordered_events_are_taken_once_in_order() -> None:
    pair = connected_pair()
    base = len(pair.received())
    expected = pair.host._rx_expected
    hook1 = frame_of(HookEvent(0, 100, True), expected, 255)
    hook2 = frame_of(HookEvent(0, 200, False), (expected + 1) & 0xFF, 255)
    pair.host.receive(wire([hook2, hook1, hook1, hook2]), pair.now)
    got = [e.message for e in pair.host.take_events() if isinstance(e, Received)]
    assert [m.t for m in got] == [100, 200]
    out = frames_of(pair.host.take_output())
    assert any(f.type == 0x06 and f.body[1] == 1 for f in out)  # gap NAKed
    assert pair.received()[base:] == []


def test_mcu_events_lost_on_the_wire_are_sent_again() -> None:
    pair = connected_pair()
    pair.to_host = drop_first(0x20)  # the first HOOK event
    pair.mcu.lines[0].shk = True
    pair.run(200)
    hooks = [m for m in pair.received() if isinstance(m, HookEvent)]
    assert len(hooks) == 1 and hooks[0].offhook


def test_a_reset_is_a_new_hello_and_a_fresh_connection() -> None:
    pair = connected_pair()
    pair.send(RingStart(0, 2000, (2000, 4000)))
    pair.run(5)
    pair.mcu = MCU.core.Coproc(b"\x00\x00\x01", pair.ms, 0x2222, 1)
    events = pair.run(600)
    connected = [e for e in events if isinstance(e, Connected)]
    assert len(connected) == 1 and connected[0].cause == "reset"
    assert connected[0].hello.reset_cause == 1
    pair.send(RingStop(0))
    pair.run(5)
    assert pair.host.outstanding == 0


def test_a_silent_host_makes_the_mcu_stop_ringing_by_itself() -> None:
    pair = connected_pair()
    pair.send(RingStart(0, 2000, (60000, 1000)))
    pair.run(10)
    line = pair.mcu.lines[0]
    pair.host_silent = True
    pair.run(1900)
    assert line.rm  # still ringing: the host has been silent less than 2 s
    pair.run(200)
    assert not line.rm and line.steps is None
    assert not pair.mcu.link.connected
    pair.host_silent = False
    events = pair.run(600)
    relinks = [e for e in events if isinstance(e, Connected)]
    assert len(relinks) == 1 and relinks[0].cause == "relink"
    assert relinks[0].after is None  # the MCU dropped the connection


def test_a_silent_mcu_is_a_lost_link_then_hello_requests() -> None:
    pair = connected_pair()
    pair.mcu_silent = True
    events = pair.run(2100)
    assert any(isinstance(e, Lost) for e in events)
    assert pair.host.state == "connecting"
    before = len(pair.sent_to_mcu)
    pair.run(1100)
    assert sum(1 for f in pair.sent_to_mcu[before:] if f.type == 0x02) >= 2


def test_unacknowledged_commands_end_in_a_lost_link() -> None:
    pair = connected_pair(timers=LinkTimers(mcu_silence=60.0))
    pair.to_mcu = lambda frames: [f for f in frames if f.type != RingStart.TYPE]
    pair.send(RingStart(0, 2000, (2000, 4000)))
    events = pair.run(1200)
    lost = [e for e in events if isinstance(e, Lost)]
    assert len(lost) == 1 and "not acknowledged after 10" in lost[0].reason
    assert lost[0].command == RingStart(0, 2000, (2000, 4000))
    # the host asks again at once; the MCU, still connected, answers; the host connects
    events += pair.run(50)
    again = [e for e in events[events.index(lost[0]):] if isinstance(e, Connected)]
    assert len(again) == 1 and again[0].cause == "relink"
    assert again[0].after == lost[0].reason  # the host dropped it, not the MCU


def test_a_refused_command_is_reported_and_not_retried() -> None:
    pair = connected_pair()
    pair.send(RingStart(0, 9000, (2000, 4000)))  # 90 Hz: above the MCU's 60 Hz
    pair.run(300)
    refused = [e for e in pair.events if isinstance(e, Refused)]
    assert len(refused) == 1 and refused[0].reason == NAK_BAD_ARG
    assert pair.host.outstanding == 0 and pair.host.retransmissions == 0
    assert not pair.mcu.lines[0].rm


def test_a_hello_of_another_protocol_version_is_refused() -> None:
    host = Link()
    host.open(0.0)
    hello = Hello(2, 0x3333, 0, 10, 30, 1, 1000, 6000, (0,), (0x10,), "future")
    host.receive(encode_frame(frame_of(hello)), 0.01)
    events = host.take_events()
    assert len(events) == 1 and isinstance(events[0], Incompatible)
    assert host.state == "connecting"
    assert all(f.type != 0x03 for f in frames_of(host.take_output()))


def test_a_hello_already_on_the_wire_at_connect_is_ignored() -> None:
    host = Link()
    host.open(0.0)
    hello = Hello(1, 0x3333, 0, 10, 30, 1, 1000, 6000, (0,), (0x10,), "fw")
    host.receive(encode_frame(frame_of(hello)), 0.010)
    assert [type(e) for e in host.take_events()] == [Connected]
    host.receive(encode_frame(frame_of(hello)), 0.012)  # the MCU's periodic HELLO, in flight
    assert host.take_events() == []
    host.receive(encode_frame(frame_of(hello)), 0.600)  # the MCU really lost us
    events = host.take_events()
    assert len(events) == 1 and isinstance(events[0], Connected)
    assert events[0].cause == "relink"


def test_deadlines_are_data() -> None:
    pair = connected_pair()
    idle = pair.host.next_deadline()
    assert idle is not None and idle > pair.now
    pair.to_mcu = lambda frames: []
    pair.host.send(RingStop(0), pair.now)
    deadline = pair.host.next_deadline()
    assert deadline == pytest.approx(pair.now + LinkTimers().rto)


def test_event_instants_map_to_the_host_clock() -> None:
    pair = connected_pair()
    pair.mcu.lines[0].shk = True
    pair.run(100)
    hook = next(e for e in pair.events
                if isinstance(e, Received) and isinstance(e.message, HookEvent))
    # the off-hook began at MCU ms 6 (the first tick after the input changed at 5 ms)
    assert hook.at == pytest.approx(pair.t0 + hook.message.t / 1000.0, abs=0.002)
    assert hook.at < pair.now


def test_clock_unwraps_across_the_30_bit_wrap() -> None:
    clock = McuClock(30)
    period = 1 << 30
    clock.observe(period - 100, 1000.0)
    assert clock.to_host(period - 50, 2000.0) == pytest.approx(1000.05)
    clock.observe(20, 1000.12)  # wrapped
    assert clock.to_host(10, 2000.0) == pytest.approx(1000.11)
    assert clock.to_host(period - 90, 2000.0) == pytest.approx(1000.01)
    assert clock.to_host(100000, 1000.2) == 1000.2  # never in the future


def test_clock_keeps_the_least_delayed_sample() -> None:
    clock = McuClock(30)
    clock.observe(1000, 10.003)  # 3 ms in transit
    clock.observe(1500, 10.501)  # 1 ms
    clock.observe(2000, 11.009)  # 9 ms
    assert clock.to_host(2000, 20.0) == pytest.approx(11.001)


def test_keepalive_carries_the_mcu_clock() -> None:
    pair = connected_pair()
    pair.run(600)
    keepalives = [f for f in pair.sent_to_host if f.type == 0x04]
    assert keepalives
    (t,) = struct.unpack("<I", keepalives[-1].body)
    assert 0 < t <= pair.ms


def test_a_command_the_hello_does_not_list_is_not_sent() -> None:
    pair = connected_pair(kinds=b"\x00")
    pair.host.hello = replace(pair.host.hello, commands=(0x10, 0x12, 0x13))
    before = len(pair.sent_to_mcu)
    assert not pair.host.executes(Polarity.TYPE)
    assert not pair.host.send(Polarity(0, True), pair.now)
    pair.run(300)
    assert [f for f in pair.sent_to_mcu[before:] if f.type == Polarity.TYPE] == []
    assert not any(isinstance(e, Refused) for e in pair.events)


def test_events_the_spec_does_not_allow_are_taken_and_refused() -> None:
    pair = connected_pair()  # ports: FXS, FXS, FXO
    base = len(pair.received())
    t = pair.ms
    pair.mcu.events.extend([
        (0x21, 0, t, b"X\x01"),  # DIGIT 'X'
        (0x21, 1, t, b"3\x0b"),  # DIGIT with 11 pulses
        (0x20, 7, t, b"\x01"),  # HOOK for a port HELLO did not list
        (0x26, 0, t, b"\x01"),  # LOOP from an FXS port
        (0x20, 2, t, b"\x01"),  # HOOK from the FXO port
        (0x27, 0xFF, t, b"\x01\x02\x00"),  # FAULT for the whole board: fine
        (0x21, 1, t, b"7\x07"),  # a good digit after them all
    ])
    pair.run(400)
    refused = [(e.type, e.reason) for e in pair.events if isinstance(e, EventRefused)]
    assert refused == [(0x21, NAK_BAD_ARG), (0x21, NAK_BAD_ARG), (0x20, NAK_BAD_PORT),
                       (0x26, NAK_BAD_PORT), (0x20, NAK_BAD_PORT)]
    got = pair.received()[base:]
    assert [type(m).__name__ for m in got] == ["FaultEvent", "DigitEvent"]
    assert got[1] == DigitEvent(1, t, "7", 7)
    assert pair.host.events_refused == 5
    assert pair.mcu.link.refused == 5 and not pair.mcu.link.unacked
    naks = [f.body for f in pair.sent_to_mcu if f.type == 0x06]
    assert [b[1] for b in naks] == [4, 4, 3, 3, 3]
    sent = [f for f in pair.sent_to_host if f.type >= 0x20 and f.type != 0x28]
    assert len(sent) == 7  # nothing sent twice
