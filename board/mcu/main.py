# The line co-processor's program: sample the lines every TICK_MS, talk to the host.
#
# Everything that decides is in core.py, lines.py, link.py and proto.py (pure, tested on
# the host under CPython and MicroPython); this loop only moves pin levels and UART bytes.

import os
import time

from micropython import const

import hw
from core import Coproc
from proto import BOARD_PORT, FAULT_TICK_OVERRUN

TICK_MS = const(1)
OVERRUN_MS = const(5)  # a loop this late is reported: pulses and debounce lost precision
OVERRUN_REPORT_MS = const(1000)  # at most one report a second


def main():
    uart = hw.open_uart()
    boot_id = int.from_bytes(os.urandom(2), "little")
    now = time.ticks_ms()
    coproc = Coproc(hw.kinds(), now, boot_id, hw.boot_cause(), TICK_MS)
    pins = hw.bind(coproc.lines)
    wdt = hw.watchdog()
    uart.write(b"\x00")  # close whatever half frame the host's receiver holds
    last = now
    reported = time.ticks_add(now, -OVERRUN_REPORT_MS)
    while True:
        now = time.ticks_ms()
        waiting = uart.any()
        if waiting:
            data = uart.read(waiting)
            if data:
                coproc.receive(data, now)
        late = time.ticks_diff(now, last)
        if late >= TICK_MS:
            last = now
            for p in pins:
                p.sample()
            coproc.tick(now)
            for p in pins:
                p.drive()
            if late > OVERRUN_MS and time.ticks_diff(now, reported) >= OVERRUN_REPORT_MS:
                reported = now
                coproc.fault(BOARD_PORT, FAULT_TICK_OVERRUN, late, now)
        out = coproc.output()
        if out:
            uart.write(out)
        wdt.feed()


main()
