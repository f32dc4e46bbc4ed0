"""Trunk registration against kamailio (an independent registrar) with digest
authentication: the right password registers (the status says so and kamailio's location
table holds the box's contact); a wrong one is reported plainly (status "failed" with the
code, and a log line that names the trunk and says what to check), and the box keeps
working."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import Daemon, dominant_hz, sine
from tests.e2e.peers import Kamailio, Peers, box_config, trunk_to

pytestmark = pytest.mark.slow

USER, PASSWORD = "box", "s3cret"


@pytest.fixture(scope="module")
def registrar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kamailio]:
    owner = Peers(tmp_path_factory.mktemp("registrar"))
    yield owner.kamailio(USER, PASSWORD)
    owner.close()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory, registrar: Kamailio) -> Iterator[Daemon]:
    """One box, two trunks to the registrar: "office" with the right password and
    "wrongpw" with a wrong one."""
    config = box_config(trunks=[
        trunk_to("office", registrar.port, register=True, username=USER, password=PASSWORD),
        trunk_to("wrongpw", registrar.port, register=True, username=USER,
                 password="not-" + PASSWORD),
    ])
    d = Daemon(tmp_path_factory.mktemp("box"), config)
    d.wait_ready()
    yield d
    code = d.stop()
    assert code == 0, f"daemon exited {code}:\n{d.log()}"


def registration(box: Daemon, trunk: str) -> dict[str, Any]:
    reg: dict[str, Any] = box.call("status")["sip"]["trunks"][trunk]["registration"]
    return reg


def test_trunk_registers_with_digest_auth(box: Daemon, registrar: Kamailio) -> None:
    reg = box.wait_for("trunk office to register",
                       lambda: (r := registration(box, "office"))["state"] == "registered" and r,
                       timeout=15)
    assert reg["code"] == 200 and reg["expires_s"] > 0, reg
    dump = registrar.ul_dump()
    assert f"AoR: {USER}" in dump, dump
    contacts = re.findall(r"Address: (\S+)", dump)
    assert any(f"127.0.0.1:{box.sip_port}" in c for c in contacts), dump
    assert "User-Agent: minipbx" in dump, dump


def test_wrong_password_is_reported_and_named(box: Daemon) -> None:
    reg = box.wait_for("trunk wrongpw to fail",
                       lambda: (r := registration(box, "wrongpw"))["state"] == "failed" and r,
                       timeout=15)
    assert reg["code"] in (401, 403, 407), reg
    lines = [line for line in box.log().splitlines() if "registration failed" in line]
    assert any("wrongpw" in line and "check username and password" in line
               for line in lines), box.log()[-3000:]
    assert not any("office" in line for line in lines), lines
    assert registration(box, "office")["state"] == "registered"


def test_box_stays_up_and_makes_internal_calls(box: Daemon) -> None:
    box.wait_for("trunk wrongpw to fail",
                 lambda: registration(box, "wrongpw")["state"] == "failed", timeout=15)
    assert box.proc.poll() is None
    box.phone(1, "offhook")
    box.dial(1, "102")
    box.wait_for("phone 2 to ring", lambda: box.port("fxs2")["ringing"])
    box.phone(2, "offhook")
    box.wait_for("the call to connect", lambda: box.port("fxs1")["with"] == "fxs2")
    box.speak(2, sine(1000, 1.5))
    assert abs(dominant_hz(box.hear(1, 0.8)) - 1000) < 10
    box.phone(1, "onhook")
    box.phone(2, "onhook")
    box.wait_for("both lines idle",
                 lambda: all(p["line_state"] == "idle" for p in box.call("status")["ports"]))
