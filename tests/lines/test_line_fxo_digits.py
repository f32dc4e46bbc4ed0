"""DTMF heard on a PSTN line reaches the exchange only while the line is connected."""

from __future__ import annotations

from firmware.core.events import Answer, Digit, Party, Setup
from firmware.lines.fxo import FxoLine


def _connected(line: FxoLine) -> float:
    """Dial out and let the dialling finish: the line is connected."""
    now = 0.0
    line.command(Setup("fxo1", "5551234", Party()), now)
    while line.state != "connected":
        deadline = line.next_deadline
        assert deadline is not None, line.state
        now = deadline
        line.poll(now)
    return now


def test_a_digit_goes_up_while_connected() -> None:
    line = FxoLine("fxo1")
    assert line.dtmf_digit("5", 0.0) == []  # idle: a ringing line's noise dials nothing
    now = _connected(line)
    assert line.dtmf_digit("5", now) == [Digit("fxo1", "5", "dtmf")]


def test_no_digit_while_ringing_in() -> None:
    line = FxoLine("fxo1")
    line.command(Answer("fxo1"), 0.0)
    assert line.dtmf_digit("1", 0.0) == []
