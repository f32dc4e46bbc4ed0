# The MCU side of the host link (board/PROTOCOL.md section 4). Pure, time as an argument.
#
# Unconnected: HELLO every HELLO_INTERVAL, and at once on HELLO_REQ; sequenced frames are
# refused with NAK NOT_CONNECTED. CONNECT with our boot_id: both sequence spaces start at
# 0, undelivered events are forgotten, and feed() reports the connection so the caller can
# send the port states. Connected: host commands are taken strictly in order (duplicates
# re-acknowledged, gaps NAKed); the caller runs them, NAKs the ones it refuses, then calls
# ack(), so one frame acknowledges them all. Events go out sequenced with at most WINDOW
# outstanding and are sent again go-back-N after RTO or a NAK OUT_OF_ORDER; a NAK with
# another reason is the host refusing an event: counted, taken as its acknowledgement,
# never sent again. No valid frame from the host for HOST_SILENCE: poll() says so once and
# the link is unconnected again (the caller puts the lines in their safe state).

from micropython import const

import struct

from lines import tadd, tdiff
from proto import (
    NAK_NOT_CONNECTED,
    NAK_OUT_OF_ORDER,
    SEQUENCED,
    T_ACK,
    T_CONNECT,
    T_HELLO,
    T_HELLO_REQ,
    T_KEEPALIVE,
    T_NAK,
    Deframer,
    encode,
)

HELLO_INTERVAL = const(500)
KEEPALIVE_INTERVAL = const(500)
HOST_SILENCE = const(2000)
RTO = const(100)
NAK_HOLDOFF = const(20)
WINDOW = const(8)
MAX_QUEUED = const(48)  # events waiting behind the window

CONNECTED = const(0x103)  # returned by feed() in place of a command: CONNECT was taken


class Link:
    def __init__(self, boot_id, hello_body, now):
        self.boot_id = boot_id
        self.hello_body = hello_body  # hello_body(now) -> bytes
        self.deframer = Deframer()
        self.out = bytearray()
        self.connected = False
        self.dropped = 0  # events lost to a full queue, not yet reported
        self.refused = 0  # events the host refused with a NAK (a bug of ours, counted)
        self.last_rx = now
        self.last_tx = now
        self.keepalive_at = now
        self.hello_at = now
        self.go_back_at = now
        self.ack_due = False
        self._reset()
        self.hello_at = tadd(now, -HELLO_INTERVAL)  # the first HELLO goes on the first poll

    def _reset(self):
        self.tx_next = 0
        self.rx_expected = 0
        self.unacked = []  # [seq, type, body, sent_at]
        self.queued = []  # (type, body)

    # --- input ----------------------------------------------------------------------------
    def feed(self, data, now):
        # Returns the host commands to execute, in order, as (type, seq, body); CONNECTED
        # stands in the list where a CONNECT was taken.
        taken = []
        ack_due = self.ack_due
        for ftype, seq, ack, body in self.deframer.feed(data):
            if ftype == T_HELLO_REQ:
                self._send_hello(now)
                continue
            if ftype == T_CONNECT:
                if len(body) == 2 and (body[0] | body[1] << 8) == self.boot_id:
                    self.connected = True
                    self._reset()
                    self.last_rx = now
                    taken.append((CONNECTED, 0, b""))
                else:
                    self._send_hello(now)
                continue
            if not self.connected:
                if ftype >= SEQUENCED:
                    self._send(T_NAK, 0, bytes((seq, NAK_NOT_CONNECTED)), now)
                continue
            self.last_rx = now
            if ftype >= SEQUENCED:
                d = (seq - self.rx_expected) & 0xFF
                if d == 0:
                    self.rx_expected = (self.rx_expected + 1) & 0xFF
                    taken.append((ftype, seq, body))
                    ack_due = True
                elif d >= 128:
                    ack_due = True  # a duplicate: our ACK was lost
                else:
                    self._send(T_NAK, 0, bytes((seq, NAK_OUT_OF_ORDER)), now)
                    ack_due = False
            elif ftype == T_NAK and len(body) == 2 and body[1] == NAK_OUT_OF_ORDER:
                self._acked(ack, now)
                if tdiff(now, self.go_back_at) >= NAK_HOLDOFF:
                    self._go_back(now)
                continue
            elif ftype == T_NAK and len(body) == 2:
                # The host refused one of our events (PROTOCOL.md 3.2): it took it all the
                # same, so the NAK acknowledges it and every earlier one. Count it; never
                # send it again.
                self.refused += 1
                self._acked(body[0], now)
            self._acked(ack, now)
        self.ack_due = ack_due
        return taken

    def ack(self, now):
        # After the commands feed() returned have run: acknowledge them, unless a frame
        # sent meanwhile (a NAK, an event) already carried the acknowledgement.
        if self.ack_due:
            self._send(T_ACK, 0, b"", now)

    def nak(self, seq, reason, now):
        # Refuse a command that feed() returned (it still counts as received).
        self._send(T_NAK, 0, bytes((seq, reason)), now)

    def _acked(self, ack, now):
        unacked = self.unacked
        if unacked:
            n = ((ack - unacked[0][0]) & 0xFF) + 1
            if n <= len(unacked):
                del unacked[:n]
        while self.queued and len(unacked) < WINDOW:
            ftype, body = self.queued.pop(0)
            self._send_new(ftype, body, now)

    # --- output ---------------------------------------------------------------------------
    def queue(self, ftype, body, now):
        # Send an event now if the window has room, else queue it; drop when disconnected.
        if not self.connected:
            return
        if len(self.unacked) < WINDOW:
            self._send_new(ftype, body, now)
        elif len(self.queued) < MAX_QUEUED:
            self.queued.append((ftype, body))
        else:
            self.dropped += 1

    def poll(self, now):
        # Timers; True once when the host has gone silent (the link is now unconnected).
        if not self.connected:
            if tdiff(now, self.hello_at) >= HELLO_INTERVAL:
                self._send_hello(now)
            return False
        if tdiff(now, self.last_rx) >= HOST_SILENCE:
            self.connected = False
            self._reset()
            self._send_hello(now)
            return True
        if self.unacked and tdiff(now, self.unacked[0][3]) >= RTO:
            self._go_back(now)
        if tdiff(now, self.keepalive_at) >= KEEPALIVE_INTERVAL:
            self.keepalive_at = now
            self._send(T_KEEPALIVE, 0, struct.pack("<I", now), now)
        return False

    def take_output(self):
        if not self.out:
            return b""  # the common case: no allocation in the sampling loop
        data = bytes(self.out)
        self.out = bytearray()
        return data

    def _send_new(self, ftype, body, now):
        seq = self.tx_next
        self.tx_next = (seq + 1) & 0xFF
        self.unacked.append([seq, ftype, body, now])
        self._send(ftype, seq, body, now)

    def _go_back(self, now):
        self.go_back_at = now
        for item in self.unacked:
            item[3] = now
            self._send(item[1], item[0], item[2], now)

    def _send_hello(self, now):
        self.hello_at = now
        self._send(T_HELLO, 0, self.hello_body(now), now)

    def _send(self, ftype, seq, body, now):
        self.ack_due = False  # every frame carries the acknowledgement
        self.out.extend(encode(ftype, seq, (self.rx_expected - 1) & 0xFF, body))
        self.last_tx = now

