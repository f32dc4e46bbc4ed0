"""Bad input from a person: a broken configuration stops `minipbx run` with the file, line
and key; commands that name what does not exist, bad WAV files and a missing daemon each
give one clear line and a non-zero exit, never a traceback. None of it disturbs a call."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import MINIPBX, ROOT, Daemon, dominant_hz, sine

pytestmark = pytest.mark.slow


def minipbx(*args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    pre = ["--state-dir", str(state)] if state is not None else []
    return subprocess.run([*MINIPBX, *pre, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_broken_config_names_file_line_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[box]\ncountry = "us"\n\n[[fxs]]\nport = 1\nextension = "101"\n'
                   'flash_max_ms = 50\n')
    result = minipbx("run", "--config", str(cfg), state=tmp_path / "s")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{cfg}:7:" in result.stderr
    assert "fxs[0].flash_max_ms" in result.stderr


def test_toml_syntax_error_is_located(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[box]\ncountry = "us\n')
    result = minipbx("run", "--config", str(cfg), state=tmp_path / "s")
    assert result.returncode == 2
    assert f"{cfg}:2" in result.stderr and "Traceback" not in result.stderr


def test_no_daemon(tmp_path: Path) -> None:
    line = one_clear_line(minipbx("status", state=tmp_path / "nobody"))
    assert "no minipbx daemon is running" in line


def test_commands_that_name_nothing_and_bad_files(box: Daemon, tmp_path: Path) -> None:
    state = box.state
    assert "no simulated phone 9" in one_clear_line(minipbx("sim", "phone", "9", "offhook",
                                                            state=state))
    assert "no simulated line 4" in one_clear_line(minipbx("sim", "line", "4", "hangup",
                                                           state=state))
    missing = tmp_path / "missing.wav"
    assert str(missing) in one_clear_line(minipbx("sim", "phone", "1", "play", str(missing),
                                                  state=state))
    not_wav = tmp_path / "notes.wav"
    not_wav.write_text("this is not audio")
    assert str(not_wav) in one_clear_line(minipbx("sim", "phone", "1", "play", str(not_wav),
                                                  state=state))
    line = one_clear_line(minipbx("sim", "phone", "1", "dial", "12x", state=state))
    assert "12x" in line


def test_mistakes_do_not_disturb_a_call(box: Daemon, tmp_path: Path) -> None:
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(2, "offhook")
    box.wait_for("the call", lambda: box.port("fxs1")["with"] == "fxs2")
    # Someone else's mistakes while the call is up: a raw garbage request on the control
    # socket, an unknown command, a bad argument.
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(box.state / "control.sock"))
        s.sendall(b"\xff\xfe not json\n{\"cmd\": 5}\n")
        reply = s.recv(4096)
    assert b'"ok": false' in reply
    for args in (("sim", "phone", "7", "flash"), ("sim", "phone", "1", "record", "x.wav",
                                                  "--seconds", "0")):
        assert minipbx(*args, state=box.state).returncode != 0
    box.speak(2, sine(1000, 1.5))
    assert abs(dominant_hz(box.hear(1, 0.8)) - 1000) < 10
    box.phone(1, "onhook")
    box.phone(2, "onhook")


def test_signal_command_bad_wav(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.wav"
    ok = tmp_path / "ok.wav"
    assert minipbx("signal", "generate", "dtmf", "123", "-o", str(ok)).returncode == 0
    truncated.write_bytes(ok.read_bytes()[:30])
    line = one_clear_line(minipbx("signal", "detect", "dtmf", str(truncated)))
    assert str(truncated) in line


def test_sip_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        cfg = tmp_path / "c.toml"
        cfg.write_text(f"[sip]\nport = {port}\n[[fxs]]\nport = 1\nextension = \"101\"\n")
        result = minipbx("run", "--config", str(cfg), state=tmp_path / "s")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"cannot listen for SIP on udp 127.0.0.1:{port}" in result.stderr


def test_make_run_command_line_parses() -> None:
    """The exact command `make run` uses, and the README's order of options."""
    from firmware.app.cli import build_parser

    makefile = (ROOT / "Makefile").read_text()
    line = next(ln for ln in makefile.splitlines() if "minipbx --state-dir" in ln)
    argv = line.split("minipbx", 1)[1].replace("$(STATE)", ".state").split()
    args = build_parser().parse_args(argv)
    assert args.board == "sim" and str(args.state_dir) == ".state"
    args = build_parser().parse_args(["run", "--state-dir", "/x", "--board", "sim"])
    assert str(args.state_dir) == "/x"
