"""The line co-processor backend: an RP2040 (board/mcu) keeps the lines' fast timing and
talks to the host over a UART (board/PROTOCOL.md).

``codec`` frames bytes, ``messages`` names what the frames carry, ``link`` keeps sequence
numbers, acknowledgements and the connection (all three sans-IO), ``board`` is the backend
with its reader thread, ``ports`` its ports.
"""

from drivers.base import AudioEndpoint
from drivers.coproc.board import CoprocBoard
from drivers.coproc.errors import (
    CommandError,
    CoprocError,
    FrameError,
    LinkOpenError,
    RingError,
)
from drivers.coproc.link import Link, LinkTimers
from drivers.coproc.ports import CoprocFxoPort, CoprocFxsPort
from drivers.coproc.timing import FxoTiming, FxsTiming

__all__ = [
    "AudioEndpoint",
    "CommandError",
    "CoprocBoard",
    "CoprocError",
    "CoprocFxoPort",
    "CoprocFxsPort",
    "FrameError",
    "FxoTiming",
    "FxsTiming",
    "Link",
    "LinkOpenError",
    "LinkTimers",
    "RingError",
]
