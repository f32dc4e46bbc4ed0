# The per-port line logic of the co-processor (board/PROTOCOL.md section 6).
#
# Pure classes fed the raw input levels and the time: the caller sets the input attributes
# (FxsLine.shk; FxoLine.rd, .lc, .pol), calls tick(now) once per sampling period, then
# drives the outputs (FxsLine.rm, .fr; FxoLine.oh). `now` is MicroPython's ticks_ms, which
# wraps at 2**30: every comparison goes through tdiff so the wrap never shows, and no
# value ever leaves the small-int range (no heap allocation in the sampling loop).
#
# Events go to the shared list `out` as (type, port, t, payload) tuples, `t` being the
# instant the thing happened (the first sample of a debounced level, the start of a
# break that became a hang-up), not the tick that decided it.

from micropython import const

from proto import (
    RING_CADENCE,
    RING_STOPPED,
    RING_TRIP,
    T_DIGIT,
    T_FLASH,
    T_FXO_RING,
    T_HOOK,
    T_LINE_POLARITY,
    T_LOOP,
    T_RING,
)

TICKS_MASK = const(0x3FFFFFFF)
_TICKS_HALF = const(0x20000000)

# FXS hook states
ONHOOK = const(0)
OFFHOOK = const(1)
BREAK = const(2)  # off-hook, then on-hook for a time that decides what it was

MAX_PULSES = const(10)
RD_MIN_EDGES = const(3)  # two whole ring periods before a ring can be believed


def tdiff(a, b):
    # a - b on the wrapping ms clock, like time.ticks_diff
    return ((a - b + _TICKS_HALF) & TICKS_MASK) - _TICKS_HALF


def tadd(a, ms):
    return (a + ms) & TICKS_MASK


class Debounce:
    # A level counts once it has been stable for `ms`; `at` is then its first sample.

    def __init__(self, ms, level=False):
        self.ms = ms
        self.level = level
        self.raw = level
        self.raw_at = 0
        self.at = 0

    def sample(self, value, now):
        # True when the debounced level changed (the new level began at self.at)
        if value != self.raw:
            self.raw = value
            self.raw_at = now
        if self.raw != self.level and tdiff(now, self.raw_at) >= self.ms:
            self.level = self.raw
            self.at = self.raw_at
            return True
        return False


class FxsLine:
    def __init__(self, port, out):
        self.port = port
        self.out = out
        self.shk = False  # input: raw SHK, True = loop current = off-hook
        self.rm = False  # output: ring mode
        self.fr = False  # output: forward/reverse (the polarity, or the ring wave)
        self.reversed = False
        self.configure(20, 30, 95, 25, 95, 100, 900, 250, 0)
        self.hook = Debounce(20)
        self.state = ONHOOK
        self.break_at = 0
        self.pulses = 0
        self.spoilt = False
        self.rejected = 0  # digits dropped as spoilt
        self.last_make = 0
        self.steps = None  # the running cadence, or None
        self.freq = 2000
        self.step = 0
        self.step_at = 0
        self.burst_at = 0

    def configure(self, debounce, break_min, break_max, make_min, make_max, flash_min,
                  flash_max, interdigit, pulse_map):
        self.debounce = debounce
        self.break_min = break_min
        self.break_max = break_max
        self.make_min = make_min
        self.make_max = make_max
        self.flash_min = flash_min
        self.flash_max = flash_max
        self.interdigit = interdigit
        self.pulse_map = pulse_map
        if hasattr(self, "hook"):
            self.hook.ms = debounce

    @property
    def offhook(self):
        return self.state != ONHOOK

    @property
    def ringing(self):
        return self.steps is not None

    def flags(self):
        return (1 if self.state != ONHOOK else 0) | (2 if self.steps is not None else 0) \
            | (4 if self.reversed else 0)

    # --- sampling -------------------------------------------------------------------------
    def tick(self, now):
        shk = self.shk
        if shk and self.steps is not None:
            self._stop_ring(now, RING_TRIP)  # ring trip: before any debounce
        hook = self.hook
        if hook.sample(shk, now):
            self._edge(hook.level, hook.at)
        state = self.state
        if state == BREAK:
            if not hook.raw and tdiff(now, self.break_at) > self.flash_max:
                self._drop_digit()
                self.state = ONHOOK
                self._emit(T_HOOK, self.break_at, b"\x00")
        elif state == OFFHOOK and self.pulses:
            make_end = now if hook.raw else hook.raw_at
            if tdiff(make_end, self.last_make) >= self.interdigit:
                self._flush_digit()
        steps = self.steps
        if steps is not None:
            self._ring_tick(now, steps)

    def _edge(self, offhook, at):
        state = self.state
        if offhook:
            if state == ONHOOK:
                self.state = OFFHOOK
                self._drop_digit()
                self._emit(T_HOOK, at, b"\x01")
            elif state == BREAK:
                self._break_ended(at)
        elif state == OFFHOOK:
            if self.pulses and not self.make_min <= tdiff(at, self.last_make) <= self.make_max:
                self.spoilt = True  # a make outside its window inside a digit
            self.state = BREAK
            self.break_at = at

    def _break_ended(self, at):
        length = tdiff(at, self.break_at)
        self.state = OFFHOOK
        if self.break_min <= length <= self.break_max:
            self.pulses += 1
            self.last_make = at
        elif self.flash_min <= length <= self.flash_max:
            self._drop_digit()
            self._emit(T_FLASH, at, bytes((length & 0xFF, length >> 8)))
        elif length > self.flash_max:  # a hang-up decided late: report both edges
            self._drop_digit()
            self._emit(T_HOOK, self.break_at, b"\x00")
            self._emit(T_HOOK, at, b"\x01")
        elif self.pulses:
            self.spoilt = True  # a glitch inside a digit
        # otherwise neither a pulse nor a flash: ignored

    def _drop_digit(self):
        # A flash, a hang-up or a new off-hook in the middle of a digit spoils it.
        if self.pulses:
            self.rejected += 1
        self.pulses = 0
        self.spoilt = False

    def _flush_digit(self):
        n = self.pulses
        spoilt = self.spoilt
        self.pulses = 0
        self.spoilt = False
        if spoilt or n > MAX_PULSES:
            self.rejected += 1
            return
        if self.pulse_map == 1:  # New Zealand
            digit = MAX_PULSES - n
        elif self.pulse_map == 2:  # Sweden
            digit = n - 1
        else:
            digit = n % MAX_PULSES
        self._emit(T_DIGIT, self.last_make, bytes((0x30 + digit, n)))

    # --- ringing --------------------------------------------------------------------------
    def ring_start(self, freq, steps, now):
        if self.shk or self.state != ONHOOK:
            self._emit(T_RING, now, bytes((0, RING_TRIP)))
            return
        was_on = self.rm
        self.steps = steps
        self.freq = freq
        self.step = 0
        self.step_at = now
        self.burst_at = now
        self.rm = True
        if not was_on:
            self._emit(T_RING, now, bytes((1, RING_CADENCE)))
        self._ring_tick(now, steps)

    def ring_stop(self, now, reason=RING_STOPPED):
        if self.steps is not None:
            self._stop_ring(now, reason)

    def set_polarity(self, reversed_):
        self.reversed = reversed_
        if not self.rm:
            self.fr = reversed_

    def _stop_ring(self, now, reason):
        self.steps = None
        self.rm = False
        self.fr = self.reversed
        self._emit(T_RING, now, bytes((0, reason)))

    def _ring_tick(self, now, steps):
        while tdiff(now, self.step_at) >= steps[self.step]:
            self.step_at = tadd(self.step_at, steps[self.step])
            self.step = (self.step + 1) % len(steps)
            on = not (self.step & 1)
            if on:
                self.burst_at = self.step_at
            if on != self.rm:
                self.rm = on
                self._emit(T_RING, self.step_at, bytes((1 if on else 0, RING_CADENCE)))
        if self.rm:
            # half periods of the ring wave since the burst began (freq in centihertz)
            phase = (tdiff(now, self.burst_at) * self.freq // 50000) & 1
            self.fr = self.reversed != bool(phase)
        else:
            self.fr = self.reversed

    def _emit(self, ftype, t, payload):
        self.out.append((ftype, self.port, t, payload))


class FxoLine:
    def __init__(self, port, out):
        self.port = port
        self.out = out
        self.rd = False  # input: ring detect (opto), True = conducting
        self.lc = False  # input: loop current present
        self.pol = False  # input: line polarity reversed
        self.oh = False  # output: hook relay, True = seized
        self.configure(40, 150, 10, 70, 20, 30)
        self.started = False
        self.rd_prev = False
        self.run_at = None  # first rising edge of the current run, or None
        self.edges = 0
        self.last_edge = 0
        self.ring_on = False

    def configure(self, ring_min, ring_off, rd_period_min, rd_period_max, polarity_debounce,
                  loop_debounce):
        self.ring_min = ring_min
        self.ring_off = ring_off
        self.rd_period_min = rd_period_min
        self.rd_period_max = rd_period_max
        self.pol_in = Debounce(polarity_debounce)
        self.lc_in = Debounce(loop_debounce)
        self.started = False

    def flags(self):
        return (1 if self.oh else 0) | (2 if self.lc_in.level else 0) \
            | (4 if self.ring_on else 0) | (8 if self.pol_in.level else 0)

    def seize(self, seized):
        self.oh = seized

    def tick(self, now):
        if not self.started:  # the first sample is the state, not a change
            self.started = True
            for inp, value in ((self.pol_in, self.pol), (self.lc_in, self.lc)):
                inp.level = inp.raw = value
        if self.pol_in.sample(self.pol, now):
            self._emit(T_LINE_POLARITY, self.pol_in.at, b"\x01" if self.pol_in.level else b"\x00")
        if self.lc_in.sample(self.lc, now):
            self._emit(T_LOOP, self.lc_in.at, b"\x01" if self.lc_in.level else b"\x00")
        rd = self.rd
        if rd and not self.rd_prev:
            self._rising(now)
        self.rd_prev = rd
        if self.run_at is None:
            return
        quiet = tdiff(now, self.last_edge)
        if self.ring_on:
            if quiet > self.ring_off:
                self.ring_on = False
                self.run_at = None
                self._emit(T_FXO_RING, self.last_edge, b"\x00")
        elif quiet > self.rd_period_max:
            self.run_at = None  # activity that stopped before it was a ring
        elif self.edges >= RD_MIN_EDGES and tdiff(now, self.run_at) >= self.ring_min:
            self.ring_on = True
            self._emit(T_FXO_RING, self.run_at, b"\x01")

    def _rising(self, now):
        if self.run_at is None:
            self.run_at = now
            self.edges = 1
        else:
            period = tdiff(now, self.last_edge)
            if self.rd_period_min <= period <= self.rd_period_max:
                self.edges += 1
            elif not self.ring_on:
                self.run_at = now  # not a ring period: start over from this edge
                self.edges = 1
        self.last_edge = now

    def _emit(self, ftype, t, payload):
        self.out.append((ftype, self.port, t, payload))
