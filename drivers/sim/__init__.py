"""The simulated line board: a real backend with virtual handsets and a virtual PSTN line.

Like gpiozero's MockFactory, it implements the same interface as the hardware backends and
adds test verbs (lift the handset, dial pulses, play into the line, record what the
handset hears). It knows nothing of signal processing: DTMF and caller ID are made and
decoded by the firmware and handed to it as samples.
"""

from drivers.sim.board import SimBoard
from drivers.sim.fxo import SimFxoPort
from drivers.sim.fxs import SimFxsPort

__all__ = ["SimBoard", "SimFxoPort", "SimFxsPort"]
