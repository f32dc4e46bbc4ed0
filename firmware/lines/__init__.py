"""Sans-IO state machines of the analog ports.

Line signals (hook edges, ring bursts, loop current, decoded caller ID, DTMF digits) and the
current time go in; board and media actions (``actions``), core call events for the PBX,
and the next deadline come out. Nothing here reads a clock, sleeps, or touches hardware;
this package imports only ``firmware.core``.

* ``timing``: hook signal windows (``HookTiming``) and named timers.
* ``hook``: debounce, dial pulses, flash and on-hook from raw hook edges.
* ``ringing``: ring cadence and caller ID placement for an FXS phone (``CallerIdPlan``).
* ``fxs``: ``FxsLine``, one FXS port.
* ``fxo``: ``FxoLine``, one FXO port.
"""

from firmware.lines.actions import LineAction, LineOutput
from firmware.lines.fxo import FxoLine
from firmware.lines.fxs import FxsLine
from firmware.lines.hook import HookClassifier
from firmware.lines.ringing import CallerIdPlan
from firmware.lines.timing import HookTiming

__all__ = [
    "CallerIdPlan",
    "FxoLine",
    "FxsLine",
    "HookClassifier",
    "HookTiming",
    "LineAction",
    "LineOutput",
]
