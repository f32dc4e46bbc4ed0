"""The FXO line: ring validation, caller ID, giving up, disconnect supervision, dialling."""

from __future__ import annotations

from typing import Any

import pytest
from line_driver import Step, drive, t

from firmware.core.causes import Cause
from firmware.core.errors import ConfigError
from firmware.core.events import (
    Alerting,
    Answer,
    Digit,
    Party,
    Release,
    Seize,
    Setup,
    Tone,
)
from firmware.lines.actions import (
    DialDigits,
    ListenCallerId,
    ReleaseLine,
    SeizeLine,
    WatchDisconnectTone,
)
from firmware.lines.fxo import FxoLine

LEG = "fxo1"
ALICE = Party("5551234", "ALICE")


def ring(fxo: FxoLine, on_ms: float, off_ms: float) -> list[Step]:
    return [(on_ms, lambda now: fxo.ring_burst(True, t(on_ms), now)),
            (off_ms, lambda now: fxo.ring_burst(False, t(off_ms), now))]


def us_rings(fxo: FxoLine, count: int) -> list[Step]:
    """``count`` US rings: 2 s on, 4 s off, from 0 ms."""
    steps: list[Step] = []
    for i in range(count):
        steps += ring(fxo, i * 6000, i * 6000 + 2000)
    return steps


def cmd(fxo: FxoLine, ms: float, event: Any) -> Step:
    return (ms, lambda now: fxo.command(event, now))


def connected_outbound(**kw: Any) -> FxoLine:
    fxo = FxoLine(LEG, **kw)
    fxo.command(Setup(LEG, "5551234", Party()), t(0))
    fxo.poll(t(1000))
    fxo.signal_done(t(2000))
    return fxo


# -- ring validation ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("burst_ms", "expected"),
    [
        (20, []),  # a polarity reversal or a click: not a ring
        (39, []),
        (149, []),
        (150, [(150, Setup(LEG, "", Party()))]),
        (2000, [(150, Setup(LEG, "", Party()))]),
    ],
)
def test_short_bursts_are_not_rings(burst_ms: float, expected: Any) -> None:
    fxo = FxoLine(LEG)
    assert drive(fxo, ring(fxo, 0, burst_ms), until_ms=burst_ms + 1000) == expected


def test_a_blip_between_rings_does_not_count_as_the_second_ring() -> None:
    fxo = FxoLine(LEG, cid_standard="bell202")
    script = [*ring(fxo, 0, 2000), *ring(fxo, 3000, 3020), *ring(fxo, 6000, 8000)]
    log = drive(fxo, script, until_ms=7000)
    assert log == [(2000, ListenCallerId(LEG, True)), (6150, ListenCallerId(LEG, False)),
                   (6150, Setup(LEG, "", Party()))]


# -- caller ID ------------------------------------------------------------------------

def test_caller_id_before_the_second_ring_goes_up_with_setup() -> None:
    fxo = FxoLine(LEG, cid_standard="bell202")
    script = [*us_rings(fxo, 3), (3000, lambda now: fxo.caller_id(ALICE, now)),
              cmd(fxo, 13_000, Answer(LEG))]
    assert drive(fxo, script, until_ms=20_000) == [
        (2000, ListenCallerId(LEG, True)),
        (3000, ListenCallerId(LEG, False)),
        (3000, Setup(LEG, "", ALICE)),
        (13_000, SeizeLine(LEG)),
        (13_000, WatchDisconnectTone(LEG, True)),
    ]
    assert fxo.state == "connected"


def test_no_caller_id_by_the_second_ring_sends_setup_without_it() -> None:
    fxo = FxoLine(LEG, cid_standard="v23")
    script = [*us_rings(fxo, 2), cmd(fxo, 7000, Answer(LEG))]
    assert drive(fxo, script, until_ms=10_000) == [
        (2000, ListenCallerId(LEG, True)),
        (6150, ListenCallerId(LEG, False)),
        (6150, Setup(LEG, "", Party())),
        (7000, SeizeLine(LEG)),
        (7000, WatchDisconnectTone(LEG, True)),
    ]


def test_caller_id_after_setup_is_dropped() -> None:
    fxo = FxoLine(LEG, cid_standard="bell202")
    drive(fxo, us_rings(fxo, 2), until_ms=7000)
    assert fxo.caller_id(ALICE, t(7000)) == []
    assert fxo.describe()["caller"] == {"number": None, "name": None,
                                        "presentation": "allowed"}


def test_caller_id_before_the_first_ring_after_a_polarity_reversal() -> None:
    fxo = FxoLine(LEG, cid_standard="v23")
    script = [(0, lambda now: fxo.polarity_reversal(t(0), now)),
              (600, lambda now: fxo.caller_id(ALICE, now)), *ring(fxo, 1000, 2000)]
    assert drive(fxo, script, until_ms=3000) == [
        (0, ListenCallerId(LEG, True)),
        (600, ListenCallerId(LEG, False)),
        (1150, Setup(LEG, "", ALICE)),
    ]


def test_polarity_reversal_without_a_ring_closes_the_receiver_again() -> None:
    fxo = FxoLine(LEG, cid_standard="v23")
    log = drive(fxo, [(0, lambda now: fxo.polarity_reversal(t(0), now))], until_ms=10_000)
    assert log == [(0, ListenCallerId(LEG, True)), (5000, ListenCallerId(LEG, False))]


# -- the caller gives up; the PBX refuses --------------------------------------------

def test_ring_timeout_releases_the_call() -> None:
    fxo = FxoLine(LEG)
    log = drive(fxo, us_rings(fxo, 3), until_ms=30_000)
    assert log == [(150, Setup(LEG, "", Party())),
                   (20_000, Release(LEG, Cause.NORMAL_CLEARING))]  # 14 000 + 6 s
    assert fxo.state == "idle" and fxo.next_deadline is None


@pytest.mark.parametrize(
    ("cadence_ms", "margin_ms", "burst_ms", "release_ms"),
    [
        ((2000, 4000), 2000, 2000, 8000),  # US: the 4 s silence plus 2 s
        ((400, 200, 400, 2000), 2000, 400, 4400),  # UK: the 2 s silence counts, not 200 ms
        ((1000, 4000), 2000, 1000, 7000),  # DE, RU
        ((1000, 2000), 500, 1000, 3500),  # JP with a tighter margin
    ],
)
def test_ring_timeout_follows_the_ring_cadence(cadence_ms: tuple[int, ...], margin_ms: float,
                                               burst_ms: float, release_ms: float) -> None:
    fxo = FxoLine(LEG, ring_cadence_ms=cadence_ms, ring_margin_ms=margin_ms)
    log = drive(fxo, ring(fxo, 0, burst_ms), until_ms=20_000)
    assert log == [(150, Setup(LEG, "", Party())),
                   (release_ms, Release(LEG, Cause.NORMAL_CLEARING))]


def test_the_short_pause_of_a_double_ring_keeps_the_call() -> None:
    fxo = FxoLine(LEG, ring_cadence_ms=(400, 200, 400, 2000), ring_margin_ms=200)
    script = [*ring(fxo, 0, 400), *ring(fxo, 600, 1000), *ring(fxo, 3000, 3400)]
    log = drive(fxo, script, until_ms=10_000)
    assert log == [(150, Setup(LEG, "", Party())), (5600, Release(LEG, Cause.NORMAL_CLEARING))]


@pytest.mark.parametrize(("cid", "setup"), [(None, (150, Setup(LEG, "", Party()))),
                                            ("bell202", (6150, Setup(LEG, "", Party())))])
def test_a_burst_whose_end_never_comes_still_ends_the_call(
        cid: str | None, setup: tuple[float, Setup]) -> None:
    """The caller hangs up during a burst and the detector never reports its end (a
    lost edge, a line cut mid-burst): one burst, one silence and the margin after the
    burst began, the call is over (US: 8 s), not left ringing for the PBX's no-answer
    timer."""
    fxo = FxoLine(LEG, cid_standard=cid)
    script = [*ring(fxo, 0, 2000), (6000, lambda now: fxo.ring_burst(True, t(6000), now))]
    log = drive(fxo, script, until_ms=60_000)
    assert setup in log
    assert log[-1] == (14_000, Release(LEG, Cause.NORMAL_CLEARING))  # 6000 + 2 + 4 + 2 s
    assert fxo.state == "idle" and fxo.next_deadline is None
    # The lost end arriving late is no new call; the next ring is.
    assert fxo.ring_burst(False, t(61_000), t(61_000)) == []
    assert drive(fxo, ring(fxo, 62_000, 64_000), until_ms=64_000) == [
        (64_000, ListenCallerId(LEG, True)) if cid else (62_150, Setup(LEG, "", Party()))]


def test_caller_gone_before_setup_sends_nothing_up() -> None:
    fxo = FxoLine(LEG, cid_standard="bell202")
    log = drive(fxo, us_rings(fxo, 1), until_ms=20_000)
    assert log == [(2000, ListenCallerId(LEG, True)), (8000, ListenCallerId(LEG, False))]


def test_a_refused_call_rings_on_silently_until_it_stops() -> None:
    fxo = FxoLine(LEG)
    script = [*us_rings(fxo, 4), cmd(fxo, 3000, Release(LEG, Cause.CALL_REJECTED))]
    log = drive(fxo, script, until_ms=40_000)
    assert log == [(150, Setup(LEG, "", Party()))]
    assert fxo.state == "idle"
    # The next call is a new call.
    assert drive(fxo, ring(fxo, 0, 2000), until_ms=100) == [(150, Setup(LEG, "", Party()))]


def test_answer_delay_holds_the_seizure() -> None:
    fxo = FxoLine(LEG, answer_delay_ms=5000)
    log = drive(fxo, [*us_rings(fxo, 1), cmd(fxo, 1000, Answer(LEG))], until_ms=8000)
    assert log == [(150, Setup(LEG, "", Party())), (5000, SeizeLine(LEG)),
                   (5000, WatchDisconnectTone(LEG, True))]


def test_caller_gives_up_during_the_answer_delay() -> None:
    fxo = FxoLine(LEG, answer_delay_ms=10_000)
    log = drive(fxo, [*us_rings(fxo, 1), cmd(fxo, 1000, Answer(LEG))], until_ms=12_000)
    assert log == [(150, Setup(LEG, "", Party())),
                   (8000, Release(LEG, Cause.NORMAL_CLEARING))]


# -- disconnect supervision -----------------------------------------------------------

@pytest.mark.parametrize(
    ("drop_ms", "released"),
    [(100, False), (299, False), (300, True), (2000, True)],
)
def test_loop_current_drop_disconnects_after_cpc_min(drop_ms: float, released: bool) -> None:
    fxo = connected_outbound()
    script = [(10_000, lambda now: fxo.loop_current(False, t(10_000), now)),
              (10_000 + drop_ms, lambda now: fxo.loop_current(True, t(10_000 + drop_ms), now))]
    log = drive(fxo, script, until_ms=15_000)
    expected = [(10_300, ReleaseLine(LEG)), (10_300, WatchDisconnectTone(LEG, False)),
                (10_300, Release(LEG, Cause.NORMAL_CLEARING))] if released else []
    assert log == expected


def test_late_loop_current_report_still_disconnects() -> None:
    fxo = connected_outbound()
    assert fxo.loop_current(False, t(10_000), t(10_000)) == []
    # Both edges reach us only now; the drop lasted 400 ms.
    assert fxo.loop_current(True, t(10_400), t(10_900)) == [
        ReleaseLine(LEG), WatchDisconnectTone(LEG, False),
        Release(LEG, Cause.NORMAL_CLEARING)]


def test_loop_current_ignored_while_idle() -> None:
    fxo = FxoLine(LEG)
    assert fxo.loop_current(False, t(0), t(0)) == []
    assert fxo.next_deadline is None


def test_cpc_min_is_configurable() -> None:
    fxo = connected_outbound(cpc_min_ms=500)
    log = drive(fxo, [(10_000, lambda now: fxo.loop_current(False, t(10_000), now))],
                until_ms=12_000)
    assert log[0][0] == 10_500


def test_disconnect_tone_releases() -> None:
    fxo = connected_outbound()
    assert fxo.disconnect_tone(t(9000)) == [ReleaseLine(LEG), WatchDisconnectTone(LEG, False),
                                            Release(LEG, Cause.NORMAL_CLEARING)]


@pytest.mark.parametrize(("configured", "released"), [(True, True), (False, False)])
def test_polarity_reversal_disconnects_only_when_configured(configured: bool,
                                                             released: bool) -> None:
    fxo = connected_outbound(disconnect_on_polarity=configured)
    out = fxo.polarity_reversal(t(9000), t(9000))
    assert (out == [ReleaseLine(LEG), WatchDisconnectTone(LEG, False),
                    Release(LEG, Cause.NORMAL_CLEARING)]) is released
    assert fxo.seized is not released


def test_pbx_release_just_releases_the_line() -> None:
    fxo = connected_outbound()
    assert fxo.command(Release(LEG), t(9000)) == [ReleaseLine(LEG),
                                                  WatchDisconnectTone(LEG, False)]
    assert fxo.state == "idle"


# -- outbound calls -------------------------------------------------------------------

def test_outbound_dial_sequence() -> None:
    fxo = FxoLine(LEG)
    script = [cmd(fxo, 0, Setup(LEG, "5551234", Party("201"))),
              (2100, fxo.signal_done), cmd(fxo, 5000, Digit(LEG, "1"))]
    assert drive(fxo, script, until_ms=6000) == [
        (0, SeizeLine(LEG)),
        (1000, DialDigits(LEG, "5551234")),
        (2100, WatchDisconnectTone(LEG, True)),
        (2100, Answer(LEG)),
        (5000, DialDigits(LEG, "1")),  # DTMF during the call
    ]


def test_outbound_without_signal_done_assumes_the_dtmf_pace() -> None:
    fxo = FxoLine(LEG, dial_tone_wait_ms=1500)
    log = drive(fxo, [cmd(fxo, 0, Setup(LEG, "123", Party()))], until_ms=5000)
    assert log == [(0, SeizeLine(LEG)), (1500, DialDigits(LEG, "123")),
                   (2100, WatchDisconnectTone(LEG, True)), (2100, Answer(LEG))]


def test_digits_sent_down_while_waiting_for_dial_tone_are_dialled_with_the_number() -> None:
    fxo = FxoLine(LEG)
    script = [cmd(fxo, 0, Setup(LEG, "9", Party())), cmd(fxo, 300, Digit(LEG, "5")),
              (1500, fxo.signal_done)]
    log = drive(fxo, script, until_ms=3000)
    assert log[1] == (1000, DialDigits(LEG, "95"))


def test_digits_sent_down_while_dialling_follow_once_the_first_are_out() -> None:
    fxo = FxoLine(LEG)
    script = [cmd(fxo, 0, Setup(LEG, "12", Party())), cmd(fxo, 1100, Digit(LEG, "3")),
              (1300, fxo.signal_done), (1500, fxo.signal_done)]
    assert drive(fxo, script, until_ms=3000) == [
        (0, SeizeLine(LEG)), (1000, DialDigits(LEG, "12")), (1300, DialDigits(LEG, "3")),
        (1500, WatchDisconnectTone(LEG, True)), (1500, Answer(LEG))]


def test_seize_down_opens_the_line_for_dialling_through() -> None:
    fxo = FxoLine(LEG)
    script = [cmd(fxo, 0, Seize(LEG)), cmd(fxo, 3000, Digit(LEG, "0"))]
    assert drive(fxo, script, until_ms=4000) == [
        (0, SeizeLine(LEG)), (1000, WatchDisconnectTone(LEG, True)), (1000, Answer(LEG)),
        (3000, DialDigits(LEG, "0"))]


def test_answer_on_polarity_reversal() -> None:
    fxo = FxoLine(LEG, answer_on_polarity=True)
    script = [cmd(fxo, 0, Setup(LEG, "5551234", Party())), (2000, fxo.signal_done),
              (9000, lambda now: fxo.polarity_reversal(t(9000), now))]
    assert drive(fxo, script, until_ms=10_000) == [
        (0, SeizeLine(LEG)),
        (1000, DialDigits(LEG, "5551234")),
        (2000, WatchDisconnectTone(LEG, True)),
        (2000, Alerting(LEG, early_media=True)),
        (9000, Answer(LEG)),
    ]


def test_busy_before_answer_on_polarity_is_user_busy() -> None:
    fxo = FxoLine(LEG, answer_on_polarity=True)
    drive(fxo, [cmd(fxo, 0, Setup(LEG, "5551234", Party())), (2000, fxo.signal_done)],
          until_ms=3000)
    assert fxo.disconnect_tone(t(4000)) == [ReleaseLine(LEG), WatchDisconnectTone(LEG, False),
                                            Release(LEG, Cause.USER_BUSY)]


def test_no_loop_current_after_seizing_releases() -> None:
    fxo = FxoLine(LEG)
    script = [cmd(fxo, 0, Setup(LEG, "5551234", Party())),
              (5, lambda now: fxo.loop_current(False, t(5), now))]
    assert drive(fxo, script, until_ms=2000) == [
        (0, SeizeLine(LEG)), (305, ReleaseLine(LEG)),
        (305, Release(LEG, Cause.NORMAL_CLEARING))]


@pytest.mark.parametrize("event", [Setup(LEG, "123", Party()), Seize(LEG)])
def test_a_busy_line_refuses_a_new_call(event: Any) -> None:
    fxo = FxoLine(LEG)
    drive(fxo, ring(fxo, 0, 2000), until_ms=2000)
    assert fxo.command(event, t(2100)) == [Release(LEG, Cause.NO_CIRCUIT_AVAILABLE)]
    assert fxo.state == "ringing"


def test_rings_are_ignored_while_seized() -> None:
    fxo = connected_outbound()
    assert drive(fxo, ring(fxo, 3000, 5000), until_ms=20_000) == []
    assert fxo.state == "connected"


@pytest.mark.parametrize("event", [Tone(LEG, "dial"), Alerting(LEG), Answer(LEG)])
def test_events_not_for_an_idle_fxo_are_ignored(event: Any) -> None:
    assert FxoLine(LEG).command(event, t(0)) == []


def test_describe() -> None:
    fxo = FxoLine(LEG, cid_standard="bell202")
    drive(fxo, [*ring(fxo, 0, 2000), (3000, lambda now: fxo.caller_id(ALICE, now))],
          until_ms=3000)
    assert fxo.describe() == {
        "leg": LEG, "state": "ringing", "seized": False, "rings": 1,
        "caller": {"number": "5551234", "name": "ALICE", "presentation": "allowed"},
        "cid_standard": "bell202", "listening_caller_id": False,
        "watching_disconnect_tone": False, "loop_current": None, "to_dial": "",
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ring_min_ms": 20}, "ring_min_ms"),
        ({"ring_margin_ms": 149}, "ring_margin_ms"),  # below ring_min_ms
        ({"ring_cadence_ms": (2000,)}, "ring_cadence_ms"),
        ({"ring_cadence_ms": (2000, 0)}, "ring_cadence_ms"),
        ({"ring_cadence_ms": (400, 200, 400)}, "ring_cadence_ms"),
        ({"cpc_min_ms": 0}, "cpc_min_ms"),
        ({"dial_tone_wait_ms": -1}, "dial_tone_wait_ms"),
        ({"answer_delay_ms": "soon"}, "answer_delay_ms"),
        ({"cid_standard": ""}, "cid_standard"),
    ],
)
def test_bad_configuration_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        FxoLine(LEG, **kwargs)
