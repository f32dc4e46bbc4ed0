"""The simulated board: any number of simulated FXS and FXO ports, no hardware."""

from __future__ import annotations

from drivers.base import Board, SignalSink
from drivers.errors import BoardProfileError
from drivers.sim.fxo import SimFxoPort
from drivers.sim.fxs import SimFxsPort

MAX_PORTS = 8


class SimBoard(Board):
    def __init__(self, fxs: int = 2, fxo: int = 1, name: str = "sim") -> None:
        if not (0 <= fxs <= MAX_PORTS and 0 <= fxo <= MAX_PORTS and fxs + fxo > 0):
            raise BoardProfileError(
                f"simulated board: fxs={fxs}, fxo={fxo}; each must be 0..{MAX_PORTS}, "
                "and at least one port in all"
            )
        self.name = name
        self.sim_fxs = [SimFxsPort(i + 1) for i in range(fxs)]
        self.sim_fxo = [SimFxoPort(i + 1) for i in range(fxo)]
        self.fxs = self.sim_fxs
        self.fxo = self.sim_fxo
        self._closed = False

    def start(self, sink: SignalSink) -> None:
        for p in self.sim_fxs:
            p.attach(sink)
        for q in self.sim_fxo:
            q.attach(sink)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for p in self.sim_fxs:
            p.stop_ringing()
            p.close()
        for q in self.sim_fxo:
            q.release()
            q.close()
