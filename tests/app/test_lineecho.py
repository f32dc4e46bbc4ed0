"""The line echo canceller in a line's media path (firmware/app/lineecho.py) around a
simulated handset with a 2-wire hybrid (drivers/sim/hybrid.py): frames go through read and
write as a line port moves them, one 20 ms frame a tick."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.sim.fxs import SimFxsPort
from drivers.sim.hybrid import SimHybrid, hybrid_from_env
from firmware.app.lineecho import LineEcho
from tests.dsp import echo_material as m

FRAME = 160


def _noise(seconds: float, dbm0: float, seed: int) -> np.ndarray:
    samples = m.noise(int(seconds * 8000), dbm0, seed)
    return np.clip(np.rint(samples), -32768, 32767).astype("<i2")


def _talk(port: SimFxsPort, echo: LineEcho, far: np.ndarray) -> np.ndarray:
    """Tick by tick as the Python port does: the line is read, then what it hears written.
    Returns what the bridge got from the line."""
    got = []
    for a in range(0, far.size, FRAME):
        got.append(np.frombuffer(echo.read(), "<i2"))
        echo.write(far[a:a + FRAME].tobytes())
    return np.concatenate(got).astype(np.float64)


def _power_db(x: np.ndarray) -> float:
    return 10.0 * float(np.log10(np.mean(x * x) + 1e-9))


@pytest.fixture
def handset() -> SimFxsPort:
    port = SimFxsPort(1)
    port._line_offhook = True  # lifted: the microphone is on the line
    return port


@pytest.mark.parametrize(("tail_ms", "erl_db"), [(8, 6.0), (32, 10.0), (64, 20.0)])
def test_active_canceller_removes_the_hybrids_echo(handset: SimFxsPort, tail_ms: int,
                                                   erl_db: float) -> None:
    handset.set_hybrid(tail_ms, erl_db, seed=3)
    far = _noise(4.0, -20.0, 1)
    plain = LineEcho("fxs1", handset.read_frame, handset.write_frame, enabled=False)
    without = _talk(handset, plain, far)
    handset.set_hybrid(tail_ms, erl_db, seed=3)
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    echo.set_active(True)
    with_ec = _talk(handset, echo, far)
    late = slice(2 * 8000, None)
    returned = _power_db(without[late])
    assert returned > -20.0 - erl_db - 3.0  # the hybrid does return echo
    assert returned - _power_db(with_ec[late]) >= 30.0
    status = echo.status()
    assert status["active"] and status["converged"] and status["erle_db"] > 20.0


def test_inactive_line_passes_what_it_says_untouched(handset: SimFxsPort) -> None:
    handset.set_hybrid(16, 6.0)
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    talk = _noise(0.2, -15.0, 2).tobytes()
    handset.speak(talk)
    said = b"".join(echo.read() for _ in range(10))
    assert said == talk
    assert echo.status() == {"enabled": True, "active": False, "tail_ms": 64}


def test_disabled_line_never_becomes_active(handset: SimFxsPort) -> None:
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    echo.configure(False, 32)
    echo.set_active(True)
    assert not echo.active
    echo.configure(True, 32)
    echo.set_active(True)
    assert echo.active and echo.status()["tail_ms"] == 32


def test_a_new_call_starts_afresh(handset: SimFxsPort) -> None:
    handset.set_hybrid(32, 10.0)
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    echo.set_active(True)
    _talk(handset, echo, _noise(2.0, -20.0, 4))
    assert echo.status()["converged"]
    echo.set_active(False)
    echo.set_active(True)
    echo.read()
    assert echo.frames == 1 and not echo.status()["converged"]


def test_references_do_not_pile_up_on_a_line_nobody_reads(handset: SimFxsPort) -> None:
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    echo.set_active(True)
    for _ in range(100):
        echo.write(bytes(2 * FRAME))
    assert len(echo._reference) <= 5


def test_the_simulated_hybrid_returns_echo_at_its_loss() -> None:
    hybrid = SimHybrid(32, 12.0, seed=2)
    far = _noise(2.0, -10.0, 5)
    back = []
    for a in range(0, far.size, FRAME):
        hybrid.sent(far[a:a + FRAME].tobytes())
        back.append(np.frombuffer(hybrid.returned(bytes(2 * FRAME)), "<i2"))
    echo = np.concatenate(back).astype(np.float64)
    loss = _power_db(far.astype(np.float64)) - _power_db(echo)
    assert abs(loss - 12.0) < 1.0


@pytest.mark.parametrize("text", ["32", "x:1", "200:10", "32:-5"])
def test_a_bad_hybrid_setting_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match=r"MINIPBX_SIM_HYBRID|simulated hybrid"):
        hybrid_from_env({"MINIPBX_SIM_HYBRID": text})


def test_hybrid_from_the_environment() -> None:
    hybrid = hybrid_from_env({"MINIPBX_SIM_HYBRID": "24:9"})
    assert hybrid is not None and hybrid.describe() == {"tail_ms": 24, "erl_db": 9.0}
    assert hybrid_from_env({}) is None


def test_status_text_shows_an_active_canceller() -> None:
    from firmware.app.status_text import echo_text, format_status

    echo = {"enabled": True, "active": True, "tail_ms": 64, "erl_db": 12.3, "erle_db": 41.6,
            "converged": True, "double_talk": False, "nlp_active": True, "seconds": 3.0}
    assert echo_text(echo) == "echo canceller converged: ERLE 42 dB, ERL 12 dB"
    assert echo_text({"active": True}) == "echo canceller on"
    port = {"leg": "fxs1", "extension": "101", "kind": "fxs", "hook": "off",
            "line_state": "talking", "with": "sip-3", "echo": echo}
    text = format_status({"ports": [port], "sip": {}})
    assert "in call with sip-3 echo canceller converged: ERLE 42 dB" in text
    port["echo"] = {"enabled": True, "active": False, "tail_ms": 64}
    assert "echo canceller" not in format_status({"ports": [port], "sip": {}})


def test_a_changed_echo_path_is_learnt_again_on_the_line(handset: SimFxsPort) -> None:
    """The hybrid changes mid-call (another path, and 20 ms more delay: the new hybrid
    starts with no frame queued); within 2 s the echo is 30 dB down again."""
    handset.set_hybrid(32, 10.0, seed=3)
    echo = LineEcho("fxs1", handset.read_frame, handset.write_frame)
    echo.set_active(True)
    _talk(handset, echo, _noise(3.0, -20.0, 6))
    handset.set_hybrid(32, 10.0, seed=8)
    far = _noise(4.0, -20.0, 7)
    plain = SimFxsPort(2)
    plain._line_offhook = True
    plain.set_hybrid(32, 10.0, seed=8)
    without = _talk(plain, LineEcho("fxs2", plain.read_frame, plain.write_frame), far)
    with_ec = _talk(handset, echo, far)
    late = slice(2 * 8000, None)
    assert _power_db(without[late]) - _power_db(with_ec[late]) >= 30.0
    assert echo.status()["converged"]  # the linear filter, not only the NLP


class _Switch:
    def __init__(self) -> None:
        self.pairs: set[frozenset[str]] = set()

    def partners(self, leg: str) -> set[str]:
        return {x for p in self.pairs if leg in p for x in p if x != leg}


def test_the_box_runs_it_on_calls_that_leave_the_box_and_afresh_per_call() -> None:
    """Box._sync_echo's rule: a handset with a SIP partner or an FXO line, an FXO line
    with any partner; never two handsets; a new partner restarts the canceller."""
    from types import SimpleNamespace

    from firmware.app.box import Box

    legs = ("fxs1", "fxs2", "fxo1")
    echo = {leg: LineEcho(leg, lambda: bytes(2 * FRAME), lambda f: None) for leg in legs}
    switch = _Switch()
    box = SimpleNamespace(echo=echo, switch=switch, fxo={"fxo1": None}, _on_bridge=set(legs))

    def sync(*pairs: tuple[str, str]) -> dict[str, bool]:
        switch.pairs = {frozenset(p) for p in pairs}
        Box._sync_echo(box)  # type: ignore[arg-type]
        return {leg: e.active for leg, e in echo.items()}

    assert sync(("fxs1", "fxs2")) == {"fxs1": False, "fxs2": False, "fxo1": False}
    assert sync(("fxs1", "sip-1")) == {"fxs1": True, "fxs2": False, "fxo1": False}
    first = echo["fxs1"]._canceller
    echo["fxs1"].read()  # the reset happens at the next frame
    assert not echo["fxs1"]._fresh
    assert sync(("fxs1", "sip-2")) == {"fxs1": True, "fxs2": False, "fxo1": False}
    assert echo["fxs1"]._fresh and echo["fxs1"]._canceller is first  # afresh, same object
    assert sync(("fxs2", "fxo1")) == {"fxs1": False, "fxs2": True, "fxo1": True}
    echo["fxs2"].configure(False, 64)
    assert sync(("fxs2", "fxo1")) == {"fxs1": False, "fxs2": False, "fxo1": True}
    assert sync() == {"fxs1": False, "fxs2": False, "fxo1": False}
