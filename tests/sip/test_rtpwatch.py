"""The RTP inactivity timeout's rules (firmware/sip/rtpwatch.py), on a given clock."""

from __future__ import annotations

from firmware.sip.rtpwatch import RtpWatch


def test_silence_for_the_timeout_is_reported_once() -> None:
    w = RtpWatch(30)
    assert not w.observe("sip1", 100, 0.0)
    assert not w.observe("sip1", 100, 29.9)
    assert w.observe("sip1", 100, 30.0)
    assert not w.observe("sip1", 100, 90.0)
    assert w.timeouts == 1


def test_moving_packets_restart_the_clock() -> None:
    w = RtpWatch(30)
    w.observe("sip1", 1, 0.0)
    w.observe("sip1", 2, 25.0)
    assert not w.observe("sip1", 2, 50.0)
    assert w.observe("sip1", 2, 55.0)


def test_a_held_call_is_not_judged_and_restarts_after() -> None:
    w = RtpWatch(30)
    w.observe("sip1", 5, 0.0)
    assert not w.observe("sip1", None, 40.0)  # held: sendonly or inactive
    assert not w.observe("sip1", 5, 41.0)  # back: a fresh start
    assert not w.observe("sip1", 5, 70.0)
    assert w.observe("sip1", 5, 71.0)


def test_zero_never_times_out_and_forget_clears() -> None:
    w = RtpWatch(0)
    w.observe("sip1", 1, 0.0)
    assert not w.observe("sip1", 1, 1e6)
    w.forget("sip1")
    assert w.legs() == [] and w.silent_s("sip1", 1.0) is None
