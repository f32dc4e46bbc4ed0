# The RP2040's pins, UART and watchdog for the line co-processor.
#
# BOARD lists the ports in channel order (the board profile's `channel`, the HELLO's port
# list): for an FXS port its SHK input and RM, F/R outputs; for an FXO port its RD, LC,
# POL inputs and OH output. The table below is the two-FXS, one-FXO reference board
# (board/ag1171-coproc-2p.toml); another board revision changes only this table.
#
# Levels: the Ag1171's SHK is high off-hook; the DAA's ring-detect and loop-current
# optocouplers pull low when they conduct; polarity is high when reversed.

from machine import PWRON_RESET, UART, WDT, Pin, reset_cause
from micropython import const

FXS = const(0)
FXO = const(1)
UART_ID = const(0)
UART_TX = const(0)
UART_RX = const(1)
BAUDRATE = const(115200)
WDT_TIMEOUT_MS = const(1000)  # the sampling loop feeds it every tick

# (kind, input pins, output pins)
BOARD = (
    (FXS, (2,), (3, 4)),  # channel 0: SHK GP2; RM GP3, F/R GP4
    (FXS, (5,), (6, 7)),  # channel 1: SHK GP5; RM GP6, F/R GP7
    (FXO, (8, 9, 10), (11,)),  # channel 2: RD GP8, LC GP9, POL GP10; OH GP11
)


class FxsPins:
    def __init__(self, line, shk, rm, fr):
        self.line = line
        self.shk = Pin(shk, Pin.IN, Pin.PULL_DOWN)
        self.rm = Pin(rm, Pin.OUT, value=0)
        self.fr = Pin(fr, Pin.OUT, value=0)
        self.rm_level = False
        self.fr_level = False

    def sample(self):
        self.line.shk = self.shk.value() == 1

    def drive(self):
        line = self.line
        if line.fr != self.fr_level:  # F/R first: RM never rises on a stale polarity
            self.fr_level = line.fr
            self.fr.value(1 if line.fr else 0)
        if line.rm != self.rm_level:
            self.rm_level = line.rm
            self.rm.value(1 if line.rm else 0)


class FxoPins:
    def __init__(self, line, rd, lc, pol, oh):
        self.line = line
        self.rd = Pin(rd, Pin.IN, Pin.PULL_UP)
        self.lc = Pin(lc, Pin.IN, Pin.PULL_UP)
        self.pol = Pin(pol, Pin.IN, Pin.PULL_DOWN)
        self.oh = Pin(oh, Pin.OUT, value=0)
        self.oh_level = False

    def sample(self):
        line = self.line
        line.rd = self.rd.value() == 0
        line.lc = self.lc.value() == 0
        line.pol = self.pol.value() == 1

    def drive(self):
        if self.line.oh != self.oh_level:
            self.oh_level = self.line.oh
            self.oh.value(1 if self.oh_level else 0)


def kinds():
    return bytes(kind for kind, _, _ in BOARD)


def bind(lines):
    # The pin objects of every line, in channel order.
    pins = []
    for line, (kind, ins, outs) in zip(lines, BOARD):
        if kind == FXS:
            pins.append(FxsPins(line, ins[0], outs[0], outs[1]))
        else:
            pins.append(FxoPins(line, ins[0], ins[1], ins[2], outs[0]))
    return pins


def open_uart():
    return UART(UART_ID, baudrate=BAUDRATE, tx=Pin(UART_TX), rx=Pin(UART_RX), rxbuf=1024)


def watchdog():
    return WDT(timeout=WDT_TIMEOUT_MS)


def boot_cause():
    # The HELLO's reset_cause: 0 power-on, 1 watchdog, 2 soft reset
    cause = reset_cause()
    if cause == PWRON_RESET:
        return 0
    if cause == 3:  # machine.WDT_RESET
        return 1
    return 2
