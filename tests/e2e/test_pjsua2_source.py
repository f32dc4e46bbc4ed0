"""Proof of pjsua2 built from source (`make pjsua2`, tools/pjsua2/): 16 simultaneous SIP calls
with audio, TLS 1.3 against `openssl s_server -tls1_3` and between two boxes, an Opus call
with baresip, the SIP screen's C symbols, and what `minipbx status` says of the library.

These run only where the source build is installed (`PJSUA2=source make test`); with the
PyPI wheel they skip, saying so. Under PJSUA2=source a missing source build is an error,
not a skip, so the proof cannot silently not run."""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.media.wavfile import read_wav
from tests.e2e.harness import Daemon, dominant_hz, free_even_port, free_port, level_dbfs, sine
from tests.e2e.peers import Peers, box_config, trunk_to
from tests.e2e.test_sip_transports import BOX_A, BOX_B, tls_lines

ROOT = Path(__file__).resolve().parents[2]


def installed_build() -> str:
    names = {(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()}
    if "pjsua2" in names and "pjsua2-python" not in names:
        return "source"
    if "pjsua2-python" in names and "pjsua2" not in names:
        return "wheel"
    return "mixed" if names >= {"pjsua2", "pjsua2-python"} else "none"


BUILD = installed_build()
if os.environ.get("PJSUA2") == "source" and BUILD != "source":
    raise RuntimeError(f"PJSUA2=source, but this venv has the {BUILD} pjsua2 installed "
                       "(tools/pjsua2/use.sh source)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BUILD != "source",
                       reason=f"needs pjsua2 built from source (installed: {BUILD}); "
                              "run PJSUA2=source make test"),
]


def test_sixteen_simultaneous_calls_with_audio(peers: Peers, tmp_path: Path) -> None:
    sipp, port = peers.sipp_uas(calls=16)
    out = tmp_path / "calls"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "tests.e2e.pjsua2_calls", f"127.0.0.1:{port}",
                           "16", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["library"]["build"] == "source"
    assert result["library"]["max_calls"] >= 32
    assert "error" not in result, result["error"]
    assert result["confirmed_together"] == 16, (result, sipp.describe())
    assert result["still_up"] == 16
    for call in result["calls"]:
        samples, rate = read_wav(call["wav"]).samples, 8000
        echoed = samples[rate:]  # past the first second (set-up, jitter buffer)
        assert len(echoed) >= rate, f"call {call['i']}: less than a second recorded"
        assert level_dbfs(echoed) > -40, f"call {call['i']}: silence came back"
        assert abs(dominant_hz(echoed, rate) - call["tone_hz"]) < 15, \
            f"call {call['i']}: heard {dominant_hz(echoed, rate):.0f} Hz, sent {call['tone_hz']}"
    assert sipp.wait(30) == 0, sipp.describe()


def tls_box(daemon_factory: Callable[..., Daemon], tmp_path: Path, peer_port: int) -> Daemon:
    tls = tls_lines(tmp_path)
    return daemon_factory(BOX_A.format(transport="tls", rtp=free_even_port(), tls=tls,
                                       b_port=peer_port), name="a")


def test_tls13_against_openssl_s_server(daemon_factory: Callable[..., Daemon],
                                        tmp_path: Path) -> None:
    """openssl's own server, TLS 1.3 only: the box's INVITE arrives through it, so the
    handshake was TLS 1.3 (the wheel's OpenSSL 1.0.2 cannot do this one)."""
    key, cert = tmp_path / "srv-key.pem", tmp_path / "srv-cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    port = free_port(socket.SOCK_STREAM)
    log = (tmp_path / "s_server.log").open("wb")
    server = subprocess.Popen(["openssl", "s_server", "-tls1_3", "-accept",
                               f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key),
                               "-naccept", "1"], stdin=subprocess.PIPE, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        a = tls_box(daemon_factory, tmp_path, port)
        a.phone(1, "offhook")
        a.dial(1, "85552000")
        seen = a.wait_for("the INVITE at s_server", lambda: b"INVITE sip:" in
                          (tmp_path / "s_server.log").read_bytes(), timeout=20)
        assert seen
        text = (tmp_path / "s_server.log").read_text(errors="replace")
        assert "CIPHER is TLS_" in text, text[-2000:]  # a TLS 1.3 suite name
        # s_server never answers the INVITE: closing it fails the call at once, so the
        # daemon stops with no call in progress.
        server.kill()
        a.wait_for("the call to fail", lambda: not a.call("status")["sip"]["calls"],
                   timeout=40)
        a.phone(1, "onhook")
    finally:
        server.kill()
        server.wait()
        log.close()


def test_tls13_between_two_boxes(daemon_factory: Callable[..., Daemon], tmp_path: Path) -> None:
    """Box A calls box B over TLS; tshark reads the version the two agreed on from the
    ServerHello, and the call carries audio."""
    tls = tls_lines(tmp_path)
    b: Daemon = daemon_factory(BOX_B.format(transport="tls", rtp=free_even_port(), tls=tls),
                               name="b")
    b_port = int(b.call("status")["sip"]["listen"]["tls"].rsplit(":", 1)[1])
    cap = tmp_path / "tls.pcapng"
    shark = subprocess.Popen(["tshark", "-q", "-i", "lo", "-f", f"tcp port {b_port}", "-w",
                              str(cap)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(2)  # tshark opens the interface
        a = tls_box(daemon_factory, tmp_path, b_port)
        a.phone(1, "offhook")
        a.dial(1, "85552000")
        b.wait_for("box B's phone to ring", lambda: b.port("fxs1")["ringing"], timeout=15)
        b.phone(1, "offhook")
        a.wait_for("the call to connect", lambda: a.port("fxs1")["with"] is not None)
        b.speak(1, sine(900, 2.0))
        assert abs(dominant_hz(a.hear(1, 0.8)) - 900) < 10
        a.phone(1, "onhook")
        b.phone(1, "onhook")
        time.sleep(1)
    finally:
        shark.terminate()
        shark.wait(10)
    fields = subprocess.run(["tshark", "-r", str(cap), "-d", f"tcp.port=={b_port},tls", "-Y",
                             "tls.handshake.type == 2", "-T", "fields", "-e",
                             "tls.handshake.extensions.supported_version"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert fields, "no ServerHello captured"
    assert set(fields) == {"0x0304"}, fields  # TLS 1.3


def test_opus_call_with_baresip(daemon_factory: Callable[..., Daemon], peers: Peers) -> None:
    """baresip offers Opus and nothing else; the call connects and its 440 Hz reaches the
    handset through the Opus decoder and the bridge's resampling."""
    bare = peers.baresip(tone_hz=440, codec="opus")
    box = daemon_factory(box_config(trunks=[trunk_to("far", bare.sip_port)],
                                    inbound=[{"did": "5551000", "extension": "101"}]))
    reply = bare.ctrl.command("dial", f"sip:5551000@127.0.0.1:{box.sip_port}")
    assert reply["ok"], reply
    box.wait_for("phone 1 to ring", lambda: box.port("fxs1")["ringing"], timeout=10)
    box.phone(1, "offhook")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    heard = box.hear(1, 1.0)
    assert level_dbfs(heard) > -30
    assert abs(dominant_hz(heard) - 440) < 10
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    assert "opus" in bare.output().lower()


def test_status_names_the_source_build(daemon_factory: Callable[..., Daemon]) -> None:
    box = daemon_factory(box_config())
    lib = box.call("status")["sip"]["library"]
    assert lib["build"] == "source"
    assert lib["max_calls"] == 64
    assert lib["tls"] == ["1.2", "1.3"] and lib["openssl"].startswith("OpenSSL 3.")
    assert "opus/48000/2" in lib["codecs"] and "G729/8000/1" in lib["codecs"]
    text = subprocess.run([sys.executable, "-m", "firmware.app.cli", "--state-dir",
                           str(box.state), "status"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout
    assert "pjsua2: 2.15.1 (source build), 64 calls at most, TLS 1.2/1.3" in text


def test_screen_symbols_resolve_in_the_source_build(daemon_factory: Callable[..., Daemon]
                                                    ) -> None:
    """The SIP screen (firmware/sip/screen.py) calls pjsip's C API in the module through
    ctypes; its start-up probe must find them in the source build too."""
    box = daemon_factory(box_config())
    screen = box.call("status")["sip"]["screen"]
    assert screen["state"] == "on", screen

