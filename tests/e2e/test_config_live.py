"""Staged configuration through the real daemon: a commit changes the running box while a
call that it does not touch keeps its audio; trunks come and go live against kamailio; a
commit with a confirm time rolls back by itself; a change that needs a restart says so and
`restart` applies it; the state dir's configuration survives a restart; SIGKILL at any
moment of a commit leaves the old or the new file, whole, and the next start runs it."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.app.client import ClientError
from firmware.config import parse_config
from tests.e2e.conftest import default_config_text
from tests.e2e.harness import (
    MINIPBX,
    ROOT,
    Daemon,
    dominant_hz,
    free_port,
    level_dbfs,
    sine,
    tones_in,
)
from tests.e2e.peers import Peers, box_config, trunk_to

pytestmark = pytest.mark.slow

Factory = Callable[..., Daemon]


def cli(box: Daemon, *words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINIPBX, "--state-dir", str(box.state), *words], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def hear_each_other(box: Daemon, a: int, b: int) -> None:
    box.speak(b, sine(1000, 1.5))
    heard = box.hear(a, 0.8)
    assert abs(dominant_hz(heard) - 1000) < 10 and level_dbfs(heard) > -30
    box.speak(a, sine(600, 1.5))
    heard = box.hear(b, 0.8)
    assert abs(dominant_hz(heard) - 600) < 10 and level_dbfs(heard) > -30


def connect(box: Daemon, caller: int, callee: int, number: str) -> dict[str, object]:
    box.phone(caller, "offhook")
    box.dial(caller, number)
    ringing = box.wait_for(f"phone {callee} to ring",
                           lambda: (s := box.phone_status(callee))["ringing"] and s)
    box.phone(callee, "offhook")
    box.wait_for("the call to connect",
                 lambda: box.port(f"fxs{caller}")["with"] == f"fxs{callee}")
    return ringing


def commit(box: Daemon, **args: object) -> dict[str, object]:
    result: dict[str, object] = box.call("config.commit", **args)
    return result


def test_new_extensions_and_country_apply_live_while_a_call_keeps_its_audio(
        daemon_factory: Factory) -> None:
    box = daemon_factory(default_config_text(), extra_args=["--board", "sim"])
    connect(box, 1, 2, "102")
    hear_each_other(box, 1, 2)

    box.call("config.add", table="fxs", values=json.dumps({"port": "3", "extension": "103"}))
    box.call("config.add", table="fxs", values=json.dumps({"port": "4", "extension": "104"}))
    box.call("config.set", path="box.country", value="de")
    box.call("config.set", path="fxs.1.name", value="Desk")
    box.call("config.set", path="fxo.1.extension", value="103")
    result = commit(box, message="two more phones, German tones")
    assert result["restart_needed"] == []
    assert "fxs.3 added (103)" in result["applied"] and "country de" in result["applied"]

    # The call that was up goes on, both ways, on its old settings.
    assert box.port("fxs1")["with"] == "fxs2"
    hear_each_other(box, 1, 2)
    # The new extensions exist on the grown simulated board and ring the German way.
    ringing = connect(box, 4, 3, "103")
    assert ringing["ring_hz"] == 25.0 and ringing["ring_cadence_ms"] == [1000, 4000]
    hear_each_other(box, 4, 3)
    hear_each_other(box, 1, 2)
    # Once free, an old line runs the new country too.
    box.phone(1, "onhook")
    box.phone(2, "onhook")
    box.wait_for("line 1 rebuilt", lambda: box.port("fxs1")["line_state"] == "idle")
    time.sleep(1.0)  # the box looks at lines that were busy every half second
    box.phone(1, "offhook")
    assert "dial" in tones_in(box.hear(1, 1.5), "de")
    for port in (1, 3, 4):
        box.phone(port, "onhook")
    # The PSTN line, rebuilt for Germany, now rings the new extension 103.
    box.wait_for("every line idle",
                 lambda: all(p["line_state"] == "idle" for p in box.call("status")["ports"]))
    box.call("sim.line.ring", port=1)
    box.wait_for("phone 3 to ring for the PSTN call", lambda: box.port("fxs3")["ringing"],
                 timeout=15)
    box.call("sim.line.hangup", port=1)


def test_trunks_register_change_and_unregister_live(daemon_factory: Factory,
                                                    tmp_path: Path) -> None:
    peers = Peers(tmp_path / "peers")
    try:
        registrar = peers.kamailio("box", "s3cret")
        box = daemon_factory(box_config())

        def registration() -> str:
            trunks = box.call("status")["sip"]["trunks"]
            return str(trunks["office"]["registration"]["state"]) if "office" in trunks else ""

        trunk = trunk_to("office", registrar.port, register=True, username="box",
                         password="wrong")
        box.call("config.add", table="trunk", values=json.dumps(
            {k: json.dumps(v) if isinstance(v, bool) else str(v) for k, v in trunk.items()}))
        assert "trunk office added" in commit(box)["applied"]
        box.wait_for("the wrong password to fail", lambda: registration() == "failed",
                     timeout=15)

        box.call("config.set", path="trunk.office.password", value="s3cret")
        assert "trunk office changed" in commit(box)["applied"]
        box.wait_for("the trunk to register", lambda: registration() == "registered",
                     timeout=15)
        box.wait_for("kamailio to hold the contact",
                     lambda: f"127.0.0.1:{box.sip_port}" in registrar.ul_dump())

        box.call("config.delete", path="trunk.office")
        assert "trunk office removed" in commit(box)["applied"]
        assert "office" not in box.call("status")["sip"]["trunks"]
        box.wait_for("kamailio to drop the contact",
                     lambda: f"127.0.0.1:{box.sip_port}" not in registrar.ul_dump())
    finally:
        peers.close()


def test_commit_with_confirm_rolls_back_by_itself(daemon_factory: Factory,
                                                  tmp_path: Path) -> None:
    box = daemon_factory(default_config_text(), extra_args=["--board", "sim"])
    bad = tmp_path / "bad.toml"
    bad.write_text('[box]\nname = "x"\n[[fxs]]\nport = 1\nextension = "1a"\n')
    refused = cli(box, "config", "load", str(bad))
    assert refused.returncode == 1
    assert f"{bad}:5: fxs[0].extension: must be digits" in refused.stderr

    assert cli(box, "config", "set", "box.name", "risky").returncode == 0
    diff = cli(box, "config", "diff").stdout
    assert '-name = "minipbx"' in diff and '+name = "risky"' in diff
    done = cli(box, "config", "commit", "--confirm", "3s", "-m", "try a name")
    assert done.returncode == 0, done.stderr
    assert "v2 committed" in done.stdout and "config confirm" in done.stdout
    assert box.call("status")["name"] == "risky"
    status = cli(box, "status").stdout
    assert "confirm pending: v2 rolls back at" in status
    box.wait_for("the rollback", lambda: box.call("status")["name"] == "minipbx", timeout=15)
    history = json.loads(cli(box, "config", "history", "--json").stdout)
    assert [(h["version"], h["user"], h["running"]) for h in history][-2:] == [
        (2, "root", False), (3, "auto-rollback", True)]
    assert history[1]["message"] == "try a name"
    assert "rolled back to v1" in box.log()
    assert box.call("config.pending")["confirm_by"] is None


def test_restart_needed_is_reported_and_restart_applies_it_and_commits_survive(
        daemon_factory: Factory, tmp_path: Path) -> None:
    text = default_config_text()
    box = daemon_factory(text, extra_args=["--board", "sim"])
    pid = box.proc.pid
    new_port = free_port()
    box.call("config.set", path="sip.port", value=str(new_port))
    box.call("config.set", path="box.name", value="office")
    result = commit(box)
    assert result["restart_needed"] == ["sip.port"]
    assert box.call("status")["name"] == "office"  # applied live
    assert "restart needed for: sip.port" in cli(box, "status").stdout

    assert cli(box, "restart").stdout.strip() == "restarting"
    box.wait_for("the old run to go", lambda: "restarting" in box.log(), timeout=15)
    box.wait_ready()
    assert box.proc.pid == pid and box.proc.poll() is None
    status = box.call("status")
    assert status["sip"]["listen"]["udp"] == f"127.0.0.1:{new_port}"
    assert status["config"]["restart_needed"] == [] and status["name"] == "office"
    assert box.stop() == 0

    # A cold start with the same --config file keeps what was committed since.
    again = daemon_factory(text, name="box", extra_args=["--board", "sim"])
    assert again.call("status")["name"] == "office"
    assert "unchanged since it seeded the box" in again.log()


def test_eight_extensions_run_on_the_simulated_board(daemon_factory: Factory) -> None:
    phones = "".join(f'[[fxs]]\nport = {n}\nextension = "{200 + n}"\n' for n in range(1, 9))
    box = daemon_factory(f"[sip]\nport = 0\n{phones}", extra_args=["--board", "sim"])
    assert [p["leg"] for p in box.call("status")["ports"] if p["kind"] == "fxs"] == [
        f"fxs{n}" for n in range(1, 9)]
    connect(box, 8, 7, "207")
    hear_each_other(box, 8, 7)
    box.phone(8, "onhook")
    box.phone(7, "onhook")


def test_sigkill_during_commits_leaves_a_whole_file_that_runs(daemon_factory: Factory,
                                                             tmp_path: Path) -> None:
    text = default_config_text()
    rng = random.Random(8)
    names = {"minipbx"}
    for round_ in range(6):
        box = Daemon(tmp_path / "box", text, extra_args=["--board", "sim"])
        box.wait_ready()
        stop = threading.Event()

        def commits(box: Daemon = box, round_: int = round_,
                    stop: threading.Event = stop) -> None:
            n = 0
            while not stop.is_set():
                name = f"r{round_}n{n}"
                names.add(name)
                try:
                    box.call("config.set", path="box.name", value=name, timeout=5)
                    box.call("config.commit", message=name, timeout=5)
                except (ClientError, OSError):
                    return
                n += 1

        worker = threading.Thread(target=commits)
        worker.start()
        time.sleep(rng.uniform(0.2, 1.0))
        box.proc.send_signal(signal.SIGKILL)
        box.proc.wait(10)
        stop.set()
        worker.join(10)
        assert len(names) > 1 + round_, "no commit ran before the kill"
        live = (box.state / "config.toml").read_text()
        config = parse_config(live, "config.toml")  # whole: it parses and validates
        assert config.box.name in names
        # The next start runs it (the seed file is unchanged, so it is not read over it).
        box.stop()
        again = Daemon(tmp_path / "box", text, extra_args=["--board", "sim"])
        try:
            again.wait_ready()
            assert again.call("status")["name"] == config.box.name, again.log()
        finally:
            assert again.stop() == 0
