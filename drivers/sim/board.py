"""The simulated board: up to MAX_PORTS simulated FXS and FXO ports each, no hardware.

It is built with the ports the configuration names and grows, while it runs, when a commit
names more (:meth:`SimBoard.grow`), so any office of up to eight handsets runs on it
without a board profile.
"""

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
        self._sink: SignalSink | None = None

    def start(self, sink: SignalSink) -> None:
        self._sink = sink
        for p in self.sim_fxs:
            p.attach(sink)
        for q in self.sim_fxo:
            q.attach(sink)

    def grow(self, fxs: int, fxo: int) -> bool:
        """Add ports up to ``fxs`` FXS and ``fxo`` FXO (a board never shrinks: a port
        the configuration drops just stays unused); False when past MAX_PORTS."""
        if fxs > MAX_PORTS or fxo > MAX_PORTS:
            return False
        added: list[SimFxsPort | SimFxoPort] = []
        while len(self.sim_fxs) < fxs:
            self.sim_fxs.append(SimFxsPort(len(self.sim_fxs) + 1))
            added.append(self.sim_fxs[-1])
        while len(self.sim_fxo) < fxo:
            self.sim_fxo.append(SimFxoPort(len(self.sim_fxo) + 1))
            added.append(self.sim_fxo[-1])
        if self._sink is not None:
            for port in added:
                port.attach(self._sink)
        return True

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
