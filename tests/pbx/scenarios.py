"""Call flows as data: the scenarios the flow and record tests replay.

A scenario is a list of steps: an event sent to the exchange at the clock's time, or a
number of seconds to let pass (then poll), each with every output expected, in order.
Every scenario ends with all its legs idle again.
"""

from __future__ import annotations

from firmware.core.causes import Cause
from firmware.core.events import (
    Alerting,
    Answer,
    Bridge,
    CallEvent,
    Digit,
    Flash,
    Party,
    Play,
    Release,
    Seize,
    Setup,
    Tone,
    Unbridge,
)
from firmware.pbx.calls import PbxOutput

from .office import Driver

Step = tuple[CallEvent | float, list[PbxOutput]]

ALICE_ID = Party("101", "Alice")
# Alice has no outside number of her own: trunk calls show her name, and the trunk's number.
ALICE_OUT = Party(None, "Alice")
DAVE = Party("5551234", "Dave")


def dial(leg: str, digits: str, *last: PbxOutput) -> list[Step]:
    """Dial ``digits`` from a handset already hearing dial tone: the first digit stops the
    tone, the last one gives ``last``, the ones between nothing."""
    steps: list[Step] = [(Digit(leg, d), []) for d in digits]
    steps[0] = (steps[0][0], [Tone(leg, None)])
    steps[-1] = (steps[-1][0], [*steps[-1][1], *last])
    return steps


def alice_rings_bob() -> list[Step]:
    return [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "102", Setup("fxs2", "102", ALICE_ID), Tone("fxs1", "ringback")),
    ]


def alice_talks_to_bob() -> list[Step]:
    return [
        *alice_rings_bob(),
        (Answer("fxs2"), [Tone("fxs1", None), Bridge("fxs1", "fxs2")]),
    ]


def howler_then_silence(leg: str) -> list[Step]:
    """After busy_tone_s (30) the howler; after howler_s (60) silence; then on-hook."""
    return [
        (29.9, []),
        (0.1, [Tone(leg, "howler")]),
        (59.9, []),
        (0.1, [Tone(leg, None)]),
        (3600.0, []),
        (Release(leg), []),
    ]


def alice_calls_out(digits: str, called: str) -> list[Step]:
    return [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", digits, Setup("out1", called, ALICE_OUT, trunk="itsp")),
    ]


SCENARIOS: dict[str, list[Step]] = {
    "internal call, caller hangs up first": [
        *alice_talks_to_bob(),
        (Digit("fxs1", "5"), []),  # between two handsets the audio carries digits
        (Release("fxs1"), [Unbridge("fxs1", "fxs2"), Tone("fxs2", "busy")]),
        *howler_then_silence("fxs2"),
    ],
    "internal call, callee hangs up first": [
        *alice_talks_to_bob(),
        (Release("fxs2"), [Unbridge("fxs1", "fxs2"), Tone("fxs1", "busy")]),
        (Release("fxs1"), []),
    ],
    "seize of the rung line answers it": [
        *alice_rings_bob(),
        (Seize("fxs2"), [Tone("fxs1", None), Bridge("fxs1", "fxs2")]),
        (Release("fxs2"), [Unbridge("fxs1", "fxs2"), Tone("fxs1", "busy")]),
        (Release("fxs1"), []),
    ],
    "callee busy": [
        (Seize("fxs2"), [Tone("fxs2", "dial")]),
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "102", Tone("fxs1", "busy")),
        (Release("fxs2"), []),
        *howler_then_silence("fxs1"),
    ],
    "calling one's own extension is busy": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "101", Tone("fxs1", "busy")),
        (Release("fxs1"), []),
    ],
    "number not in the digit map gives congestion at once": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "10"),
        (Digit("fxs1", "7"), [Tone("fxs1", "congestion")]),
        (Digit("fxs1", "1"), []),  # keys pressed on congestion change nothing
        *howler_then_silence("fxs1"),
    ],
    "interdigit timeout dials a partial-complete number": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "9555"),
        (3.9, []),
        (Digit("fxs1", "1"), []),  # re-arms the interdigit timer
        (3.9, []),
        (0.1, [Setup("out1", "5551", ALICE_OUT, trunk="itsp")]),
        (Release("fxs1"), [Release("out1", Cause.NORMAL_CLEARING)]),
    ],
    "interdigit timeout on a partial number gives congestion": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "9"),
        (4.0, [Tone("fxs1", "congestion")]),
        (Release("fxs1"), []),
    ],
    "hash dials at once and is not sent": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "95#", Setup("out1", "5", ALICE_OUT, trunk="itsp")),
        (Release("fxs1"), [Release("out1", Cause.NORMAL_CLEARING)]),
    ],
    "first-digit timeout: congestion, howler, silence": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        (14.9, []),
        (0.1, [Tone("fxs1", "congestion")]),
        *howler_then_silence("fxs1"),
    ],
    "outbound call: strip, prepend, caller id, digits out after answer": [
        (Seize("fxs2"), [Tone("fxs2", "dial")]),
        *dial(
            "fxs2", "004930123#", Setup("out1", "+4930123", Party("5550102", "Bob"), trunk="itsp")
        ),
        (5.0, []),  # no tone until the far end alerts
        (Alerting("out1"), [Tone("fxs2", "ringback")]),
        (Alerting("out1"), []),
        (Answer("out1"), [Tone("fxs2", None), Bridge("fxs2", "out1")]),
        (Digit("fxs2", "5"), [Digit("out1", "5")]),
        (Digit("fxs2", "#", "pulse"), [Digit("out1", "#")]),
        (Digit("out1", "7", "rfc4733"), []),  # the media path brings it to the handset
        (Release("out1"), [Unbridge("fxs2", "out1"), Tone("fxs2", "busy")]),
        (Release("fxs2"), []),
    ],
    "outbound early media: bridged before answer, bridged once": [
        *alice_calls_out("95551234#", "5551234"),
        (Alerting("out1", early_media=True), [Tone("fxs1", None), Bridge("fxs1", "out1")]),
        (Digit("fxs1", "1"), [Digit("out1", "1")]),  # a menu behind early media
        (Answer("out1"), [Tone("fxs1", None)]),
        (Release("fxs1"), [Unbridge("fxs1", "out1"), Release("out1", Cause.NORMAL_CLEARING)]),
    ],
    "outbound: far end busy": [
        *alice_calls_out("95551234#", "5551234"),
        (Release("out1", Cause.USER_BUSY), [Tone("fxs1", "busy")]),
        (Release("fxs1"), []),
    ],
    "outbound: failure after early media gives congestion": [
        *alice_calls_out("95551234#", "5551234"),
        (Alerting("out1", early_media=True), [Tone("fxs1", None), Bridge("fxs1", "out1")]),
        (
            Release("out1", Cause.TEMPORARY_FAILURE),
            [Unbridge("fxs1", "out1"), Tone("fxs1", "congestion")],
        ),
        (Release("fxs1"), []),
    ],
    "caller hangs up while the callee rings": [
        *alice_rings_bob(),
        (10.0, []),
        (Release("fxs1"), [Release("fxs2", Cause.NORMAL_CLEARING)]),
    ],
    "no answer: the callee is released, the caller hears congestion": [
        *alice_rings_bob(),
        (59.9, []),
        (0.1, [Release("fxs2", Cause.NO_ANSWER), Tone("fxs1", "congestion")]),
        *howler_then_silence("fxs1"),
    ],
    "flash mid-call holds the partner, flash again takes it back": [  # flashcalls.py
        *alice_talks_to_bob(),
        (Flash("fxs1"), [Unbridge("fxs1", "fxs2"), Play("fxs2", ("builtin:music",), loop=True),
                         Tone("fxs1", "stutter")]),
        (Flash("fxs1"), [Tone("fxs1", None), Play("fxs2", ()), Bridge("fxs1", "fxs2")]),
        (Release("fxs2"), [Unbridge("fxs1", "fxs2"), Tone("fxs1", "busy")]),
        (Release("fxs1"), []),
    ],
    "flash while dialling starts over": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "10"),
        (Flash("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "102", Setup("fxs2", "102", ALICE_ID), Tone("fxs1", "ringback")),
        (Release("fxs1"), [Release("fxs2", Cause.NORMAL_CLEARING)]),
    ],
    "flash while dialling re-arms the first-digit timer": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        (10.0, []),
        (Flash("fxs1"), [Tone("fxs1", "dial")]),
        (14.9, []),
        (0.1, [Tone("fxs1", "congestion")]),
        (Release("fxs1"), []),
    ],
    "flash on busy tone gives fresh dial tone": [
        *alice_talks_to_bob(),
        (Release("fxs2"), [Unbridge("fxs1", "fxs2"), Tone("fxs1", "busy")]),
        (Flash("fxs1"), [Tone("fxs1", "dial")]),
        (15.0, [Tone("fxs1", "congestion")]),  # a new call: its own first-digit timer
        (15.0, []),  # the old call's howler timer went with it
        (15.0, [Tone("fxs1", "howler")]),
        (Release("fxs1"), []),
    ],
    "flash on busy tone, then a new call": [
        *alice_talks_to_bob(),
        (Release("fxs2"), [Unbridge("fxs1", "fxs2"), Tone("fxs1", "busy")]),
        (Flash("fxs1"), [Tone("fxs1", "dial")]),
        *dial("fxs1", "103", Setup("fxs3", "103", ALICE_ID), Tone("fxs1", "ringback")),
        (Release("fxs1"), [Release("fxs3", Cause.NORMAL_CLEARING)]),
    ],
    "SIP call in to an idle extension, callee hangs up": [
        (
            Setup("sip7", "5550100", DAVE),
            [Setup("fxs1", "5550100", DAVE), Alerting("sip7")],
        ),
        (Answer("fxs1"), [Bridge("sip7", "fxs1"), Answer("sip7")]),
        (Digit("fxs1", "3"), [Digit("sip7", "3")]),
        (Digit("sip7", "4", "rfc4733"), []),
        (Release("fxs1"), [Unbridge("sip7", "fxs1"), Release("sip7", Cause.NORMAL_CLEARING)]),
    ],
    "SIP call in, SIP caller hangs up": [
        (Setup("sip7", "5559999", DAVE), [Setup("fxs2", "5559999", DAVE), Alerting("sip7")]),
        (Answer("fxs2"), [Bridge("sip7", "fxs2"), Answer("sip7")]),
        (Release("sip7"), [Unbridge("sip7", "fxs2"), Tone("fxs2", "busy")]),
        *howler_then_silence("fxs2"),
    ],
    "SIP call in to a busy extension": [
        (Seize("fxs1"), [Tone("fxs1", "dial")]),
        (Setup("sip7", "5550100", DAVE), [Release("sip7", Cause.USER_BUSY)]),
        (Release("fxs1"), []),
    ],
    "SIP call in, caller gives up while it rings": [
        (Setup("sip7", "5550100", DAVE), [Setup("fxs1", "5550100", DAVE), Alerting("sip7")]),
        (Release("sip7"), [Release("fxs1", Cause.NORMAL_CLEARING)]),
    ],
    "SIP call in, no answer": [
        (Setup("sip7", "5550100", DAVE), [Setup("fxs1", "5550100", DAVE), Alerting("sip7")]),
        (60.0, [Release("fxs1", Cause.NO_ANSWER), Release("sip7", Cause.NO_ANSWER)]),
    ],
    "FXO line rings its extension, digits stay in the audio": [
        (Setup("fxo1", "", DAVE), [Setup("fxs3", "103", DAVE), Alerting("fxo1")]),
        (Answer("fxs3"), [Bridge("fxo1", "fxs3"), Answer("fxo1")]),
        (Digit("fxs3", "1"), []),
        (Release("fxo1"), [Unbridge("fxo1", "fxs3"), Tone("fxs3", "busy")]),
        (Release("fxs3"), []),
    ],
    "FXO line: the PSTN caller gives up while the extension rings": [
        (Setup("fxo1", "", DAVE), [Setup("fxs3", "103", DAVE), Alerting("fxo1")]),
        (5.0, []),
        (Release("fxo1"), [Release("fxs3", Cause.NORMAL_CLEARING)]),
    ],
}


def run(drv: Driver, steps: list[Step]) -> None:
    for number, (action, expected) in enumerate(steps):
        got = drv.advance(action) if isinstance(action, float) else drv.send(action)
        assert got == expected, f"step {number}: {action!r}"
