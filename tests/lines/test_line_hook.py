"""The hook classifier: debounce, flash against on-hook, pulse dialling, late edges."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from line_driver import Log, Step, drive, t

from firmware.lines.hook import (
    FlashOut,
    HookClassifier,
    HookSignal,
    OffHook,
    OnHook,
    PulseDigitOut,
    classify_break,
)
from firmware.lines.timing import HookTiming


def edges(hook: HookClassifier, spec: Sequence[tuple[float, bool]],
          debounced: bool = False) -> list[Step]:
    """Script steps delivering raw (or debounced) edges on time."""

    def step(ms: float, off: bool) -> Step:
        return ms, lambda now: hook.edge(off, t(ms), debounced=debounced)

    return [step(ms, off) for ms, off in spec]


def pulse_train(pulses: list[int], break_ms: float, make_ms: float, gap_ms: float,
                start_ms: float = 0.0) -> tuple[list[tuple[float, bool]], list[float]]:
    """Edges dialling each pulse count, and the make that ends each digit."""
    spec: list[tuple[float, bool]] = []
    ends: list[float] = []
    at = start_ms
    for count in pulses:
        for i in range(count):
            spec.append((at, False))
            at += break_ms
            spec.append((at, True))
            if i == count - 1:
                ends.append(at)
                at += gap_ms
            else:
                at += make_ms
    return spec, ends


# -- flash against on-hook ----------------------------------------------------------

@pytest.mark.parametrize(
    ("break_ms", "expected"),
    [
        (25, []),  # longer than the debounce, shorter than a pulse: a glitch
        (97, []),  # between a pulse and a flash: a glitch
        (99, []),
        (100, [(120, FlashOut(t(100)))]),
        (500, [(520, FlashOut(t(500)))]),
        (900, [(920, FlashOut(t(900)))]),
        (900.5, [(900.5, OnHook(t(0))), (920.5, OffHook(t(900.5)))]),
        (901, [(901, OnHook(t(0))), (921, OffHook(t(901)))]),
        (1500, [(901, OnHook(t(0))), (1520, OffHook(t(1500)))]),
    ],
)
def test_break_length_decides_flash_or_on_hook(break_ms: float, expected: Log) -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    log = drive(hook, edges(hook, [(0, False), (break_ms, True)]), until_ms=break_ms + 2000)
    assert log == expected
    assert hook.state == "offhook"


@pytest.mark.parametrize(
    ("ms", "kind"),
    [(0, "glitch"), (29.9, "glitch"), (30, "pulse"), (60, "pulse"), (67, "pulse"),
     (95, "pulse"), (95.1, "glitch"), (99.9, "glitch"), (100, "flash"), (900, "flash"),
     (900.001, "hangup"), (5000, "hangup")],
)
def test_break_classes(ms: float, kind: str) -> None:
    assert classify_break(HookTiming(), ms) == kind


def test_on_hook_is_reported_when_flash_max_passes_and_dated_from_the_break() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    log = drive(hook, edges(hook, [(0, False)]), until_ms=5000)
    assert log == [(901, OnHook(t(0)))]
    assert hook.state == "onhook" and hook.next_deadline is None


def test_flash_window_is_configurable() -> None:
    hook = HookClassifier(HookTiming(flash_max_ms=1250), offhook=True)
    log = drive(hook, edges(hook, [(0, False), (1200, True)]), until_ms=3000)
    assert log == [(1220, FlashOut(t(1200)))]


# -- debounce -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("blip_ms", "expected"),
    [
        (5, []),
        (19, []),
        (20, [(20, OffHook(t(0))), (921, OnHook(t(20)))]),
    ],
)
def test_off_hook_blip_shorter_than_debounce_is_ignored(blip_ms: float,
                                                         expected: Log) -> None:
    hook = HookClassifier(HookTiming())
    log = drive(hook, edges(hook, [(0, True), (blip_ms, False)]), until_ms=3000)
    assert log == expected


def test_contact_bounce_gives_one_off_hook_dated_from_the_last_bounce() -> None:
    hook = HookClassifier(HookTiming())
    spec = [(0, True), (3, False), (5, True), (8, False), (10, True)]
    log = drive(hook, edges(hook, spec), until_ms=1000)
    assert log == [(30, OffHook(t(10)))]


def test_bounce_inside_a_break_does_not_split_it() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec = [(0, False), (300, True), (305, False), (500, True)]  # 5 ms bounce at 300
    log = drive(hook, edges(hook, spec), until_ms=2000)
    assert log == [(520, FlashOut(t(500)))]


def test_debounce_is_configurable() -> None:
    hook = HookClassifier(HookTiming(debounce_ms=10))
    log = drive(hook, edges(hook, [(0, True), (12, False), (40, True)]), until_ms=100)
    assert log == [(10, OffHook(t(0)))]  # the 28 ms break after it is a glitch


def test_debounced_edges_are_taken_at_once() -> None:
    hook = HookClassifier(HookTiming())
    spec = [(0, True), (1000, False), (1400, True), (3000, False)]
    log = drive(hook, edges(hook, spec, debounced=True), until_ms=5000)
    assert log == [
        (0, OffHook(t(0))),
        (1400, FlashOut(t(1400))),
        (3901, OnHook(t(3000))),
    ]


def test_debounced_edge_cancels_a_pending_raw_change() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    assert hook.edge(False, t(0)) == []
    assert hook.edge(True, t(5), debounced=True) == []
    assert hook.poll(t(2000)) == []
    assert hook.state == "offhook"


# -- pulse dialling -------------------------------------------------------------------

@pytest.mark.parametrize(("break_ms", "make_ms"), [(60, 40), (67, 33)],
                         ids=["US-60/40", "EU-67/33"])
@pytest.mark.parametrize("pulses", range(1, 11))
def test_every_digit_at_10_pps(pulses: int, break_ms: float, make_ms: float) -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec, ends = pulse_train([pulses], break_ms, make_ms, gap_ms=800)
    log = drive(hook, edges(hook, spec), until_ms=ends[-1] + 2000)
    last_make = (pulses - 1) * 100 + break_ms
    assert ends == [last_make]
    assert log == [(last_make + 250, PulseDigitOut(str(pulses % 10), t(last_make)))]


@pytest.mark.parametrize(("break_ms", "make_ms"), [(60, 40), (67, 33)])
def test_a_whole_number_with_700_ms_gaps(break_ms: float, make_ms: float) -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    number = "5551234"
    spec, ends = pulse_train([int(d) or 10 for d in number], break_ms, make_ms, gap_ms=700)
    log = drive(hook, edges(hook, spec), until_ms=ends[-1] + 2000)
    assert log == [(end + 250, PulseDigitOut(d, t(end))) for d, end in zip(number, ends,
                                                                           strict=True)]
    assert hook.rejected == 0


@pytest.mark.parametrize(
    ("mapping", "pulses", "digits"),
    [
        ("standard", [1, 9, 10], "190"),
        ("nz", [9, 1, 10], "190"),  # New Zealand: digit = 10 - pulses
        ("se", [2, 10, 1], "190"),  # Sweden: digit = pulses - 1
    ],
)
def test_national_pulse_mappings(mapping: str, pulses: list[int], digits: str) -> None:
    hook = HookClassifier(HookTiming(pulse_mapping=mapping), offhook=True)  # type: ignore[arg-type]
    spec, ends = pulse_train(pulses, 60, 40, gap_ms=800)
    log = drive(hook, edges(hook, spec), until_ms=ends[-1] + 1000)
    assert "".join(o.digit for _, o in log) == digits


@pytest.mark.parametrize(
    ("gap_ms", "digits", "rejected"),
    [(250, "23", 0), (800, "23", 0), (249, "", 1), (120, "", 1)],
)
def test_interdigit_gap_ends_a_digit(gap_ms: float, digits: str, rejected: int) -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec, ends = pulse_train([2, 3], 60, 40, gap_ms=gap_ms)
    log = drive(hook, edges(hook, spec), until_ms=ends[-1] + 1000)
    assert "".join(o.digit for _, o in log) == digits
    assert hook.rejected == rejected


def test_the_digit_is_reported_exactly_when_the_gap_reaches_interdigit() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec, _ = pulse_train([3], 60, 40, gap_ms=800)
    last_make = 260
    assert hook.poll(t(0)) == []
    for ms, off in spec:
        hook.edge(off, t(ms))
    assert hook.poll(t(last_make + 249)) == []
    assert hook.next_deadline == pytest.approx(t(last_make + 250))
    assert hook.poll(t(last_make + 250)) == [PulseDigitOut("3", t(last_make))]


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ([(0, False), (60, True), (80, False), (140, True)], "20 ms make"),
        ([(0, False), (60, True), (100, False), (125, True)], "25 ms break"),
        ([(0, False), (60, True), (100, False), (500, True)], "flash after a pulse"),
    ],
)
def test_a_spoilt_digit_is_dropped(spec: list[tuple[float, bool]], why: str) -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    log = drive(hook, edges(hook, spec), until_ms=3000)
    assert [o for _, o in log if isinstance(o, PulseDigitOut)] == [], why
    assert hook.rejected == 1


def test_eleven_pulses_are_no_digit() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec, ends = pulse_train([11], 60, 40, gap_ms=800)
    assert drive(hook, edges(hook, spec), until_ms=ends[-1] + 1000) == []
    assert hook.rejected == 1


def test_hanging_up_mid_digit_drops_it() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    spec = [(0, False), (60, True), (100, False)]
    assert drive(hook, edges(hook, spec), until_ms=3000) == [(1001, OnHook(t(100)))]
    assert hook.rejected == 1


# -- late delivery --------------------------------------------------------------------

def test_edges_delivered_late_in_one_batch_are_judged_by_their_stamps() -> None:
    number = "5551234"
    spec, ends = pulse_train([int(d) or 10 for d in number], 67, 33, gap_ms=700,
                             start_ms=1000)
    spec = [(0, True), *spec, (ends[-1] + 2000, False)]
    on_time = HookClassifier(HookTiming())
    expected = [o for _, o in drive(on_time, edges(on_time, spec), until_ms=30_000)]

    late = HookClassifier(HookTiming())
    got: list[HookSignal] = []
    for ms, off in spec:  # all handed over long after they happened
        got += late.edge(off, t(ms))
    got += late.poll(t(30_000))
    assert got == expected
    assert got[0] == OffHook(t(0))
    assert "".join(o.digit for o in got if isinstance(o, PulseDigitOut)) == number
    assert got[-1] == OnHook(t(ends[-1] + 2000))


def test_late_flash_edge_still_a_flash() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    assert hook.edge(False, t(0)) == []
    assert hook.edge(True, t(900)) == []  # delivered before any poll at the limit
    assert hook.poll(t(1500)) == [FlashOut(t(900))]


def test_edge_older_than_the_last_poll_is_taken_at_that_poll() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    hook.edge(False, t(0))
    assert hook.poll(t(1000)) == [OnHook(t(0))]
    # The make really came at 800 ms, but the hang-up has been reported: it stands.
    assert hook.edge(True, t(800)) == []
    assert hook.poll(t(1020)) == [OffHook(t(1000))]


def test_describe() -> None:
    hook = HookClassifier(HookTiming(), offhook=True)
    hook.edge(False, t(0))
    hook.edge(True, t(60))
    hook.poll(t(80))
    assert hook.describe() == {"state": "make", "offhook": True, "pulses": 1, "rejected": 0}
