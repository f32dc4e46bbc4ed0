"""The co-processor link in `minipbx status` for people (firmware/app/status_text.py)."""

from __future__ import annotations

from typing import Any

from firmware.app.status_text import format_status

LINK: dict[str, Any] = {
    "state": "connected", "since_s": 42.0, "firmware": "minipbx-coproc 0.1.0",
    "boot_id": "1a2b", "connects": 2, "reconnects": 1, "resets": 0, "lost": 1,
    "dropped_by_mcu": 0, "retransmissions": 11, "frames_dropped": 0, "corrections": 1,
    "last_problem": "co-processor link lost: fxs2 RING_STOP seq 7 not acknowledged after 10 "
                    "retransmissions; connecting again",
    "last_problem_ago_s": 42.3,
}
PORTS = [{"leg": "fxs1", "kind": "fxs", "hook": "on", "line_state": "idle"},
         {"leg": "fxs2", "kind": "fxs", "hook": "on", "line_state": "idle",
          "ring_problem": "fxs2 cannot ring: the board profile's [ring] frequencies_hz ..."}]


def test_a_co_processor_board_shows_its_link() -> None:
    text = format_status({"board": "ag1171-coproc-2p", "ports": PORTS, "link": LINK})
    lines = text.splitlines()
    link = next(i for i, line in enumerate(lines) if line.startswith("Co-processor link:"))
    assert lines[link] == (
        "Co-processor link: connected 42 s, firmware minipbx-coproc 0.1.0 (boot 1a2b), "
        "1 reconnects (1 lost by the host), 11 retransmissions, 0 bad frames, "
        "1 line states put right after a reconnect")
    assert lines[link + 1] == ("  last problem 42 s ago: co-processor link lost: fxs2 "
                               "RING_STOP seq 7 not acknowledged after 10 retransmissions; "
                               "connecting again")
    assert "  fxs2 cannot ring: the board profile's [ring] frequencies_hz ..." in lines


def test_a_board_without_a_link_says_nothing_of_one() -> None:
    text = format_status({"board": "sim", "ports": PORTS[:1]})
    assert "link" not in text.lower()


def test_refusals_show_when_there_are_some() -> None:
    link = {**LINK, "refused": 0, "events_refused": 3}
    text = format_status({"board": "ag1171-coproc-2p", "ports": PORTS, "link": link})
    assert ", refused: 0 commands by the co-processor, 3 of its events by the host" in text
