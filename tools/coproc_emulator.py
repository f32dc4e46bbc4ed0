"""An emulated line co-processor behind a real pseudo-terminal.

It runs the MCU program's own pure modules (board/mcu: proto, lines, link, core) under
CPython, so the host backend (drivers.coproc) talks to the code that runs on the RP2040,
over a real pty, byte for byte. In place of the pins it has simulated lines: a handset on
each FXS port (lift, hang up, dial pulses, flash) and a PSTN line on each FXO port (ring
signal, loop current, polarity), all timed in the emulator's own milliseconds.

Timing: the emulator keeps its own 1 ms clock, advanced from ``time.monotonic()``. When the
thread is late (a loaded machine), it catches up tick by tick, applying the scripted input
levels at the exact emulated millisecond, so a 67/33 pulse train is 67/33 however late
Python runs; only the UART bytes are real-time.

Faults to inject: ``deaf``/``mute`` (the UART goes silent one way), :meth:`drop_from_host`
(lose chosen host frames, e.g. a RING_STOP eleven times), :meth:`corrupt_next`,
:meth:`send_raw`, :meth:`inject_event` (make the MCU send an event it should not) and
:meth:`reset`; ``ring_hz`` and ``commands`` make a co-processor that rings only some
frequencies or executes only some commands.

Use it from tests (``with CoprocEmulator("SSO") as emu: CoprocBoard(emu.path, ...)``) or
by hand: ``python tools/coproc_emulator.py --ports SSO`` prints the pty path for
``minipbx run`` against a board profile whose [uart] device is that path.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import os
import select
import sys
import threading
import time
import tty
import types
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

MCU_DIR = Path(__file__).resolve().parent.parent / "board" / "mcu"
PURE_MODULES = ("proto", "lines", "link", "core")
TICKS_MASK = 0x3FFFFFFF
FXS_INPUTS = ("shk",)
FXO_INPUTS = ("rd", "lc", "pol")


def load_mcu(mcu_dir: Path = MCU_DIR) -> types.SimpleNamespace:
    """Import the MCU program's pure modules under CPython, without leaving their bare
    names (``proto``, ``lines``...) in ``sys.modules`` for anyone else to trip on."""
    shim = types.ModuleType("micropython")
    shim.const = lambda expr: expr  # type: ignore[attr-defined]
    names = ("micropython", *PURE_MODULES)
    saved = {name: sys.modules.get(name) for name in names}
    loaded: dict[str, types.ModuleType] = {}
    try:
        sys.modules["micropython"] = shim
        for name in PURE_MODULES:
            spec = importlib.util.spec_from_file_location(name, mcu_dir / f"{name}.py")
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            loaded[name] = module
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return types.SimpleNamespace(**loaded)


def pulse_train(digit: str, pps: float = 10.0, break_ratio: float = 0.6,
                interdigit_ms: int = 800) -> list[tuple[bool, int]]:
    """Off-hook levels of a rotary dial sending ``digit`` (10 pulses for 0)."""
    n = 10 if digit == "0" else int(digit)
    period = 1000.0 / pps
    brk = round(period * break_ratio)
    make = round(period) - brk
    levels: list[tuple[bool, int]] = []
    for i in range(n):
        levels.append((False, brk))
        levels.append((True, make if i < n - 1 else interdigit_ms))
    return levels


def ring_signal(ms: int, hz: float = 25.0) -> list[tuple[bool, int]]:
    """A ring-detect opto conducting on one half of each cycle for ``ms``."""
    half = 1000.0 / hz / 2
    levels: list[tuple[bool, int]] = []
    elapsed = 0.0
    on = True
    while elapsed < ms:
        step = min(half, ms - elapsed)
        levels.append((on, max(1, round(elapsed + step) - round(elapsed))))
        elapsed += step
        on = not on
    levels.append((False, 1))
    return levels


class CoprocEmulator:
    def __init__(self, ports: str = "SSO", *, boot_id: int | None = None,
                 reset_cause: int = 0, firmware: str | None = None,
                 ring_hz: tuple[float, float] | None = None,
                 commands: Sequence[int] | None = None) -> None:
        self.mcu = load_mcu()
        self.kinds = bytes(0 if k == "S" else 1 for k in ports.upper())
        self._core_options: dict[str, Any] = {}
        if firmware is not None:
            self._core_options["firmware"] = firmware
        if ring_hz is not None:  # the HELLO's ring_min and ring_max, and what RING_START takes
            self._core_options["ring_min"] = round(ring_hz[0] * 100)
            self._core_options["ring_max"] = round(ring_hz[1] * 100)
        if commands is not None:  # the HELLO's command list, and what the MCU executes
            self._core_options["commands"] = bytes(commands)
        self._lock = threading.RLock()
        self._ms = 0
        self._t0 = time.monotonic()
        self.core: Any = None
        self.boots = 0
        self._reset(boot_id, reset_cause)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._scripts: dict[tuple[int, str], deque[tuple[int, bool]]] = {}
        self._tails: dict[tuple[int, str], int] = {}
        self.outputs: list[deque[tuple[int, bool, bool]]] = [
            deque(maxlen=20000) for _ in self.kinds]
        self._last_out: list[tuple[bool, bool]] = [(False, False) for _ in self.kinds]
        self.deaf = False  # drop what the host sends (the MCU stops hearing it)
        self.mute = False  # drop what the MCU sends
        self._corrupt = 0  # corrupt this many outgoing chunks
        # Frames of the host to lose: [type, port or None, how many more]. Once set, what
        # the host sends goes through a deframer and the kept frames are encoded again
        # (byte for byte the same: the frame is the same).
        self._drops: list[list[Any]] = []
        self._filter: Any = None
        self.dropped_from_host: list[tuple[int, int]] = []  # (type, seq) of lost frames
        self._rx = bytearray()  # from the host, for the next tick
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.tx_dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coproc-emulator", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> CoprocEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> CoprocEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, boot_id: int | None = None, reset_cause: int = 1) -> None:
        """The MCU restarts: new boot id, lines back to their power-on state."""
        with self._lock:
            self._reset(boot_id, reset_cause)
            self._rx.clear()
            self._scripts.clear()
            self._tails.clear()

    def _reset(self, boot_id: int | None, reset_cause: int) -> None:
        if boot_id is None:
            boot_id = int.from_bytes(os.urandom(2), "little")
            if self.core is not None and boot_id == self.core.link.boot_id:
                boot_id ^= 0x5A5A
        self.core = self.mcu.core.Coproc(self.kinds, self._ms & TICKS_MASK, boot_id,
                                         reset_cause, 1, **self._core_options)
        self.boots += 1

    # --- the simulated lines --------------------------------------------------------------
    @property
    def now_ms(self) -> int:
        with self._lock:
            return self._ms

    def line(self, port: int) -> Any:
        """The MCU's line object of ``port`` (read its state under :meth:`locked`)."""
        return self.core.lines[port]

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def play(self, port: int, name: str, levels: Iterable[tuple[bool, int]]) -> int:
        """Drive input ``name`` of ``port`` through ``(level, ms)`` steps after whatever is
        already scripted for it; the last level stays. Returns the emulated ms it ends."""
        self._check_input(port, name)
        key = (port, name)
        with self._lock:
            at = max(self._ms + 1, self._tails.get(key, 0))
            script = self._scripts.setdefault(key, deque())
            for level, ms in levels:
                script.append((at, level))
                at += int(ms)
            self._tails[key] = at
            return at

    def set(self, port: int, name: str, level: bool) -> int:
        return self.play(port, name, [(level, 1)])

    def offhook(self, port: int) -> int:
        return self.set(port, "shk", True)

    def onhook(self, port: int) -> int:
        return self.set(port, "shk", False)

    def dial(self, port: int, digits: str, pps: float = 10.0, break_ratio: float = 0.6,
             interdigit_ms: int = 800) -> int:
        end = 0
        for digit in digits:
            end = self.play(port, "shk", pulse_train(digit, pps, break_ratio, interdigit_ms))
        return end

    def hook_break(self, port: int, ms: int) -> int:
        """On-hook for ``ms``, then off-hook again (a flash, a pulse or a hang-up)."""
        return self.play(port, "shk", [(False, ms), (True, 1)])

    def ring_line(self, port: int, ms: int, hz: float = 25.0) -> int:
        """The PSTN rings the FXO port for ``ms``."""
        return self.play(port, "rd", ring_signal(ms, hz))

    def idle(self, port: int, name: str) -> bool:
        """True when the script of that input has played out."""
        with self._lock:
            return self._tails.get((port, name), 0) <= self._ms

    def ring_edges(self, port: int) -> list[tuple[int, bool]]:
        """(emulated ms, RM) at every change of the RM output of an FXS port."""
        with self._lock:
            out: list[tuple[int, bool]] = []
            last: bool | None = None
            for ms, rm, _ in self.outputs[port]:
                if rm != last:
                    out.append((ms, rm))
                    last = rm
            return out

    def fr_toggles(self, port: int, since_ms: int, until_ms: int) -> int:
        with self._lock:
            return sum(1 for ms, rm, _ in self.outputs[port]
                       if since_ms <= ms < until_ms and rm)

    # --- fault injection ------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        """Bytes to the host as if the MCU had sent them (garbage, hand-made frames)."""
        with self._lock:
            self._write(data)

    def corrupt_next(self, chunks: int = 1) -> None:
        with self._lock:
            self._corrupt += chunks

    def drop_from_host(self, frame_type: int, count: int, port: int | None = None) -> None:
        """Lose the next ``count`` frames of ``frame_type`` the host sends (only those for
        ``port`` when given): the MCU never sees them, retransmissions included."""
        with self._lock:
            if self._filter is None:
                self._filter = self.mcu.proto.Deframer()
            self._drops.append([frame_type, port, count])

    def inject_event(self, frame_type: int, port: int, payload: bytes) -> None:
        """Make the MCU send an event of its own making (a port it does not have, a digit
        no dial gives): it goes out sequenced, as the MCU's own events do."""
        with self._lock:
            self.core.events.append((frame_type, port, self._ms & TICKS_MASK, payload))

    def _from_host(self, data: bytes) -> bytes:
        if self._filter is None:
            return data
        kept = bytearray()
        for ftype, seq, ack, body in self._filter.feed(data):
            rule = next((r for r in self._drops if r[0] == ftype and r[2] > 0
                         and (r[1] is None or (body and body[0] == r[1]))), None)
            if rule is not None:
                rule[2] -= 1
                self.dropped_from_host.append((ftype, seq))
                continue
            kept += self.mcu.proto.encode(ftype, seq, ack, body)
        return bytes(kept)

    # --- the loop -------------------------------------------------------------------------
    def _check_input(self, port: int, name: str) -> None:
        allowed = FXS_INPUTS if self.kinds[port] == 0 else FXO_INPUTS
        if name not in allowed:
            raise ValueError(f"port {port} has inputs {allowed}, not {name!r}")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.001)
            except (OSError, ValueError):
                return
            data = b""
            if ready:
                try:
                    data = os.read(self._master, 4096)
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EIO):
                        return
                    if exc.errno == errno.EIO:  # no host has the pty open
                        time.sleep(0.001)
            target = int((time.monotonic() - self._t0) * 1000)
            with self._lock:
                if data:
                    self.rx_bytes += len(data)
                    if not self.deaf:
                        self._rx += self._from_host(data)
                while self._ms < target:
                    self._ms += 1
                    self._tick(self._ms)
                out = self.core.output()
                if out:
                    self._write(out)

    def _tick(self, ms: int) -> None:
        # One pass of the MCU's loop (board/mcu/main.py): what the UART gave, then the
        # inputs, the sample, the outputs.
        if self._rx:
            data, self._rx = bytes(self._rx), bytearray()
            self.core.receive(data, ms & TICKS_MASK)
        lines = self.core.lines
        for (port, name), script in self._scripts.items():
            while script and script[0][0] <= ms:
                setattr(lines[port], name, script.popleft()[1])
        self.core.tick(ms & TICKS_MASK)
        for port, kind in enumerate(self.kinds):
            line = lines[port]
            now = (line.rm, line.fr) if kind == 0 else (line.oh, False)
            if now != self._last_out[port]:
                self._last_out[port] = now
                self.outputs[port].append((ms, now[0], now[1]))

    def _write(self, data: bytes) -> None:
        if self.mute:
            return
        if self._corrupt:
            self._corrupt -= 1
            buf = bytearray(data)
            buf[len(buf) // 2] ^= 0x5A
            data = bytes(buf)
        try:
            written = os.write(self._master, data)
            self.tx_bytes += written
            self.tx_dropped += len(data) - written
        except OSError:
            self.tx_dropped += len(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", default="SSO",
                        help="port kinds in channel order: S for FXS, O for FXO")
    parser.add_argument("--ring-hz", type=float, nargs=2, metavar=("MIN", "MAX"),
                        help="the ring frequencies the emulated MCU makes (default 10 60)")
    args = parser.parse_args(argv)
    ring_hz = None if args.ring_hz is None else (args.ring_hz[0], args.ring_hz[1])
    with CoprocEmulator(args.ports, ring_hz=ring_hz) as emu:
        print(emu.path, flush=True)
        try:
            while True:
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
