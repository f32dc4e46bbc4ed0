"""The FXS line: calls from the handset, ringing with caller ID, ring trip, tones."""

from __future__ import annotations

from typing import Any

import pytest
from line_driver import Log, Step, drive, t

from firmware.core.causes import Cause
from firmware.core.errors import ConfigError
from firmware.core.events import (
    Alerting,
    Answer,
    Digit,
    Flash,
    Party,
    Release,
    Seize,
    Setup,
    Tone,
)
from firmware.lines.actions import (
    PlayTone,
    SendCallerId,
    SetPolarity,
    StartRinging,
    StopRinging,
    StopSignal,
    WrongLegError,
)
from firmware.lines.fxs import FxsLine
from firmware.lines.ringing import CallerIdPlan
from firmware.lines.timing import HookTiming

LEG = "fxs1"
US = (2000, 4000)
ALICE = Party("5551234", "ALICE")
BELL = CallerIdPlan()
POLARITY = CallerIdPlan(placement="before_ring", alert="polarity")
RING_PULSE = CallerIdPlan(placement="before_ring", alert="ring_pulse")
DTMF_ALERT = CallerIdPlan(placement="before_ring", alert="dtmf_alert")
NO_CID = CallerIdPlan(enabled=False)


def line(cid: CallerIdPlan = BELL, cadence: tuple[int, ...] = US, **kw: Any) -> FxsLine:
    return FxsLine(LEG, HookTiming(), cadence, 20.0, cid, **kw)


def setup(fxs: FxsLine, caller: Party = ALICE, pattern: str | None = None) -> Any:
    return lambda now: fxs.command(Setup(LEG, "201", caller, ring_pattern=pattern), now)


def hook(fxs: FxsLine, ms: float, offhook: bool) -> Step:
    return (ms, lambda now: fxs.hook_edge(offhook, t(ms), now))


def outputs(log: Log) -> list[Any]:
    return [o for _, o in log]


# -- caller ID and ringing ------------------------------------------------------------

def test_bell202_caller_id_goes_between_first_and_second_ring() -> None:
    fxs = line()
    log = drive(fxs, [(0, setup(fxs)), (3500, fxs.signal_done),
                      hook(fxs, 7000, True)], until_ms=8000)
    assert log == [
        (0, StartRinging(LEG, US, 20.0)),
        (2550, SendCallerId(LEG, ALICE)),
        (7020, StopRinging(LEG)),
        (7020, Answer(LEG)),
    ]
    first_burst_end, second_burst = 2000, 6000
    cid_start = log[1][0]
    assert 500 <= cid_start - first_burst_end <= 600
    assert cid_start < second_burst - 200


def test_bell202_caller_id_still_playing_200_ms_before_second_ring_is_cut() -> None:
    fxs = line()
    log = drive(fxs, [(0, setup(fxs))], until_ms=7000)
    assert log == [
        (0, StartRinging(LEG, US, 20.0)),
        (2550, SendCallerId(LEG, ALICE)),
        (5800, StopSignal(LEG)),
    ]


def test_bell202_follows_real_ring_bursts_from_the_board() -> None:
    fxs = line()
    script = [(0, setup(fxs)),
              (40, lambda now: fxs.ring_burst(True, t(40), now)),  # the board started late
              (2045, lambda now: fxs.ring_burst(False, t(2045), now))]
    log = drive(fxs, script, until_ms=5000)
    assert log[1] == (2595, SendCallerId(LEG, ALICE))


def test_double_ring_cadence_puts_caller_id_in_the_long_pause() -> None:
    uk = (400, 200, 400, 2000)
    fxs = line(cadence=uk)
    log = drive(fxs, [(0, setup(fxs))], until_ms=2000)
    assert log == [(0, StartRinging(LEG, uk, 20.0)), (1550, SendCallerId(LEG, ALICE))]


def test_distinctive_ring_pattern_selects_its_cadence() -> None:
    dr2 = (800, 400, 800, 4000)
    fxs = line(ring_patterns={"dr2": dr2})
    assert fxs.command(Setup(LEG, "201", ALICE, ring_pattern="dr2"), t(0)) == [
        StartRinging(LEG, dr2, 20.0)]
    assert fxs.next_deadline == pytest.approx(t(800 + 400 + 800 + 550))


@pytest.mark.parametrize("pattern", ["nosuch", None, ""])
def test_unknown_or_no_ring_pattern_uses_the_default_cadence(pattern: str | None) -> None:
    fxs = line(ring_patterns={"dr2": (800, 400, 800, 4000)})
    assert fxs.command(Setup(LEG, "201", ALICE, ring_pattern=pattern), t(0)) == [
        StartRinging(LEG, US, 20.0)]


def test_etsi_polarity_alert_sequence() -> None:
    fxs = line(POLARITY)
    log = drive(fxs, [(0, setup(fxs)), (1400, fxs.signal_done), hook(fxs, 3000, True)],
                until_ms=4000)
    assert log == [
        (0, SetPolarity(LEG, True)),
        (250, SendCallerId(LEG, ALICE)),
        (1600, StartRinging(LEG, US, 20.0)),
        (3020, StopRinging(LEG)),
        (3020, SetPolarity(LEG, False)),
        (3020, Answer(LEG)),
    ]


def test_etsi_ring_pulse_alert_sequence() -> None:
    fxs = line(RING_PULSE)
    log = drive(fxs, [(0, setup(fxs)), (1900, fxs.signal_done)], until_ms=3000)
    assert log == [
        (0, StartRinging(LEG, (250, 500), 20.0)),
        (250, StopRinging(LEG)),
        (750, SendCallerId(LEG, ALICE)),
        (2100, StartRinging(LEG, US, 20.0)),
    ]


def test_ring_pulse_end_reported_by_the_board_times_the_caller_id() -> None:
    fxs = line(RING_PULSE)
    log = drive(fxs, [(0, setup(fxs)), (240, lambda now: fxs.ring_burst(False, t(240), now))],
                until_ms=1000)
    assert log == [
        (0, StartRinging(LEG, (250, 500), 20.0)),
        (240, StopRinging(LEG)),
        (740, SendCallerId(LEG, ALICE)),
    ]


@pytest.mark.parametrize("plan", [DTMF_ALERT, CallerIdPlan(placement="before_ring",
                                                           alert="none")])
def test_dtmf_alert_or_no_alert_sends_caller_id_at_once(plan: CallerIdPlan) -> None:
    fxs = line(plan)
    log = drive(fxs, [(0, setup(fxs)), (800, fxs.signal_done)], until_ms=2000)
    assert log == [(0, SendCallerId(LEG, ALICE)), (1000, StartRinging(LEG, US, 20.0))]


def test_before_ring_gap_after_caller_id_is_configurable() -> None:
    fxs = line(CallerIdPlan(placement="before_ring", alert="none", after_cid_ms=500))
    log = drive(fxs, [(0, setup(fxs)), (800, fxs.signal_done)], until_ms=2000)
    assert log[-1] == (1300, StartRinging(LEG, US, 20.0))


def test_missing_signal_done_times_out_and_rings_anyway() -> None:
    fxs = line(POLARITY)
    log = drive(fxs, [(0, setup(fxs))], until_ms=5000)
    assert log == [
        (0, SetPolarity(LEG, True)),
        (250, SendCallerId(LEG, ALICE)),
        (3250, StopSignal(LEG)),
        (3450, StartRinging(LEG, US, 20.0)),
    ]


def test_no_caller_id_just_rings() -> None:
    fxs = line(NO_CID, cadence=(1000, 1000))
    log = drive(fxs, [(0, setup(fxs))], until_ms=10_000)
    assert log == [(0, StartRinging(LEG, (1000, 1000), 20.0))]
    assert fxs.next_deadline is None


# -- ring trip, refusal, release ------------------------------------------------------

@pytest.mark.parametrize(
    ("offhook_ms", "expected"),
    [
        (1000, [StopRinging(LEG), Answer(LEG)]),  # during the first burst
        (3000, [StopRinging(LEG), StopSignal(LEG), Answer(LEG)]),  # caller ID playing
        (6500, [StopRinging(LEG), Answer(LEG)]),  # caller ID cut, second burst
    ],
)
def test_ring_trip(offhook_ms: float, expected: list[Any]) -> None:
    fxs = line()
    log = drive(fxs, [(0, setup(fxs)), hook(fxs, offhook_ms, True)], until_ms=offhook_ms + 100)
    assert [o for ms, o in log if ms == offhook_ms + 20] == expected
    assert fxs.state == "offhook" and fxs.next_deadline is None
    assert fxs.describe()["ringing"] is False


def test_ring_trip_during_etsi_caller_id() -> None:
    fxs = line(POLARITY)
    log = drive(fxs, [(0, setup(fxs)), hook(fxs, 500, True)], until_ms=4000)
    assert log[2:] == [(520, StopSignal(LEG)), (520, SetPolarity(LEG, False)),
                       (520, Answer(LEG))]


def test_setup_while_off_hook_is_refused_busy() -> None:
    fxs = line()
    log = drive(fxs, [hook(fxs, 0, True), (100, setup(fxs))], until_ms=1000)
    assert log == [(20, Seize(LEG)), (100, Release(LEG, Cause.USER_BUSY))]
    assert fxs.state == "offhook"


def test_setup_while_ringing_is_refused_busy_and_the_ringing_goes_on() -> None:
    fxs = line(NO_CID)
    log = drive(fxs, [(0, setup(fxs)), (100, setup(fxs, Party("999")))], until_ms=1000)
    assert log == [(0, StartRinging(LEG, US, 20.0)), (100, Release(LEG, Cause.USER_BUSY))]
    assert fxs.state == "ringing"


@pytest.mark.parametrize(
    ("plan", "release_ms", "expected"),
    [
        (BELL, 1000, [StopRinging(LEG)]),
        (BELL, 3000, [StopRinging(LEG), StopSignal(LEG)]),
        (POLARITY, 100, [SetPolarity(LEG, False)]),
        (POLARITY, 300, [StopSignal(LEG), SetPolarity(LEG, False)]),
    ],
)
def test_release_while_ringing_undoes_the_alerting(plan: CallerIdPlan, release_ms: float,
                                                   expected: list[Any]) -> None:
    fxs = line(plan)
    log = drive(fxs, [(0, setup(fxs)),
                      (release_ms, lambda now: fxs.command(Release(LEG), now))],
                until_ms=20_000)
    assert [o for ms, o in log if ms >= release_ms] == expected
    assert fxs.state == "idle" and fxs.next_deadline is None


def test_release_while_off_hook_does_nothing_physical() -> None:
    fxs = line()
    log = drive(fxs, [hook(fxs, 0, True), (500, lambda now: fxs.command(Release(LEG), now))],
                until_ms=1000)
    assert log == [(20, Seize(LEG))]
    assert fxs.state == "offhook"


# -- calls from the handset -----------------------------------------------------------

def test_outgoing_call_from_a_tone_phone() -> None:
    fxs = line()
    script = [
        hook(fxs, 0, True),
        (50, lambda now: fxs.command(Tone(LEG, "dial"), now)),
        (800, lambda now: fxs.dtmf_digit("2", now)),
        (900, lambda now: fxs.command(Tone(LEG, None), now)),
        (1000, lambda now: fxs.dtmf_digit("0", now)),
        (1100, lambda now: fxs.dtmf_digit("#", now)),
        (2000, lambda now: fxs.command(Tone(LEG, "busy"), now)),
        hook(fxs, 3000, False),
    ]
    assert drive(fxs, script, until_ms=5000) == [
        (20, Seize(LEG)),
        (50, PlayTone(LEG, "dial")),
        (800, Digit(LEG, "2", source="dtmf")),
        (900, PlayTone(LEG, None)),
        (1000, Digit(LEG, "0", source="dtmf")),
        (1100, Digit(LEG, "#", source="dtmf")),
        (2000, PlayTone(LEG, "busy")),
        (3901, PlayTone(LEG, None)),
        (3901, Release(LEG, Cause.NORMAL_CLEARING)),
    ]
    assert fxs.state == "idle"


def test_outgoing_call_from_a_rotary_phone_with_a_flash() -> None:
    fxs = line()
    script = [hook(fxs, 0, True)]
    at = 1000
    for _ in range(3):  # dial 3 at 10 pps, 60/40
        script += [hook(fxs, at, False), hook(fxs, at + 60, True)]
        at += 100
    script += [hook(fxs, 3000, False), hook(fxs, 3400, True)]  # a 400 ms flash
    log = drive(fxs, script, until_ms=5000)
    assert log == [(20, Seize(LEG)), (1510, Digit(LEG, "3", source="pulse")),
                   (3420, Flash(LEG))]


def test_hardware_classified_digits_and_flash() -> None:
    fxs = line()
    script = [
        (0, lambda now: fxs.hook_edge(True, t(0), now, debounced=True)),
        (500, lambda now: fxs.pulse_digit("7", now)),
        (900, lambda now: fxs.flash(now)),
        (1500, lambda now: fxs.hook_edge(False, t(1500), now, debounced=True)),
    ]
    assert drive(fxs, script, until_ms=3000) == [
        (0, Seize(LEG)), (500, Digit(LEG, "7", source="pulse")), (900, Flash(LEG)),
        (2401, Release(LEG, Cause.NORMAL_CLEARING)),
    ]


@pytest.mark.parametrize("state", ["idle", "ringing"])
def test_digits_and_flashes_count_only_off_hook(state: str) -> None:
    fxs = line(NO_CID)
    if state == "ringing":
        fxs.command(Setup(LEG, "201", ALICE), t(0))
    assert fxs.dtmf_digit("5", t(1)) == []
    assert fxs.pulse_digit("5", t(1)) == []
    assert fxs.flash(t(1)) == []
    assert fxs.command(Tone(LEG, "dial"), t(1)) == []
    assert fxs.state == state


def test_not_a_dtmf_digit_is_ignored() -> None:
    fxs = line(offhook=True)
    assert fxs.dtmf_digit("X", t(0)) == []


def test_late_edges_delivered_together_are_judged_by_their_stamps() -> None:
    fxs = line()
    got: list[Any] = []
    now = t(5000)  # everything arrives at once, seconds after it happened
    for ms, off in [(0, True), (1000, False), (1060, True), (1100, False), (1160, True)]:
        got += fxs.hook_edge(off, t(ms), now)
    got += fxs.poll(now)
    assert got == [Seize(LEG), Digit(LEG, "2", source="pulse")]


@pytest.mark.parametrize("event", [Answer(LEG), Alerting(LEG), Digit(LEG, "1")])
def test_events_not_for_fxs_are_ignored(event: Any) -> None:
    fxs = line(offhook=True)
    assert fxs.command(event, t(0)) == []


def test_command_for_another_leg_is_a_wiring_fault() -> None:
    with pytest.raises(WrongLegError, match="fxs2"):
        line().command(Release("fxs2"), t(0))


def test_describe_while_ringing() -> None:
    fxs = line(POLARITY)
    fxs.command(Setup(LEG, "201", ALICE), t(0))
    assert fxs.describe() == {
        "leg": LEG, "state": "ringing", "hook": "onhook", "ringing": False,
        "polarity": "reversed",
        "pending_caller": {"number": "5551234", "name": "ALICE", "presentation": "allowed"},
        "alert_phase": "polarity_alert", "caller_id_playing": False, "tone": None,
        "pulse_digits_rejected": 0,
    }


# -- configuration --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cadence": (1000, 1000)}, "ring_cadence_ms"),  # no room for Bell 202 caller ID
        ({"cadence": (2000,)}, "ring_cadence_ms"),
        ({"cadence": (2000, 0)}, "ring_cadence_ms"),
        ({"cadence": ()}, "ring_cadence_ms"),
        ({"ring_patterns": {"short": (500, 500)}}, "ring_patterns.short"),
    ],
)
def test_bad_cadence_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        line(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"after_ring_ms": 400}, "after_ring_ms"),  # GR-30: 500 ms or more
        ({"placement": "before_ring", "polarity_wait_ms": 50}, "polarity_wait_ms"),
        ({"placement": "sometime"}, "placement"),
        ({"alert": "smoke"}, "alert"),
        ({"signal_timeout_ms": 0}, "signal_timeout_ms"),
        ({"after_cid_ms": -1}, "after_cid_ms"),
    ],
)
def test_bad_caller_id_plan_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        CallerIdPlan(**kwargs)


def test_short_cadence_is_fine_when_caller_id_goes_before_the_ring() -> None:
    assert line(POLARITY, cadence=(1000, 1000)).state == "idle"


@pytest.mark.parametrize("hz", [10.0, 60.0])
def test_ring_frequency_is_checked(hz: float) -> None:
    with pytest.raises(ConfigError, match="ring_hz"):
        FxsLine(LEG, HookTiming(), US, hz, BELL)


def test_call_waiting_tone_with_a_caller_asks_for_type_two_caller_id() -> None:
    """Off-hook, the call-waiting tone with the waiting caller becomes SendCallerId for
    call waiting (the app plays the tone, the CAS and, on ACK, the FSK); without a caller
    it is the tone alone."""
    fxs = line()
    script = [
        hook(fxs, 0, True),
        (500, lambda now: fxs.command(Tone(LEG, "callwaiting", caller=ALICE), now)),
        (900, lambda now: fxs.command(Tone(LEG, "callwaiting"), now)),
    ]
    assert drive(fxs, script, until_ms=1000) == [
        (20, Seize(LEG)),
        (500, SendCallerId(LEG, ALICE, call_waiting=True)),
        (900, PlayTone(LEG, "callwaiting")),
    ]
    assert fxs.state == "offhook"
