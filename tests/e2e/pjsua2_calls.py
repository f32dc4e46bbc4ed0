"""N simultaneous SIP calls from one pjsua2 process, started the way the daemon starts it
(firmware.sip.endpoint.SipEndpoint: no threads, polled, null sound device). Each call sends
its own tone (a tone generator on the bridge) and records what comes back (a recorder).

Run as a child process (pjsua2 can abort the interpreter):
    python -m tests.e2e.pjsua2_calls TARGET N OUTDIR
TARGET is host:port of an answering peer that echoes RTP (sipp -rtp_echo). Prints one JSON
line: how many calls were confirmed at the same time, the library's facts, and per call
its tone and the WAV file of what it heard."""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import pjsua2 as pj

from firmware.sip.endpoint import SipEndpoint, TransportSpec


def tone_of(i: int) -> int:
    return 400 + 100 * i  # 400 ... 1900 Hz for 16 calls, all below 4 kHz


class EchoCall(pj.Call):  # type: ignore[misc]
    def __init__(self, acc: Any, i: int, outdir: Path) -> None:
        super().__init__(acc)
        self.i = i
        self.wav = outdir / f"call{i:02d}.wav"
        self.tone: Any = None
        self.rec: Any = None
        self.media_up = False
        self.ended = False

    def onCallState(self, prm: Any) -> None:
        try:
            if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
                self.ended = True
        except Exception as exc:
            print(f"call {self.i}: state: {exc}", file=sys.stderr)

    def onCallMediaState(self, prm: Any) -> None:
        try:
            ci = self.getInfo()
            for mi in ci.media:
                if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                    aud = self.getAudioMedia(mi.index)
                    self.tone = pj.ToneGenerator()
                    self.tone.createToneGenerator(8000, 1)
                    desc = pj.ToneDesc()
                    desc.freq1, desc.freq2 = tone_of(self.i), 0
                    desc.on_msec, desc.off_msec = 30000, 0  # a C short; the tone loops
                    desc.volume = 0
                    tones = pj.ToneDescVector()
                    tones.append(desc)
                    self.tone.play(tones, True)
                    self.tone.startTransmit(aud)
                    self.rec = pj.AudioMediaRecorder()
                    self.rec.createRecorder(str(self.wav))
                    aud.startTransmit(self.rec)
                    self.media_up = True
        except Exception as exc:  # never let an exception escape a pjsua2 callback
            print(f"call {self.i}: media: {exc}", file=sys.stderr)


def main(target: str, count: int, outdir: Path) -> int:
    endpoint = SipEndpoint("minipbx-proof")
    endpoint.add_transport(TransportSpec("udp", "127.0.0.1", 0))
    endpoint.start()
    ep = endpoint.ep
    acc = pj.Account()
    cfg = pj.AccountConfig()
    cfg.idUri = "sip:proof@127.0.0.1"
    acc.create(cfg)
    calls: list[EchoCall] = []
    result: dict[str, Any] = {"library": endpoint.library.as_dict() if endpoint.library else {}}
    try:
        for i in range(count):
            calls.append(EchoCall(acc, i, outdir))
            calls[-1].makeCall(f"sip:echo{i}@{target}", pj.CallOpParam(True))
            endpoint.poll(10)
        deadline = time.monotonic() + 30
        confirmed = 0
        while time.monotonic() < deadline:
            endpoint.poll(20)
            confirmed = sum(1 for c in calls
                            if c.getInfo().state == pj.PJSIP_INV_STATE_CONFIRMED and c.media_up)
            if confirmed == count:
                break
        result["confirmed_together"] = confirmed
        end = time.monotonic() + 3  # three seconds of audio on every call at once
        while time.monotonic() < end:
            endpoint.poll(20)
        result["still_up"] = sum(1 for c in calls
                                 if c.getInfo().state == pj.PJSIP_INV_STATE_CONFIRMED)
        result["calls"] = [{"i": c.i, "tone_hz": tone_of(c.i), "wav": str(c.wav)}
                           for c in calls]
    except pj.Error as exc:
        result["error"] = str(exc.info() if hasattr(exc, "info") else exc)
    finally:
        ep.hangupAllCalls()
        until = time.monotonic() + 10
        while time.monotonic() < until and not all(c.ended for c in calls):
            endpoint.poll(20)
        # Every Call object must be gone before libDestroy (TOOLS.md): no loop variable
        # may keep one.
        while calls:
            gone = calls.pop()
            gone.rec = gone.tone = None
            del gone
        gc.collect()
        for _ in range(10):
            endpoint.poll(10)
        acc.shutdown()
        del acc
        gc.collect()
        print(json.dumps(result), flush=True)
        endpoint.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
