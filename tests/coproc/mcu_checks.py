# The MCU side of the golden vectors (board/vectors), written to run unchanged under
# MicroPython (the WebAssembly port, through tests/coproc/mpy_wasm/run.mjs) and under
# CPython (tests/coproc/test_coproc_mcu.py, with the modules loaded by the emulator's
# loader). So: no typing at run time, no dataclasses, only simple f-strings.
#
# run(mods, read_json, emit) checks everything and calls emit(line) with
# "PASS name" / "FAIL name: why" lines and a last "SUMMARY passed failed".

import struct
from binascii import unhexlify

MASK = 0x3FFFFFFF
EVENT_TYPES = {"HOOK": 0x20, "DIGIT": 0x21, "FLASH": 0x22, "RING": 0x23, "FXO_RING": 0x24,
               "LINE_POLARITY": 0x25, "LOOP": 0x26, "FAULT": 0x27, "PORT_STATE": 0x28}
EVENT_NAMES = {}
for _name in EVENT_TYPES:
    EVENT_NAMES[EVENT_TYPES[_name]] = _name


class Checks:
    def __init__(self, emit):
        self.emit = emit
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            self.emit("PASS " + name)
        else:
            self.failed += 1
            self.emit("FAIL " + name + ": " + str(why))


def event_body(ftype, f):
    # What the spec says an MCU event body holds (section 3), from a vector's fields.
    head = struct.pack("<BI", f["port"], f["t"])
    if ftype == "HOOK":
        return head + bytes((f["offhook"],))
    if ftype == "DIGIT":
        return head + bytes((ord(f["digit"]), f["pulses"]))
    if ftype == "FLASH":
        return head + struct.pack("<H", f["duration"])
    if ftype == "RING":
        return head + bytes((f["on"], f["reason"]))
    if ftype == "FXO_RING":
        return head + bytes((f["on"],))
    if ftype == "LINE_POLARITY":
        return head + bytes((f["reversed"],))
    if ftype == "LOOP":
        return head + bytes((f["present"],))
    if ftype == "FAULT":
        return head + struct.pack("<BH", f["code"], f["detail"])
    if ftype == "PORT_STATE":
        return head + bytes((f["flags"],))
    return None


def check_crc_cobs(c, mods, read_json):
    proto = mods.proto
    crc = read_json("crc.json")
    c.check("crc check value", proto.crc16(b"123456789") == int(crc["check"], 16),
            hex(proto.crc16(b"123456789")))
    for case in crc["cases"]:
        got = proto.crc16(case["ascii"].encode())
        c.check("crc of " + repr(case["ascii"]), got == int(case["crc"], 16), hex(got))
    for i, case in enumerate(read_json("cobs.json")["cases"]):
        data = unhexlify(case["data"])
        enc = unhexlify(case["encoded"])
        c.check(f"cobs encode {i}", proto.cobs_encode(data) == enc)
        c.check(f"cobs decode {i}", proto.cobs_decode(enc) == data)


def check_host_frame(c, mods, v):
    # A host->MCU vector: the MCU's deframer and command code must read what it says.
    name = "frame " + v["name"]
    frames = mods.proto.Deframer().feed(unhexlify(v["wire"]))
    if len(frames) != 1:
        c.check(name, False, f"deframed {len(frames)} frames")
        return
    ftype, seq, ack, body = frames[0]
    f = v["fields"]
    ok = seq == v["seq"] and ack == v["ack"]
    kind = v["type"]
    coproc = mods.core.Coproc(b"\x00\x00\x01", 0, 0xBEEF)
    if kind == "HELLO_REQ":
        ok = ok and ftype == 0x02 and body[0] == f["version"]
    elif kind == "CONNECT":
        ok = ok and ftype == 0x03 and struct.unpack("<H", body)[0] == f["boot_id"]
    elif kind == "KEEPALIVE":
        ok = ok and ftype == 0x04 and struct.unpack("<I", body)[0] == f["t"]
    elif kind == "ACK":
        ok = ok and ftype == 0x05 and body == b""
    elif kind == "NAK":
        ok = ok and ftype == 0x06 and tuple(body) == (f["seq"], f["reason"])
    else:
        if kind == "RING_STOP":
            coproc.lines[f["port"]].ring_start(2000, (1000, 1000), 0)
        if kind == "FXO_HOOK" and not f["seized"]:
            coproc.lines[f["port"]].seize(True)
        reason = coproc.execute(ftype, body, 0)
        line = coproc.lines[f["port"]]
        ok = ok and reason == 0
        if kind == "CFG_FXS":
            got = (line.debounce, line.break_min, line.break_max, line.make_min, line.make_max,
                   line.flash_min, line.flash_max, line.interdigit, line.pulse_map)
            want = (f["debounce"], f["break_min"], f["break_max"], f["make_min"], f["make_max"],
                    f["flash_min"], f["flash_max"], f["interdigit"], f["pulse_map"])
            ok = ok and got == want
        elif kind == "CFG_FXO":
            got = (line.ring_min, line.ring_off, line.rd_period_min, line.rd_period_max,
                   line.pol_in.ms, line.lc_in.ms)
            want = (f["ring_min"], f["ring_off"], f["rd_period_min"], f["rd_period_max"],
                    f["polarity_debounce"], f["loop_debounce"])
            ok = ok and got == want
        elif kind == "RING_START":
            ok = ok and line.freq == f["freq"] and list(line.steps) == f["steps"] and line.rm
        elif kind == "RING_STOP":
            ok = ok and line.steps is None and not line.rm
        elif kind == "POLARITY":
            ok = ok and line.reversed == bool(f["reversed"]) and line.fr == bool(f["reversed"])
        elif kind == "FXO_HOOK":
            ok = ok and line.oh == bool(f["seized"])
        else:
            ok = False
    c.check(name, ok, f"type {ftype:#04x} seq {seq} ack {ack} body {body}")


def check_mcu_frame(c, mods, v):
    # An MCU->host vector: the MCU must put exactly these bytes on the wire.
    name = "frame " + v["name"]
    proto = mods.proto
    f = v["fields"]
    kind = v["type"]
    if kind == "HELLO":
        coproc = mods.core.Coproc(bytes(f["ports"]), f["t"], f["boot_id"], f["reset_cause"],
                                  f["tick"], f["firmware"])
        body = coproc.hello_body(f["t"])
        ftype = 0x01
    elif kind == "KEEPALIVE":
        ftype, body = 0x04, struct.pack("<I", f["t"])
    elif kind == "ACK":
        ftype, body = 0x05, b""
    elif kind == "NAK":
        ftype, body = 0x06, bytes((f["seq"], f["reason"]))
    else:
        ftype, body = EVENT_TYPES[kind], event_body(kind, f)
    wire = proto.encode(ftype, v["seq"], v["ack"], body)
    c.check(name, wire == unhexlify(v["wire"]), wire)


def check_streams(c, mods, read_json, by_name):
    for s in read_json("streams.json")["streams"]:
        deframer = mods.proto.Deframer()
        got = []
        for chunk in s["chunks"]:
            got.extend(deframer.feed(unhexlify(chunk)))
        want = []
        for n in s["frames"]:
            frames = mods.proto.Deframer().feed(unhexlify(by_name[n]["wire"]))
            want.extend(frames)
        c.check("stream " + s["name"], got == want, f"{len(got)} frames, want {len(want)}")


def levels_at(runs):
    # [[level, ms], ...] as a list of (start, level) change points
    out = []
    at = 0
    for level, ms in runs:
        out.append((at, bool(level)))
        at += ms
    return out


def run_scenario(mods, sc):
    lines = mods.lines
    out = []
    if sc["kind"] == "fxs":
        line = lines.FxsLine(0, out)
        names = ("shk",)
    else:
        line = lines.FxoLine(0, out)
        names = ("rd", "lc", "pol")
    if sc.get("config"):
        line.configure(*sc["config"])
    start = sc.get("start_ms", 1000)
    scripts = {}
    for n in names:
        scripts[n] = levels_at(sc.get("inputs", {}).get(n, []))
    commands = sc.get("commands", [])
    outputs = {}
    fr_log = []
    for t in range(sc["run_ms"]):
        now = (start + t) & MASK
        for n in names:
            script = scripts[n]
            while script and script[0][0] <= t:
                setattr(line, n, script.pop(0)[1])
        for cmd in commands:
            if cmd[0] != t:
                continue
            if cmd[1] == "ring_start":
                line.ring_start(cmd[2], tuple(cmd[3]), now)
            elif cmd[1] == "ring_stop":
                line.ring_stop(now)
            elif cmd[1] == "polarity":
                line.set_polarity(bool(cmd[2]))
        line.tick(now)
        if sc["kind"] == "fxs":
            outputs[t] = {"rm": line.rm, "fr": line.fr}
            fr_log.append(line.fr)
    events = []
    for ftype, _port, t, payload in out:
        ev = [EVENT_NAMES[ftype], (t - start) & MASK]
        if ftype == 0x21:
            ev.extend((chr(payload[0]), payload[1]))
        elif ftype == 0x22:
            ev.append(payload[0] | payload[1] << 8)
        else:
            ev.extend(list(payload))
        events.append(ev)
    return events, outputs, fr_log


def check_scenarios(c, mods, read_json):
    for sc in read_json("lines.json")["scenarios"]:
        events, outputs, fr_log = run_scenario(mods, sc)
        c.check("lines " + sc["name"] + " events", events == sc["events"], events)
        for t, name, level in sc.get("outputs", []):
            got = outputs[t][name]
            c.check("lines " + sc["name"] + f" {name}@{t}", got == bool(level), got)
        for lo, hi, n in sc.get("fr_changes", []):
            got = 0
            for t in range(lo, hi):
                if fr_log[t] != fr_log[t - 1]:
                    got += 1
            c.check("lines " + sc["name"] + f" F/R changes {lo}-{hi}", got == n, got)


def check_link(c, mods):
    # The MCU's link: connect, take commands in order, drop a duplicate, NAK a gap,
    # stop ringing by itself when the host goes silent.
    proto = mods.proto
    coproc = mods.core.Coproc(b"\x00\x01", 0, 0x1234)
    coproc.tick(0)
    hello = proto.Deframer().feed(coproc.output())
    c.check("link hello at boot", len(hello) == 1 and hello[0][0] == 0x01, hello)
    coproc.receive(proto.encode(0x03, 0, 0, struct.pack("<H", 0x1234)), 1)
    coproc.tick(1)
    sent = proto.Deframer().feed(coproc.output())
    states = [f for f in sent if f[0] == 0x28]
    c.check("link connect sends port states", len(states) == 2 and states[0][1] == 0, sent)
    ring = proto.encode(0x12, 0, 1, struct.pack("<BHBHH", 0, 2500, 2, 1000, 1000))
    coproc.receive(ring, 2)
    coproc.tick(2)
    line = coproc.lines[0]
    c.check("link command taken", line.rm, line.rm)
    first = line.step_at
    coproc.receive(ring, 3)  # a retransmission: must not restart the cadence
    sent = proto.Deframer().feed(coproc.output())
    acks = [f for f in sent if f[0] == 0x05]
    c.check("link duplicate dropped and acknowledged",
            line.step_at == first and acks and acks[-1][2] == 0, sent)
    coproc.receive(proto.encode(0x13, 2, 1, b"\x00"), 4)  # seq 1 was lost
    sent = proto.Deframer().feed(coproc.output())
    naks = [f for f in sent if f[0] == 0x06]
    c.check("link gap refused with NAK out of order",
            line.rm and naks and tuple(naks[0][3]) == (2, 1), sent)
    coproc.receive(proto.encode(0x14, 1, 1, b"\x05\x01"), 5)  # bad port
    sent = proto.Deframer().feed(coproc.output())
    naks = [f for f in sent if f[0] == 0x06]
    c.check("link bad port refused", naks and tuple(naks[0][3]) == (1, 3), sent)
    check_reconnect(c, mods, coproc)
    for t in range(8, 2100):
        coproc.tick(t)
    c.check("link host silence stops ringing", not line.rm and line.steps is None
            and not coproc.link.connected, line.rm)


def check_reconnect(c, mods, coproc):
    # Section 4.2: a CONNECT while connected changes no line, forgets the events not yet
    # delivered (a RING event does not survive it), and the PORT_STATE snapshots are the
    # first events of the new connection, taken before any command that follows CONNECT.
    proto = mods.proto
    line = coproc.lines[0]
    coproc.events.append((0x20, 0, 6, b"\x01"))
    coproc.tick(6)  # sent, never acknowledged
    coproc.events.append((0x23, 0, 6, b"\x00\x00"))  # not even sent
    coproc.output()
    connect = proto.encode(0x03, 0, 255, struct.pack("<H", 0x1234))
    stop = proto.encode(0x13, 0, 255, b"\x00")
    coproc.receive(connect + stop, 7)
    coproc.tick(7)
    events = [f for f in proto.Deframer().feed(coproc.output()) if f[0] >= 0x20]
    got = [(f[0], f[1]) for f in events]
    c.check("reconnect: port states first, then the events of the new connection",
            got == [(0x28, 0), (0x28, 1), (0x23, 2)], got)
    c.check("reconnect: the line kept ringing until the command after CONNECT",
            len(events) == 3 and events[0][3][5] & 2 and events[2][3][5:7] == b"\x00\x01",
            events)
    c.check("reconnect: the command after CONNECT ran", line.steps is None and not line.rm,
            line.steps)
    ring = proto.encode(0x12, 1, 2, struct.pack("<BHBHH", 0, 2500, 2, 1000, 1000))
    coproc.receive(ring, 7)
    coproc.tick(7)
    c.check("reconnect: commands go on in order", line.rm, line.rm)


def check_refused_event(c, mods):
    # Section 3.2: the host refuses an event with NAK BAD_ARG / BAD_PORT; the MCU takes
    # the NAK as that event's acknowledgement (even when the NAK's own ack does not cover
    # it), counts it, and never sends it again.
    proto = mods.proto
    coproc = mods.core.Coproc(b"\x00\x01", 0, 0x4321)
    coproc.tick(0)
    coproc.receive(proto.encode(0x03, 0, 255, struct.pack("<H", 0x4321)), 1)
    coproc.tick(1)
    coproc.receive(proto.encode(0x05, 0, 1, b""), 2)  # the two PORT_STATEs acknowledged
    coproc.events.append((0x21, 0, 2, b"X\x01"))  # a digit no dial gives
    coproc.tick(2)
    sent = [f for f in proto.Deframer().feed(coproc.output()) if f[0] == 0x21]
    c.check("refused event sent once as seq 2", [f[1] for f in sent] == [2], sent)
    coproc.receive(proto.encode(0x06, 0, 255, bytes((2, 4))), 3)
    again = []
    for t in range(3, 400):
        coproc.tick(t)
        again.extend(f for f in proto.Deframer().feed(coproc.output()) if f[0] == 0x21)
    c.check("refused event counted and taken as acknowledged",
            coproc.link.refused == 1 and not coproc.link.unacked, coproc.link.unacked)
    c.check("refused event never sent again", again == [], again)


def run(mods, read_json, emit):
    c = Checks(emit)
    check_crc_cobs(c, mods, read_json)
    vectors = read_json("frames.json")["frames"]
    by_name = {}
    for v in vectors:
        by_name[v["name"]] = v
        if v["dir"] == "host->mcu":
            check_host_frame(c, mods, v)
        else:
            check_mcu_frame(c, mods, v)
    check_streams(c, mods, read_json, by_name)
    check_scenarios(c, mods, read_json)
    check_link(c, mods)
    check_refused_event(c, mods)
    emit(f"SUMMARY {c.passed} {c.failed}")
    return c.failed == 0
