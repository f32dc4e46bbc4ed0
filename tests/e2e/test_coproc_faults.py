"""The daemon on the co-processor board when the co-processor or its link misbehaves (issue 7
section 4): a RING_STOP lost until the host gives up, a co-processor that cannot ring the
country's frequency. The co-processor is the emulator (tools/coproc_emulator.py, the MCU's
own code) behind a real pseudo-terminal; the daemon is the real one in its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.app.status_text import format_status
from tests.e2e.coproc_support import RING_STOP, call_102, start_box

pytestmark = pytest.mark.slow

def test_a_ring_stop_lost_until_the_host_gives_up(daemon_factory, emulator_factory,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    emu = emulator_factory()
    box = start_box(daemon_factory, tmp_path, emu.path)
    call_102(box, emu)
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    box.wait_for("the co-processor to ring phone 2", lambda: emu.line(1).rm, timeout=5)

    emu.drop_from_host(RING_STOP, 11, port=1)  # the RING_STOP and its 10 retransmissions
    emu.onhook(0)
    box.wait_for("the host to give up and connect again",
                 lambda: box.call("status")["link"]["reconnects"] == 1, timeout=10)
    box.wait_for("the co-processor to stop ringing phone 2",
                 lambda: emu.line(1).steps is None and not emu.line(1).rm, timeout=5)
    assert len(emu.dropped_from_host) == 11
    assert emu.core.host_lost == 0  # stopped by the host's wanted state, not the watchdog

    status = box.call("status")
    fxs2 = next(p for p in status["ports"] if p["leg"] == "fxs2")
    assert not fxs2["ringing"] and fxs2["line_state"] == "idle"
    log = box.log()
    assert "was ringing it and the box wants it quiet" in log
    assert "co-processor link lost: fxs2 RING_STOP seq" in log
    assert "co-processor link re-established after the host dropped it" in log
    assert "dropped the connection" not in log  # the co-processor did not: the host did

    link = status["link"]  # what `minipbx status` shows of the link
    assert (link["state"], link["lost"], link["resets"], link["dropped_by_mcu"]) == (
        "connected", 1, 0, 0)
    assert link["retransmissions"] >= 10 and link["corrections"] == 1
    assert "fxs2 RING_STOP seq" in link["last_problem"]
    text = format_status(status)
    assert "Co-processor link: connected" in text and "(1 lost by the host)" in text
    ports = {p["leg"]: p for p in box.call("hw.ports")}
    assert ports["fxs2"]["link"] == "connected" and ports["fxs2"]["ringing"] is False


def test_a_co_processor_that_does_not_make_20_hz_rings_at_25(
        daemon_factory, emulator_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(ring_hz=(25.0, 60.0))  # its HELLO: 25 to 60 Hz; the US rings at 20
    box = start_box(daemon_factory, tmp_path, emu.path)  # the profile lists 20 and 25 Hz
    call_102(box, emu)
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    box.wait_for("the co-processor to ring phone 2", lambda: emu.line(1).rm, timeout=5)
    assert emu.line(1).freq == 2500
    assert box.port("fxs2")["ring_hz"] == 25.0
    emu.offhook(1)
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2", timeout=10)
    log = box.log()
    assert log.count("ringing at 25 Hz, not the country's 20 Hz") == 1
    assert "Traceback" not in log


def test_a_phone_no_frequency_can_ring_fails_the_call_clearly(
        daemon_factory, emulator_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(ring_hz=(25.0, 60.0))
    box = start_box(daemon_factory, tmp_path, emu.path, ring_hz="[20]")
    call_102(box, emu)
    box.wait_for("the caller to hear congestion",
                 lambda: box.port("fxs1")["playing"] == "tone:congestion", timeout=15)
    fxs2 = box.port("fxs2")
    assert not fxs2["ringing"] and fxs2["line_state"] == "idle"
    assert "fxs2 cannot ring" in fxs2["ring_problem"]
    assert emu.ring_edges(1) == []
    assert box.call("status")["calls"][0]["state"] == "ended"
    log = box.log()
    assert "fxs2 cannot ring: the board profile's [ring] frequencies_hz lists 20 Hz" in log
    assert "Traceback" not in log


def test_an_event_the_spec_does_not_allow_is_refused_and_the_call_goes_on(
        daemon_factory, emulator_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory()
    box = start_box(daemon_factory, tmp_path, emu.path)
    emu.offhook(0)
    box.wait_for("fxs1 off-hook", lambda: box.port("fxs1")["line_state"] == "offhook")
    emu.inject_event(0x21, 0, b"X\x01")  # a DIGIT 'X' from phone 1's port
    emu.inject_event(0x20, 7, b"\x01")  # a HOOK for a port the co-processor does not have
    box.wait_for("the host to refuse both",
                 lambda: box.call("status")["link"]["events_refused"] == 2, timeout=5)
    assert emu.core.link.refused == 2
    emu.dial(0, "102")  # the refused digit did not spoil the number
    box.wait_for("fxs2 to ring", lambda: box.port("fxs2")["ringing"], timeout=15)
    assert "refused the co-processor's DIGIT for fxs1 (bad argument)" in box.log()
