# The co-processor without its hardware: the link, the lines, and the commands between
# them. Pure, so the same object runs on the RP2040 (main.py feeds it pins and the UART),
# in the CPython emulator (a pty and simulated handsets) and under MicroPython's
# WebAssembly port (the golden vectors).
#
# Per loop: receive(bytes, now) with what the UART gave; set the lines' inputs; tick(now);
# drive the lines' outputs; write output(). Commands are checked before they act: a bad
# port, a port of the other kind or an out-of-range field is refused with a NAK and
# changes nothing.

from micropython import const

import struct

from lines import FxoLine, FxsLine
from link import CONNECTED, Link
from proto import (
    BOARD_PORT,
    COMMANDS,
    FAULT_EVENT_OVERFLOW,
    NAK_BAD_ARG,
    NAK_BAD_PORT,
    NAK_UNKNOWN_TYPE,
    RING_WATCHDOG,
    T_CFG_FXO,
    T_CFG_FXS,
    T_FAULT,
    T_FXO_HOOK,
    T_POLARITY,
    T_PORT_STATE,
    T_RING_START,
    T_RING_STOP,
    VERSION,
)

FIRMWARE = "minipbx-coproc 0.1.0"
FXS = const(0)
FXO = const(1)
CLOCK_BITS = const(30)
RING_MIN_CHZ = const(1000)  # 10 Hz: the lowest ring frequency the F/R drive makes cleanly
RING_MAX_CHZ = const(6000)  # 60 Hz: above every national ring frequency (16 to 50 Hz)
MAX_STEPS = const(8)
RESET_POWER_ON = const(0)
RESET_WATCHDOG = const(1)
RESET_SOFT = const(2)
RESET_OTHER = const(3)


class Coproc:
    def __init__(self, kinds, now, boot_id, reset_cause=RESET_POWER_ON, tick_ms=1,
                 firmware=FIRMWARE, ring_min=RING_MIN_CHZ, ring_max=RING_MAX_CHZ,
                 commands=COMMANDS):
        # ring_min, ring_max and commands are what this firmware says in its HELLO and
        # holds to (a board revision with another ring generator, a reduced build).
        self.kinds = bytes(kinds)
        self.reset_cause = reset_cause
        self.tick_ms = tick_ms
        self.firmware = firmware
        self.ring_min = ring_min
        self.ring_max = ring_max
        self.commands = bytes(commands)
        self.events = []  # (type, port, t, payload) from the lines
        self.lines = [FxsLine(i, self.events) if k == FXS else FxoLine(i, self.events)
                      for i, k in enumerate(self.kinds)]
        self.link = Link(boot_id, self.hello_body, now)
        self.host_lost = 0  # times the host watchdog fired

    def hello_body(self, now):
        fw = self.firmware.encode()
        return (struct.pack("<BHBIBBHH", VERSION, self.link.boot_id, self.reset_cause, now,
                            CLOCK_BITS, self.tick_ms, self.ring_min, self.ring_max)
                + bytes((len(self.kinds),)) + self.kinds
                + bytes((len(self.commands),)) + self.commands
                + bytes((len(fw),)) + fw)

    # --- the loop -------------------------------------------------------------------------
    def receive(self, data, now):
        link = self.link
        for ftype, seq, body in link.feed(data, now):
            if ftype == CONNECTED:
                # PROTOCOL.md 4.2: the lines stay as they are; the events not delivered
                # are forgotten (the link dropped its own); the snapshot goes first and
                # is taken before the commands that follow CONNECT run.
                del self.events[:]
                for line in self.lines:
                    link.queue(T_PORT_STATE, struct.pack("<BIB", line.port, now, line.flags()),
                               now)
                continue
            reason = self.execute(ftype, body, now)
            if reason:
                link.nak(seq, reason, now)
        link.ack(now)

    def tick(self, now):
        for line in self.lines:
            line.tick(now)
        self._send_events(now)
        link = self.link
        if link.poll(now):
            self.host_lost += 1
            self.safe_state(now)
        if link.dropped and link.connected and len(link.queued) < 8:
            dropped, link.dropped = link.dropped, 0
            self.fault(BOARD_PORT, FAULT_EVENT_OVERFLOW, dropped, now)

    def output(self):
        return self.link.take_output()

    def fault(self, port, code, detail, now):
        self.events.append((T_FAULT, port, now, struct.pack("<BH", code, detail & 0xFFFF)))
        self._send_events(now)

    def safe_state(self, now):
        # The host is gone: no bell keeps ringing, no line stays seized or reversed.
        for line in self.lines:
            if isinstance(line, FxsLine):
                line.ring_stop(now, RING_WATCHDOG)
                line.set_polarity(False)
            else:
                line.seize(False)
        del self.events[:]

    def _send_events(self, now):
        events = self.events
        if not events:
            return
        link = self.link
        for ftype, port, t, payload in events:
            link.queue(ftype, struct.pack("<BI", port, t) + payload, now)
        del events[:]

    # --- commands -------------------------------------------------------------------------
    def execute(self, ftype, body, now):
        # 0 when done, else the NAK reason
        if ftype not in self.commands:
            return NAK_UNKNOWN_TYPE
        if not body or body[0] >= len(self.lines):
            return NAK_BAD_PORT
        line = self.lines[body[0]]
        fxs = self.kinds[body[0]] == FXS
        if (ftype in (T_CFG_FXS, T_RING_START, T_RING_STOP, T_POLARITY)) != fxs:
            return NAK_BAD_PORT
        try:
            if ftype == T_CFG_FXS:
                return self._cfg_fxs(line, body)
            if ftype == T_CFG_FXO:
                return self._cfg_fxo(line, body)
            if ftype == T_RING_START:
                return self._ring_start(line, body, now)
            if len(body) != {T_RING_STOP: 1, T_POLARITY: 2, T_FXO_HOOK: 2}[ftype]:
                return NAK_BAD_ARG
            if ftype == T_RING_STOP:
                line.ring_stop(now)
            elif ftype == T_POLARITY:
                line.set_polarity(bool(body[1]))
            else:
                line.seize(bool(body[1]))
        except ValueError:  # struct: a body of the wrong length
            return NAK_BAD_ARG
        return 0

    def _cfg_fxs(self, line, body):
        (_, debounce, break_min, break_max, make_min, make_max, flash_min, flash_max,
         interdigit, pulse_map) = struct.unpack("<BBBBBBHHHB", body)
        if not (0 < debounce and break_min <= break_max < flash_min <= flash_max
                and make_min <= make_max < interdigit and pulse_map <= 2):
            return NAK_BAD_ARG
        line.configure(debounce, break_min, break_max, make_min, make_max, flash_min,
                       flash_max, interdigit, pulse_map)
        return 0

    def _cfg_fxo(self, line, body):
        (_, ring_min, ring_off, rd_min, rd_max, pol_debounce,
         loop_debounce) = struct.unpack("<BHHBBBB", body)
        if not (ring_min >= 40 and 0 < rd_min <= rd_max < ring_off and pol_debounce
                and loop_debounce):
            return NAK_BAD_ARG
        line.configure(ring_min, ring_off, rd_min, rd_max, pol_debounce, loop_debounce)
        return 0

    def _ring_start(self, line, body, now):
        if len(body) < 4:
            return NAK_BAD_ARG
        freq = body[1] | body[2] << 8
        n = body[3]
        if (len(body) != 4 + 2 * n or not n or n & 1 or n > MAX_STEPS
                or not self.ring_min <= freq <= self.ring_max):
            return NAK_BAD_ARG
        steps = struct.unpack("<%dH" % n, body[4:])
        if 0 in steps:
            return NAK_BAD_ARG
        line.ring_start(freq, steps, now)
        return 0
