"""The line ports on the bridge (issue 13.1): native C ports by default, and the Python
AudioMediaPort when the start-up check fails (here: the library claims another pjproject
version), with audio through an internal call, dial tone and caller ID either way."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import default_config_text
from tests.e2e.harness import Daemon, dominant_hz, level_dbfs, sine, tones_in

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MISMATCH = {"MINIPBX_LINEPORT_EXPECT_VERSION": "2.14.0"}


@pytest.fixture(scope="module", params=["native", "fallback"])
def daemon(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Daemon]]:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)
    env = MISMATCH if request.param == "fallback" else {}
    d = Daemon(tmp_path_factory.mktemp(request.param), default_config_text(),
               extra_args=["--board", "sim"], env=env)
    d.wait_ready()
    yield request.param, d
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


def test_status_says_which_port_kind_and_why(daemon: tuple[str, Daemon]) -> None:
    kind, box = daemon
    ports = box.call("status")["line_ports"]
    if kind == "native":
        assert ports["kind"] == "native"
        assert "2.15.1" in ports["why"]
    else:
        assert ports["kind"] == "python"
        assert "2.14.0" in ports["why"] and "2.15.1" in ports["why"]
        assert "Python AudioMediaPort" in box.log()


def test_call_carries_audio_both_ways(daemon: tuple[str, Daemon]) -> None:
    _, box = daemon
    box.phone(1, "offhook")
    assert "dial" in tones_in(box.hear(1, 0.6))
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    status = box.wait_for("caller ID on phone 2",
                          lambda: (s := box.phone_status(2))["caller_id"] and s, timeout=8)
    assert status["caller_id"]["number"] == "101"
    box.phone(2, "offhook")
    box.wait_for("the call to connect", lambda: box.port("fxs1")["with"] == "fxs2")
    box.speak(2, sine(1000, 2.0))
    heard_by_1 = box.hear(1, 1.0)
    assert abs(dominant_hz(heard_by_1) - 1000) < 10
    assert level_dbfs(heard_by_1) > -30
    box.speak(1, sine(600, 2.0))
    heard_by_2 = box.hear(2, 1.0)
    assert abs(dominant_hz(heard_by_2) - 600) < 10
    assert level_dbfs(heard_by_2) > -30
    box.phone(2, "onhook")
    assert "busy" in tones_in(box.hear(1, 3.0))
    box.phone(1, "onhook")
    assert box.call("status")["audio_errors"] == 0
